"""The hosted checkout page (`session.url`): what the buyer's browser sees instead of checkout.stripe.com.

Three buttons, as plain HTML forms: Pay (with the card number typed: Stripe's test cards decide, so 4242 4242 4242
4242 pays and 4000 0000 0000 9995 is declined for insufficient funds; the session completes, 303 to success_url),
Decline (4000 0000 0000 0002: the card is declined, the page says so, the session stays open) and Cancel (303 to
cancel_url, the session stays open). `POST /pay/{id}/pay?async=1` pays with a delayed method (SEPA-like): see the
README. The page speaks the session's `locale` (`auto`: the browser's Accept-Language) when it is English, French or
German, else English.

Also Connect's hosted onboarding (`account_link.url`, instead of connect.stripe.com): two buttons, Complete
onboarding (303 to return_url) and Leave (303 to refresh_url); and the dashboard at `/`.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Any

from babel.numbers import format_currency
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from devtools.stripe_double.errors import StripeError
from devtools.stripe_double.params import ZERO_DECIMAL_CURRENCIES, format_amount
from devtools.stripe_double.store import GENERIC_DECLINE, Decline, card_outcome

if TYPE_CHECKING:
    from devtools.stripe_double.app import DoubleState

router = APIRouter(include_in_schema=False)

CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f8fa;
color:#1a1f36}main{max-width:28rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:12px;
box-shadow:0 2px 12px rgba(0,0,0,.08)}.badge{display:inline-block;font-size:.75rem;font-weight:600;
padding:.15rem .5rem;border-radius:4px;background:#ffe8cc;color:#8a4b00;margin-bottom:1rem}
h1{font-size:1.25rem;margin:.25rem 0 1rem}.item{display:flex;justify-content:space-between;gap:1rem;
padding:.5rem 0;border-bottom:1px solid #e3e8ee}.item small{display:block;color:#697386}.total{display:flex;
justify-content:space-between;font-size:1.5rem;font-weight:700;margin:1rem 0}.muted{color:#697386;font-size:.9rem}
.actions{display:grid;gap:.6rem;margin-top:1.5rem}.actions form{margin:0}label{display:block;font-size:.9rem;
font-weight:600;margin-bottom:.25rem}input{width:100%;padding:.65rem;font:inherit;border:1px solid #cfd7df;
border-radius:6px;margin-bottom:.6rem;letter-spacing:.05em}button{width:100%;padding:.75rem;
font-size:1rem;font-weight:600;border-radius:6px;border:1px solid #cfd7df;background:#fff;cursor:pointer}
button.primary{background:#635bff;border-color:#635bff;color:#fff}button.danger{color:#c0123c}
.alert{padding:.75rem 1rem;border-radius:6px;background:#fde8ec;color:#a0102f;font-weight:600;margin:1rem 0}
.notice{padding:.75rem 1rem;border-radius:6px;background:#e6f4ea;color:#1e6b35;margin:1rem 0}
a{color:#635bff}
"""


# The page's few words in the languages the marketplace speaks (a dev tool: a dict, not a catalogue).
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "badge": "TEST MODE · Stripe double", "title": "Checkout · {total}", "heading": "Pay {total}",
        "qty": "Qty {quantity} × {unit}", "total": "Total", "email": "Email: {email}", "pay": "Pay",
        "decline": "Decline", "cancel": "Cancel", "card": "Card number",
        "cards": "Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 9995 has insufficient funds; Decline simulates "
                 "4000 0000 0000 0002.",
        "invalid_card": "Your card number is invalid.", "try_again": "Try again or use another card.",
        "complete": "This payment is complete: {state}.", "paid": "paid",
        "processing": "processing (delayed payment method)", "return": "Return to the merchant",
        "expired": "This Checkout Session has expired.",
        "declined": "Your card was declined. Try again or use another card.",
        "cancelled": "Payment cancelled. You can close this window.",
    },
    "fr": {
        "badge": "MODE TEST · Double de Stripe", "title": "Paiement · {total}", "heading": "Payer {total}",
        "qty": "Qté {quantity} × {unit}", "total": "Total", "email": "E-mail : {email}", "pay": "Payer",
        "decline": "Refuser", "cancel": "Annuler", "card": "Numéro de carte",
        "cards": "Cartes de test : 4242 4242 4242 4242 paie ; 4000 0000 0000 9995 n'a pas assez de fonds ; Refuser "
                 "simule 4000 0000 0000 0002.",
        "invalid_card": "Votre numéro de carte n'est pas valide.",
        "try_again": "Réessayez ou utilisez une autre carte.",
        "complete": "Ce paiement est terminé : {state}.", "paid": "payé",
        "processing": "en cours (moyen de paiement différé)", "return": "Retour au marchand",
        "expired": "Cette session de paiement a expiré.",
        "declined": "Votre carte a été refusée. Réessayez ou utilisez une autre carte.",
        "cancelled": "Paiement annulé. Vous pouvez fermer cette fenêtre.",
    },
    "de": {
        "badge": "TESTMODUS · Stripe-Double", "title": "Bezahlung · {total}", "heading": "{total} bezahlen",
        "qty": "Menge {quantity} × {unit}", "total": "Gesamt", "email": "E-Mail: {email}", "pay": "Bezahlen",
        "decline": "Ablehnen", "cancel": "Abbrechen", "card": "Kartennummer",
        "cards": "Testkarten: 4242 4242 4242 4242 zahlt; 4000 0000 0000 9995 ist nicht gedeckt; Ablehnen simuliert "
                 "4000 0000 0000 0002.",
        "invalid_card": "Ihre Kartennummer ist ungültig.",
        "try_again": "Versuchen Sie es erneut oder verwenden Sie eine andere Karte.",
        "complete": "Diese Zahlung ist abgeschlossen: {state}.", "paid": "bezahlt",
        "processing": "in Bearbeitung (verzögerte Zahlungsmethode)", "return": "Zurück zum Händler",
        "expired": "Diese Checkout-Session ist abgelaufen.",
        "declined": "Ihre Karte wurde abgelehnt. Versuchen Sie es erneut oder verwenden Sie eine andere Karte.",
        "cancelled": "Zahlung abgebrochen. Sie können dieses Fenster schließen.",
    },
}
BABEL_LOCALES = {"en": "en", "fr": "fr_FR", "de": "de_DE"}  # Stripe's `fr` and `de` are France's and Germany's


