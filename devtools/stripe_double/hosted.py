"""The hosted checkout page (`session.url`): what the buyer's browser sees instead of checkout.stripe.com.

Three buttons, as plain HTML forms: Pay (with the card number typed: Stripe's test cards decide, so 4242 4242 4242
4242 pays and 4000 0000 0000 9995 is declined for insufficient funds; the session completes, 303 to success_url),
Decline (4000 0000 0000 0002: the card is declined, the page says so, the session stays open) and Cancel (303 to
cancel_url, the session stays open). `POST /pay/{id}/pay?async=1` pays with a delayed method (SEPA-like): see the
README.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from devtools.stripe_double.errors import StripeError
from devtools.stripe_double.params import format_amount
from devtools.stripe_double.store import GENERIC_DECLINE, card_outcome

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


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{escape(title)}</title><style>{CSS}</style>'
            f'</head><body><main><span class="badge">TEST MODE · Stripe double</span>{body}</main></body></html>')
    return HTMLResponse(html, status_code=status)


def render_checkout(view: dict[str, Any], *, alert: str | None = None, notice: str | None = None,
                    status: int = 200, card: str | None = None) -> HTMLResponse:
    session = view["session"]
    sid = escape(session["id"])
    currency = session["currency"]
    rows = []
    for product, item in zip(view["products"], view["line_items"], strict=True):
        unit = format_amount(item["price"]["unit_amount"], currency)
        detail = f"Qty {item['quantity']} × {unit}" if item["quantity"] > 1 else ""
        description = f"<small>{escape(product['description'])}</small>" if product.get("description") else ""
        rows.append(f'<div class="item"><div><strong class="product-name">{escape(product["name"])}</strong>'
                    f'{description}<small>{detail}</small></div>'
                    f'<div>{format_amount(item["amount_total"], currency)}</div></div>')
    total = format_amount(session["amount_total"], currency)
    parts = [f"<h1>Pay {escape(total)}</h1>", *rows,
             f'<div class="total"><span>Total</span><span class="amount">{escape(total)}</span></div>']
    if session.get("customer_email"):
        parts.append(f'<p class="muted">Email: {escape(session["customer_email"])}</p>')
    if alert:
        parts.append(f'<p class="alert" role="alert">{escape(alert)}</p>')
    if notice:
        parts.append(f'<p class="notice" role="status">{escape(notice)}</p>')
    if session["status"] == "open":
        parts.append(
            '<div class="actions">'
            f'<form method="post" action="/pay/{sid}/pay"><label for="card">Card number</label>'
            f'<input id="card" name="card" inputmode="numeric" autocomplete="cc-number" '
            f'value="{escape(card or "4242 4242 4242 4242")}"><button class="primary" type="submit">Pay</button></form>'
            f'<form method="post" action="/pay/{sid}/decline"><button class="danger" type="submit">Decline</button>'
            '</form>'
            f'<form method="post" action="/pay/{sid}/cancel"><button type="submit">Cancel</button></form>'
            '</div><p class="muted">Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 9995 has insufficient funds; '
            'Decline simulates 4000 0000 0000 0002.</p>')
    elif session["status"] == "complete":
        state = "paid" if session["payment_status"] == "paid" else "processing (delayed payment method)"
        parts.append(f'<p class="notice" role="status">This payment is complete: {escape(state)}.</p>')
        parts.append(f'<p><a href="{escape(_success_url(session))}">Return to the merchant</a></p>')
    else:
        parts.append('<p class="alert" role="alert">This Checkout Session has expired.</p>')
    return _page(f"Checkout · {total}", "".join(parts), status)


def _success_url(session: dict[str, Any]) -> str:
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


def _not_found(session_id: str) -> HTMLResponse:
    return _page("Checkout not found", f'<h1>Something went wrong</h1><p class="alert" role="alert">No Checkout '
                                       f'Session {escape(session_id)}.</p>', status=404)


@router.get("/pay/{session_id}")
async def checkout_page(request: Request, session_id: str) -> Response:
    double: DoubleState = request.app.state.double
    try:
        return render_checkout(double.store.hosted_view(session_id))
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
        except ValueError as exc:  # Checkout refuses it on the page: nothing reaches the API
            try:
                return render_checkout(double.store.hosted_view(session_id), alert=str(exc), card=card)
            except StripeError:
                return _not_found(session_id)
        if decline is not None:
            digits = "".join(card.split())
            return await _declined(double, session_id, lambda: double.store.decline(session_id, decline,
                                                                                   last4=digits[-4:]), decline, card)
    return await _act(double, session_id, lambda: double.store.pay(session_id, delayed=delayed),
                      lambda s: RedirectResponse(_success_url(s), status_code=303))


@router.post("/pay/{session_id}/decline")
async def decline(request: Request, session_id: str) -> Response:
    double: DoubleState = request.app.state.double
    return await _declined(double, session_id, lambda: double.store.decline(session_id), GENERIC_DECLINE, None)


async def _declined(double: DoubleState, session_id: str, action, decline, card: str | None) -> Response:
    alert = f"{decline.message} Try again or use another card."
    return await _act(double, session_id, action,
                      lambda s: render_checkout(double.store.hosted_view(session_id), alert=alert, card=card))


@router.post("/pay/{session_id}/cancel")
async def cancel(request: Request, session_id: str) -> Response:
    double: DoubleState = request.app.state.double

    def done(session: dict[str, Any]) -> Response:
        if session.get("cancel_url"):
            return RedirectResponse(session["cancel_url"], status_code=303)
        return render_checkout(double.store.hosted_view(session_id),
                               notice="Payment cancelled. You can close this window.")
    return await _act(double, session_id, lambda: double.store.cancel(session_id), done)


async def _act(double: DoubleState, session_id: str, action, respond) -> Response:
    try:
        session = await run_in_threadpool(action)
    except StripeError as exc:
        if exc.code == "resource_missing":
            return _not_found(session_id)
        return render_checkout(double.store.hosted_view(session_id), alert=exc.message, status=409)
    return respond(session)


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
    endpoint = escape(settings["url"] or "none (events are recorded, not sent)")
    return _page("Stripe double", f"<h1>Stripe double</h1><p class=\"muted\">Webhook endpoint: {endpoint}"
                                  f"{' (paused)' if settings['paused'] else ''}</p><h2>Checkout sessions</h2>"
                                  f"{sessions}<h2>Events</h2>{events}")
