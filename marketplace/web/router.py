"""Server-rendered pages (Jinja2 templates in frontend/templates, htmx where parts update).

Public pages live here; sign-in in `auth.py`, the creator studio in `studio.py`, buying and owning in
`purchases.py`. Routes only translate HTTP to calls of the domain services.
"""

from __future__ import annotations

import math
from functools import partial
from urllib.parse import urlencode

from anyio import from_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from marketplace.accounts import own_wallets, profiles
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Account, Role
from marketplace.catalog import collaborators, licences
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import SaleStatus, Work
from marketplace.catalog.schemas import CreatorFilters, WorkFilters
from marketplace.core.config import DISCIPLINES, LICENSES
from marketplace.core.deps import AccountId, ListingId, RateLimiterDep, SessionDep, WorkId, client_address
from marketplace.core.exceptions import Conflict, MarketplaceError
from marketplace.indexer import service as indexer_service
from marketplace.integrations.adapters import AdaptersDep
from marketplace.integrations.ipfs.client import raw_cid_from_digest
from marketplace.organisations import service as organisations_service
from marketplace.payments import checkout as checkout_flow
from marketplace.payments import service as payments_service
from marketplace.provenance import service as provenance_service
from marketplace.resale import service as resale_service
from marketplace.web import (
    account,
    auth,
    calls,
    exhibitions,
    insights,
    legal,
    moderation,
    organisations,
    payouts,
    profile,
    purchases,
    receipts,
    security,
    studio,
)
from marketplace.web.dependencies import CsrfForm, TranslatorDep, Viewer
from marketplace.web.errors import error_page
from marketplace.web.forms import parse_euros, text
from marketplace.web.i18n import LANG_COOKIE, LANGUAGES
from marketplace.web.labels import IMMEDIATE_SUPPLY_CONSENT, LICENSE_TERMS
from marketplace.web.templating import redirect, render, safe_next, settings_of

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(account.router)
router.include_router(studio.router)
router.include_router(payouts.router)
router.include_router(purchases.router)
router.include_router(calls.router)
router.include_router(profile.router)
router.include_router(receipts.router)
router.include_router(legal.router)
router.include_router(organisations.router)
router.include_router(moderation.router)
router.include_router(exhibitions.router)
router.include_router(insights.router)

PAGE_SIZE = 12
SORTS = ("newest", "oldest", "price_asc", "price_desc", "title")


FILTER_KEYS = ("q", "discipline", "license", "creator", "min_price", "max_price")


def _gallery_filters(request: Request) -> tuple[WorkFilters, dict[str, str]]:
    """Query parameters from the filter form, leniently: anything invalid is ignored, never an error page. Returns
    the filters and the same as text, as applied (what the form and the address bar show: nothing ignored)."""
    q = request.query_params
    raw = {k: (q.get(k) or "").strip() for k in (*FILTER_KEYS, "sort", "page")}
    min_cents = parse_euros(raw["min_price"]) if raw["min_price"] else None
    max_cents = parse_euros(raw["max_price"]) if raw["max_price"] else None
    min_text, max_text = (raw["min_price"] if min_cents is not None else "",
                          raw["max_price"] if max_cents is not None else "")
    if min_cents is not None and max_cents is not None and min_cents > max_cents:
        min_cents, max_cents, min_text, max_text = max_cents, min_cents, max_text, min_text
    page = int(raw["page"]) if raw["page"].isdigit() and 0 < int(raw["page"]) < 10_000 else 1
    filters = WorkFilters(
        q=raw["q"][:200].strip() or None,
        discipline=raw["discipline"] if raw["discipline"] in DISCIPLINES else None,
        license=raw["license"] if raw["license"] in LICENSES else None,
        creator=raw["creator"][:120].strip() or None,
        min_price_cents=min_cents, max_price_cents=max_cents,
        sort=raw["sort"] if raw["sort"] in SORTS else "newest",
        page=page, page_size=PAGE_SIZE,
    )
    applied = {"q": filters.q or "", "discipline": filters.discipline or "", "license": filters.license or "",
               "creator": filters.creator or "", "min_price": min_text, "max_price": max_text,
               "sort": filters.sort, "page": str(page)}
    return filters, applied