def page_language(session: dict[str, Any], accept_language: str | None) -> str:
    """The session's `locale` (`fr-CA` counts as French, `en-GB` as English); for `auto` or none, the first of
    the browser's languages the page speaks."""
    locale = session.get("locale") or "auto"
    tags = [locale] if locale != "auto" else [
        part.split(";")[0].strip() for part in (accept_language or "").split(",")]
    for tag in tags:
        primary = tag.lower().split("-")[0]
        if primary in TEXT:
            return primary
    return "en"


def _amount(amount: int, currency: str, lang: str) -> str:
    major = Decimal(amount) if currency in ZERO_DECIMAL_CURRENCIES else Decimal(amount).scaleb(-2)
    return format_currency(major, currency.upper(), locale=BABEL_LOCALES[lang])


def _page(title: str, body: str, status: int = 200, lang: str = "en") -> HTMLResponse:
    html = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{escape(title)}</title><style>{CSS}</style>'
            f'</head><body><main><span class="badge">{escape(TEXT[lang]["badge"])}</span>{body}</main></body></html>')
    return HTMLResponse(html, status_code=status)


def render_checkout(view: dict[str, Any], request: Request, *, alert: str | None = None, notice: str | None = None,
                    status: int = 200, card: str | None = None) -> HTMLResponse:
    """The page; `alert` and `notice` are TEXT keys or, for the double's own errors, plain (English) messages;
    `card` the number typed last."""
    session = view["session"]
    lang = page_language(session, request.headers.get("accept-language"))
    text = TEXT[lang]
    sid = escape(session["id"])
    currency = session["currency"]
    rows = []
    for product, item in zip(view["products"], view["line_items"], strict=True):
        unit = _amount(item["price"]["unit_amount"], currency, lang)
        detail = text["qty"].format(quantity=item["quantity"], unit=unit) if item["quantity"] > 1 else ""
        description = f"<small>{escape(product['description'])}</small>" if product.get("description") else ""
        rows.append(f'<div class="item"><div><strong class="product-name">{escape(product["name"])}</strong>'
                    f'{description}<small>{escape(detail)}</small></div>'
                    f'<div>{escape(_amount(item["amount_total"], currency, lang))}</div></div>')
    total = _amount(session["amount_total"], currency, lang)
    total_row = (f'<div class="total"><span>{escape(text["total"])}</span>'
                 f'<span class="amount">{escape(total)}</span></div>')
    parts = [f"<h1>{escape(text['heading'].format(total=total))}</h1>", *rows, total_row]
    if session.get("customer_email"):
        parts.append(f'<p class="muted">{escape(text["email"].format(email=session["customer_email"]))}</p>')
    if alert:
        parts.append(f'<p class="alert" role="alert">{escape(text.get(alert, alert))}</p>')
    if notice:
        parts.append(f'<p class="notice" role="status">{escape(text.get(notice, notice))}</p>')
    if session["status"] == "open":
        parts.append(
            '<div class="actions">'
            f'<form method="post" action="/pay/{sid}/pay"><label for="card">{escape(text["card"])}</label>'
            f'<input id="card" name="card" inputmode="numeric" autocomplete="cc-number" '
            f'value="{escape(card or "4242 4242 4242 4242")}"><button class="primary" type="submit">'
            f'{escape(text["pay"])}</button></form>'
            f'<form method="post" action="/pay/{sid}/decline"><button class="danger" type="submit">'
            f'{escape(text["decline"])}</button></form>'
            f'<form method="post" action="/pay/{sid}/cancel"><button type="submit">{escape(text["cancel"])}</button>'
            f'</form></div><p class="muted">{escape(text["cards"])}</p>')
    elif session["status"] == "complete":
        state = text["paid"] if session["payment_status"] == "paid" else text["processing"]
        parts.append(f'<p class="notice" role="status">{escape(text["complete"].format(state=state))}</p>')
        parts.append(f'<p><a href="{escape(_success_url(session))}">{escape(text["return"])}</a></p>')
    else:
        parts.append(f'<p class="alert" role="alert">{escape(text["expired"])}</p>')
    return _page(text["title"].format(total=total), "".join(parts), status, lang)