def _gallery_query(applied: dict[str, str], **changes) -> dict[str, str]:
    """The query of the gallery's address for these filters: only what is set, the default sort and page 1 left
    out (in the form's order)."""
    merged = {**applied, **{k: str(v) for k, v in changes.items()}}
    query = {k: merged[k] for k in FILTER_KEYS if merged[k]}
    if merged["sort"] != "newest":
        query["sort"] = merged["sort"]
    if merged["page"] != "1":
        query["page"] = merged["page"]
    return query


def _gallery_url(applied: dict[str, str], **changes) -> str:
    query = _gallery_query(applied, **changes)
    return f"/?{urlencode(query)}" if query else "/"


@router.get("/", response_class=HTMLResponse)
def gallery(request: Request, session: SessionDep, viewer: Viewer) -> Response:
    filters, applied = _gallery_filters(request)
    here = _gallery_url(applied)
    is_htmx = request.headers.get("hx-request") == "true"
    if not is_htmx and sorted(request.query_params.multi_items()) != sorted(_gallery_query(applied).items()):
        # a form sent without htmx, or a shared link: the address bar shows what is applied, nothing else
        return redirect(request, here, status_code=302)
    # the gallery shows what is published; a creator's drafts are in the studio
    filters.status = None
    rows, count = catalog_service.list_works(session=session, filters=filters, viewer=None)
    pages = max(1, math.ceil(count / PAGE_SIZE))
    response = render(request, "gallery.html", {
        "works": [(w, a) for w, a in rows], "count": count, "page": filters.page, "pages": pages,
        "filters": applied, "sort": filters.sort, "sorts": SORTS,
        "filtered": any(applied[k] for k in FILTER_KEYS), "gallery_url": partial(_gallery_url, applied),
        "resale_from": resale_service.resale_from(session, [w.id for w, _ in rows]),
        "now_showing": exhibitions.now_showing(session),
    }, account=viewer)
    if is_htmx:  # htmx pushes this address, not the form's raw query (every field, empty ones too)
        response.headers["HX-Push-Url"] = here
    return response


def _work_context(session, work: Work, viewer: Account | None) -> dict:
    if not catalog_service.can_see(work, viewer, session=session):
        raise HTTPException(404)
    is_owner = viewer is not None and (viewer.id == work.creator_id or viewer.role == Role.admin)
    creators = catalog_service.creators_of(session, work)
    my_pending = None
    if viewer is not None and work.sale_status == SaleStatus.reserved:
        my_pending = payments_service.open_checkout_of(session=session, buyer_id=viewer.id, work_id=work.id)
    more, _ = catalog_service.list_works(
        session=session, filters=WorkFilters(creator_id=work.creator_id, page_size=5), viewer=None)
    return {
        "work": work, "creator": accounts_service.get_account(session=session, account_id=work.creator_id),
        **_token_context(session, work),
        "is_owner": is_owner, "my_pending": my_pending, **_licence_context(work),
        "creators": creators, "co_creator": viewer is not None and any(
            c.user_id == viewer.id for c in creators[1:]),
        "holds": catalog_service.holds(session=session, account=viewer, work=work),
        "my_editions": _my_editions(session, work, viewer),
        "more": [(w, a) for w, a in more if w.id != work.id][:4], "error": None, "license_error": None,
        "consent_error": None, "consent_text": IMMEDIATE_SUPPLY_CONSENT, "report_reasons": moderation.REASONS,
        "listings": resale_service.list_listings(session=session, work_id=work.id)[0] if work.status == "minted"
        else [], "listing_error": None,
        "linked_wallets": own_wallets.linked_addresses(session=session, account_id=viewer.id) if viewer else [],
    }