def _success_url(session: dict[str, Any]) -> str:
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


def _not_found(session_id: str) -> HTMLResponse:
    return _page("Checkout not found", f'<h1>Something went wrong</h1><p class="alert" role="alert">No Checkout '
                                       f'Session {escape(session_id)}.</p>', status=404)


@router.get("/pay/{session_id}")
async def checkout_page(request: Request, session_id: str) -> Response:
    double: DoubleState = request.app.state.double
    try:
        return render_checkout(double.store.hosted_view(session_id), request)
    except StripeError:
        return _not_found(session_id)


@router.post("/pay/{session_id}/pay")
async def pay(request: Request, session_id: str) -> Response:
    double: DoubleState = request.app.state.double
    form = await request.form()
    delayed = (request.query_params.get("async") or form.get("async") or "") in ("1", "true", "yes")
    card = str(form.get("card") or "").strip()
    if card and not delayed:
        try:
            decline = card_outcome(card)
        except ValueError:  # Checkout refuses it on the page: nothing reaches the API
            try:
                return render_checkout(double.store.hosted_view(session_id), request, alert="invalid_card", card=card)
            except StripeError:
                return _not_found(session_id)
        if decline is not None:
            last4 = "".join(card.split())[-4:]
            return await _declined(request, session_id, lambda: double.store.decline(session_id, decline, last4=last4),
                                   decline, card)
    return await _act(request, session_id, lambda: double.store.pay(session_id, delayed=delayed),
                      lambda s: RedirectResponse(_success_url(s), status_code=303))


@router.post("/pay/{session_id}/decline")
async def decline(request: Request, session_id: str) -> Response:
    double: DoubleState = request.app.state.double
    return await _declined(request, session_id, lambda: double.store.decline(session_id), GENERIC_DECLINE, None)


async def _declined(request: Request, session_id: str, action, decline: Decline, card: str | None) -> Response:
    """The page again, saying why (Stripe's message, in English but for a generic decline) and to try again."""
    double: DoubleState = request.app.state.double

    def respond(session: dict[str, Any]) -> Response:
        text = TEXT[page_language(session, request.headers.get("accept-language"))]
        alert = "declined" if decline == GENERIC_DECLINE else f"{decline.message} {text['try_again']}"
        return render_checkout(double.store.hosted_view(session_id), request, alert=alert, card=card)
    return await _act(request, session_id, action, respond)


@router.post("/pay/{session_id}/cancel")
async def cancel(request: Request, session_id: str) -> Response:
    double: DoubleState = request.app.state.double

    def done(session: dict[str, Any]) -> Response:
        if session.get("cancel_url"):
            return RedirectResponse(session["cancel_url"], status_code=303)
        return render_checkout(double.store.hosted_view(session_id), request, notice="cancelled")
    return await _act(request, session_id, lambda: double.store.cancel(session_id), done)


async def _act(request: Request, session_id: str, action, respond) -> Response:
    double: DoubleState = request.app.state.double
    try:
        session = await run_in_threadpool(action)
    except StripeError as exc:
        if exc.code == "resource_missing":
            return _not_found(session_id)
        return render_checkout(double.store.hosted_view(session_id), request, alert=exc.message, status=409)
    return respond(session)


# -- Connect onboarding (`account_link.url` = `{public_url}/setup/e/{account}/{token}`) ---------------------------

def _link_gone(account_id: str) -> HTMLResponse:
    return _page("Link not found", f'<h1>Something went wrong</h1><p class="alert" role="alert">This onboarding link '
                                   f'for {escape(account_id)} does not exist.</p>', status=404)