def _my_editions(session, work: Work, viewer: Account | None) -> list[tuple[int, str]]:
    """The editions of this work the viewer's wallets hold, as the chain index says: (number, token id), by
    number. A holder of one may still buy another; a unique work's holder is `holds`."""
    if viewer is None or work.edition_size <= 1:
        return []
    return sorted((purchase.edition_number, f"0x{int(purchase.token_id):064x}") for held, _, purchase
                  in payments_service.held_editions(session=session, account=viewer) if held.id == work.id)


def _token_context(session, work: Work) -> dict:
    """Who holds the work's token and its history, as the chain index read them (None and [] until it has)."""
    if work.status != "minted" or not work.token_id:
        return {"owner_address": None, "owner": None, "history": []}
    return _holder_context(session, int(work.token_id))


def _holder_context(session, token_id: int) -> dict:
    """Who holds this token (a work's, or one edition's) and its history, from the chain index."""
    owner_address = indexer_service.owner_of(session, token_id)
    return {"owner_address": owner_address,
            "owner": accounts_service.get_account_by_address(session=session, address=owner_address),
            "history": provenance_service.token_history(session, token_id) or []}


def _licence_context(work: Work) -> dict:
    """The work's licence, where its full terms are read (our /ipfs for the pinned documents) and, in plain words,
    what its holder may and may not do."""
    licence = licences.get(work.license)
    return {"licence": licence, "license_url": licence.terms_url(public_base_url=""),
            "licence_terms": LICENSE_TERMS[work.license]}


@router.get("/works/{work_id}", response_class=HTMLResponse)
def work_page(work_id: WorkId, request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=viewer)
    return render(request, "work.html", _work_context(session, work, viewer), account=viewer)


@router.post("/works/{work_id}/buy")
def buy(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep,
        viewer: Viewer, t: TranslatorDep, limiter: RateLimiterDep) -> Response:
    """Reserve the work and send the buyer to Stripe's hosted checkout page (checkout.start_checkout); for the
    buyer whose checkout is open ("Return to payment"), that session again, or a new one when it is gone."""
    if viewer is None:
        return redirect(request, f"/signin?next=/works/{work_id}")
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=viewer,
                                                     include_hidden=True)
    if catalog_service.is_hidden(work):  # as the API's checkout: 409, the work page is no longer shown to buyers
        return error_page(request, 409, t.gettext("This work was hidden by the marketplace's moderation: it cannot "
                                                  "be bought."))
    accepted = text(form, "accept_license") == "yes"
    consented = text(form, "accept_immediate_supply") == "yes"
    consent = t.gettext(IMMEDIATE_SUPPLY_CONSENT)
    if not (accepted and consented):
        # the buyer reads the terms and consents to immediate supply before paying; "Return to payment" reopens
        # the checkout they opened already, whose consent is on record
        open_checkout = payments_service.open_checkout_of(session=session, buyer_id=viewer.id, work_id=work.id)
        if open_checkout is None:
            context = _work_context(session, work, viewer)
            if not accepted:
                context["license_error"] = t.gettext("Tick the box to confirm you have read the licence.")
            if not consented:
                context["consent_error"] = t.gettext(
                    "Tick the box to ask for immediate supply: without it the work cannot be sold to you.")
            return render(request, "work.html", context, account=viewer, status_code=422)
        accepted = accepted or open_checkout.license_accepted_at is not None
        if open_checkout.immediate_supply_consent_text:
            consented, consent = True, open_checkout.immediate_supply_consent_text
    try:  # the same limit as POST /api/works/{id}/checkout; over it, the work page again with 429 and Retry-After
        from_thread.run(partial(limiter.hit, "checkout", account=f"account-{viewer.id}",
                                address=client_address(request)))
        purchase = checkout_flow.start_checkout(
            session=session, work=work, buyer=viewer, wallet_address=text(form, "wallet_address") or None,
            license_accepted=accepted,
            immediate_supply=consented, consent_text=consent,
            gateway=services.gateway, public_base_url=services.settings.public_base_url,
            expires_minutes=services.settings.checkout_expires_minutes, locale=t.checkout_locale,
            url_secret=services.settings.auth_secret.get_secret_value())
    except checkout_flow.CheckoutCompleted as exc:  # paid already ("Return to payment" in a second tab)
        session.rollback()
        return redirect(request, f"/purchases/{exc.purchase_id}")
    except MarketplaceError as exc:
        session.rollback()
        session.refresh(work)
        own = isinstance(exc, Conflict) and work.creator_id == viewer.id
        context = _work_context(session, work, viewer)
        context["error"] = (t.gettext("You cannot buy your own work.") if own
                            else t.gettext("The checkout could not be opened: %(error)s", error=exc.message))
        response = render(request, "work.html", context, account=viewer,
                          status_code=exc.status_code if exc.status_code < 500 else 503)
        response.headers.update(exc.headers or {})
        return response
    return security.finish(request, RedirectResponse(purchase.checkout_url, status_code=303), settings_of(request))


@router.post("/listings/{listing_id}/buy")
def buy_listing(listing_id: ListingId, request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep,
                viewer: Viewer, t: TranslatorDep, limiter: RateLimiterDep) -> Response:
    """Buy a resale listing: the same two boxes as a first sale, then Stripe's hosted checkout page
    (resale_service.start_checkout); a refusal shows the work page again with the reason."""
    try:
        listing = resale_service.get_listing_or_raise(session, listing_id)
    except MarketplaceError:
        raise HTTPException(404) from None
    if viewer is None:
        return redirect(request, f"/signin?next=/works/{listing.work_id}")
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=listing.work_id, viewer=viewer)
    accepted = text(form, "accept_license") == "yes"
    consented = text(form, "accept_immediate_supply") == "yes"
    if not (accepted and consented):
        context = _work_context(session, work, viewer)
        context["listing_error"] = (listing.id, t.gettext(
            "Tick both boxes (the licence read, immediate supply asked for) to buy this token."))
        return render(request, "work.html", context, account=viewer, status_code=422)
    try:
        from_thread.run(partial(limiter.hit, "checkout", account=f"account-{viewer.id}",
                                address=client_address(request)))
        purchase = resale_service.start_checkout(
            session=session, listing_id=listing.id, buyer=viewer, gateway=services.gateway, license_accepted=True,
            immediate_supply=True, consent_text=t.gettext(IMMEDIATE_SUPPLY_CONSENT),
            public_base_url=services.settings.public_base_url,
            expires_minutes=services.settings.checkout_expires_minutes, locale=t.checkout_locale,
            url_secret=services.settings.auth_secret.get_secret_value())
    except checkout_flow.CheckoutCompleted as exc:
        session.rollback()
        return redirect(request, f"/purchases/{exc.purchase_id}")
    except MarketplaceError as exc:
        session.rollback()
        context = _work_context(session, work, viewer)
        context["listing_error"] = (listing.id, t.gettext("The checkout could not be opened: %(error)s",
                                                          error=exc.message))
        response = render(request, "work.html", context, account=viewer,
                          status_code=exc.status_code if exc.status_code < 500 else 503)
        response.headers.update(exc.headers or {})
        return response
    return security.finish(request, RedirectResponse(purchase.checkout_url, status_code=303), settings_of(request))