@router.get("/setup/e/{account_id}/{token}")
async def onboarding_page(request: Request, account_id: str, token: str) -> Response:
    """Stripe's hosted onboarding, reduced to its outcome: two buttons. A link works once: opened again, or after
    it expired, it sends the browser to `refresh_url` (as Stripe does), where the platform makes a new one."""
    double: DoubleState = request.app.state.double
    try:
        kind, found = double.store.open_account_link(account_id, token)
    except StripeError:
        return _link_gone(account_id)
    if kind == "refresh":
        return RedirectResponse(found["refresh_url"], status_code=303)
    who = found.get("email") or found["id"]
    due = len(found["requirements"]["currently_due"])
    base = f"/setup/e/{escape(account_id)}/{escape(token)}"
    body = (f"<h1>Set up payouts</h1><p>Stripe collects the details it needs to pay <strong>{escape(who)}</strong>"
            f" ({escape(found['country'])}, {escape(found['default_currency'].upper())}).</p>"
            f'<p class="muted">Account {escape(found["id"])}: {due} requirement(s) due.</p>'
            f'<div class="actions"><form method="post" action="{base}/complete"><button class="primary" '
            f'type="submit">Complete onboarding</button></form><form method="post" action="{base}/leave">'
            f'<button type="submit">Leave</button></form></div>')
    return _page("Set up payouts", body)


@router.post("/setup/e/{account_id}/{token}/{action}")
async def onboarding_action(request: Request, account_id: str, token: str, action: str) -> Response:
    """Complete onboarding: the account can receive transfers and payouts (`account.updated`), then 303 to
    `return_url`. Leave: 303 to `refresh_url`, the account unchanged. A used or expired link: `refresh_url`."""
    double: DoubleState = request.app.state.double
    if action not in ("complete", "leave"):
        return _link_gone(account_id)
    try:
        _kind, url = await run_in_threadpool(double.store.finish_account_link, account_id, token, action)
    except StripeError:
        return _link_gone(account_id)
    return RedirectResponse(url, status_code=303)


@router.get("/favicon.ico")
async def favicon() -> Response:
    """No icon, and no 404 in the browser's console either."""
    return Response(status_code=204)


def _transfer_row(t: dict[str, Any]) -> str:
    group = f" · {escape(t['transfer_group'])}" if t["transfer_group"] else ""
    reversed_ = (f"<small>reversed {format_amount(t['amount_reversed'], t['currency'])}</small>"
                 if t["amount_reversed"] else "")
    return (f'<div class="item"><div>{escape(t["destination"])}<small>{escape(t["id"])}{group}</small></div>'
            f'<div>{format_amount(t["amount"], t["currency"])}{reversed_}</div></div>')


@router.get("/")
async def index(request: Request) -> Response:
    """A small dashboard for `make run`: recent sessions and webhook deliveries."""
    double: DoubleState = request.app.state.double
    objects = double.store.objects()
    deliveries = double.webhooks.deliveries()
    settings = double.webhooks.settings()
    sessions = "".join(
        f'<div class="item"><div><a href="/pay/{escape(s["id"])}">{escape(s["id"][:24])}…</a>'
        f'<small>{escape(s["status"])} · {escape(s["payment_status"])}</small></div>'
        f'<div>{format_amount(s["amount_total"], s["currency"])}</div></div>'
        for s in reversed(objects["checkout_sessions"][-20:])) or '<p class="muted">No checkout sessions yet.</p>'
    events = "".join(
        f'<div class="item"><div>{escape(e["type"])}<small>{escape(e["id"])}</small></div>'
        f'<div><small>{escape(deliveries.get(e["id"], {}).get("state", "-"))} · '
        f'{len(deliveries.get(e["id"], {}).get("attempts", []))} attempt(s)</small></div></div>'
        for e in reversed(double.store.events_in_order()[-30:])) or '<p class="muted">No events yet.</p>'
    accounts = "".join(
        f'<div class="item"><div>{escape(a["email"] or a["id"])}<small>{escape(a["id"])}</small></div>'
        f'<div><small>{"payouts enabled" if a["payouts_enabled"] else "onboarding due"}</small></div></div>'
        for a in reversed(objects["accounts"][-20:])) or '<p class="muted">No connected accounts yet.</p>'
    transfers = "".join(_transfer_row(t) for t in reversed(objects["transfers"][-20:])) or \
        '<p class="muted">No transfers yet.</p>'
    endpoint = escape(settings["url"] or "none (events are recorded, not sent)")
    return _page("Stripe double", f"<h1>Stripe double</h1><p class=\"muted\">Webhook endpoint: {endpoint}"
                                  f"{' (paused)' if settings['paused'] else ''}</p><h2>Checkout sessions</h2>"
                                  f"{sessions}<h2>Connected accounts</h2>{accounts}<h2>Transfers</h2>{transfers}"
                                  f"<h2>Events</h2>{events}")