@router.get("/creators", response_class=HTMLResponse)
def find_creators(request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    """Find creators by name and discipline, so a creator finds partners (GET /api/creators for pages).
    Leniently read, like the gallery's filters: anything invalid is ignored."""
    q = request.query_params
    name = (q.get("q") or "").strip()[:120]
    discipline = q.get("discipline") if q.get("discipline") in DISCIPLINES else None
    skill = (q.get("skill") or "").strip()[:40]
    location = (q.get("location") or "").strip()[:120]
    page = int(q["page"]) if (q.get("page") or "").isdigit() and 0 < int(q["page"]) < 10_000 else 1
    try:
        filters = CreatorFilters(q=name or None, discipline=discipline, skill=skill or None,
                                 location=location or None, page=page, page_size=PAGE_SIZE)
    except ValidationError:  # control characters: read leniently, as nothing typed
        filters = CreatorFilters(discipline=discipline, page=page, page_size=PAGE_SIZE)
    cards, count = collaborators.find_creators(session, filters)
    return render(request, "creators.html", {
        "cards": cards, "count": count, "page": page, "pages": max(1, math.ceil(count / PAGE_SIZE)),
        "q": name, "discipline": discipline or "", "skill": skill, "location": location,
    }, account=viewer)


@router.get("/creators/{account_id}", response_class=HTMLResponse)
def creator_page(account_id: AccountId, request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    creator = collaborators.public_creator(session, account_id=account_id)
    if creator is None:  # no such creator, a buyer, or a deleted account
        raise HTTPException(404)
    filters, _ = _gallery_filters(request)
    filters.creator_id = creator.id
    filters.q = filters.creator = None
    # the creator (and admins) see their hidden works here too, marked: nobody else does
    rows, count = catalog_service.list_works(session=session, filters=filters, viewer=None, hidden_to=viewer)
    return render(request, "creator.html", {
        "creator": creator, "profile": profiles.profile_public(session=session, account=creator),
        "organisations": organisations_service.organisations_of(session, account_id=creator.id),
        "works": list(rows), "count": count, "page": filters.page,
        "pages": max(1, math.ceil(count / PAGE_SIZE)),
    }, account=viewer)


@router.get("/tokens/{token}", response_class=HTMLResponse)
def certificate(token: str, request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    """The certificate of a token, by its id (decimal, or 0x-hex as the chain shows it). Public."""
    try:
        token_id = int(token, 16) if token.lower().startswith("0x") else int(token)
    except ValueError:
        raise HTTPException(404) from None
    if not 0 <= token_id < 2**256:
        raise HTTPException(404)
    work = catalog_service.get_minted_by_token(session=session, token_id=token_id)
    if work is None:  # an edition's token: its delivered purchase says which edition, whose, minted where
        sale = payments_service.delivered_edition(session=session, token_id=token_id)
        if sale is None:
            raise HTTPException(404)
        work = catalog_service.get_work_or_raise(session=session, work_id=sale.work_id)
        token = {"edition_number": sale.edition_number, "mint_tx_hash": sale.delivery_tx_hash, "minted_at": sale.delivered_at,
                 "metadata_cid": raw_cid_from_digest(token_id.to_bytes(32, "big"))}
    else:
        token = {"edition_number": None, "mint_tx_hash": work.mint_tx_hash, "minted_at": work.minted_at,
                 "metadata_cid": work.metadata_cid}
    if not catalog_service.can_see(work, viewer, session=session):  # a work moderation hid: as its page, 404
        raise HTTPException(404)
    creator = accounts_service.get_account(session=session, account_id=work.creator_id)
    return render(request, "certificate.html", {
        "work": work, "token": token, "creator": creator, **_holder_context(session, token_id), "token_id": token_id,
        "creators": catalog_service.creators_of(session, work),
        "token_hex": f"0x{token_id:064x}", **_licence_context(work),
    }, account=viewer)


@router.get("/about", response_class=HTMLResponse)
def about(request: Request, viewer: Viewer) -> HTMLResponse:
    fee = settings_of(request).platform_fee_bps / 100
    return render(request, "about.html", {"fee": f"{fee:g}"}, account=viewer)


@router.get("/lang/{code}")
def switch_language(code: str, request: Request) -> RedirectResponse:
    """The language switch: remembered in a cookie for a year (it changes nothing else, so a GET is fine)."""
    if code not in LANGUAGES:
        raise HTTPException(404)
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/",
                        secure=security.cookies_secure(settings_of(request)))
    return response
