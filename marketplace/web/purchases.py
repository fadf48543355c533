"""After Buy (on the work page): the return page from Stripe Checkout with the live status, cancelling a checkout,
and my collection."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from marketplace.accounts import own_wallets
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import SaleStatus
from marketplace.core.deps import ListingId, PurchaseId, SessionDep, WorkId
from marketplace.core.exceptions import Forbidden, MarketplaceError, NotFound
from marketplace.indexer import service as indexer_service
from marketplace.integrations.adapters import AdaptersDep
from marketplace.integrations.stripe.gateway import PaymentError
from marketplace.payments import checkout as checkout_flow
from marketplace.payments import service as payments_service
from marketplace.payments import withdrawals
from marketplace.payments.models import Purchase, PurchaseStatus
from marketplace.resale import service as resale_service
from marketplace.resale.models import ListingStatus
from marketplace.web.dependencies import CsrfForm, TranslatorDep, Viewer
from marketplace.web.forms import price_error, text
from marketplace.web.i18n import Translator
from marketplace.web.labels import N_
from marketplace.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

FINAL = ("delivered", "refunded", "failed", "expired")
# declines a bank gives no reason for, or whose reason is not the buyer's to hear (Stripe words them all "Your card
# was declined.")
GENERIC_DECLINES = ("generic_decline", "lost_card", "stolen_card", "fraudulent", "pickup_card", "do_not_honor")
# the reasons said in the reader's language (Stripe's messages are English); others are shown as Stripe words them
DECLINE_REASONS = {
    "insufficient_funds": N_("your card has insufficient funds"),
    "expired_card": N_("your card has expired"),
    "incorrect_cvc": N_("your card's security code is incorrect"),
    "processing_error": N_("an error occurred while processing your card"),
}


def decline_text(t: Translator, error: PaymentError) -> str:
    """"Your card was declined: <why>. You can try again." in the reader's language: the reason from our catalogue
    for the declines we know, else Stripe's message; no reason at all for a generic decline."""
    reason = None
    codes = [c for c in (error.decline_code, error.code) if c]
    if not any(c in GENERIC_DECLINES for c in codes):
        known = [t.gettext(DECLINE_REASONS[c]) for c in codes if c in DECLINE_REASONS]
        message = error.message.strip().rstrip(".")
        reason = known[0] if known else (message if message.lower() != "your card was declined" else None)
    if reason is None:
        return t.gettext("Your card was declined. You can try again.")
    return t.gettext("Your card was declined: %(reason)s. You can try again.", reason=reason)


def _view(purchase: Purchase, cancelled: bool, returned: checkout_flow.CheckoutReturn | None) -> str:
    """Which message the page shows: the purchase's status, or how the buyer came back without paying."""
    status = purchase.status
    if status == PurchaseStatus.pending:
        if returned is not None and returned.outcome == "declined":
            return "declined"
        if cancelled and (returned is None or returned.outcome != "paid"):
            return "left"  # back from Checkout, and Stripe could not say more: the reservation holds until expiry
        return "pending"
    if status == PurchaseStatus.expired and (cancelled or purchase.failure_reason == checkout_flow.CANCELLED_REASON):
        return "cancelled"
    return status


def _purchase_context(session, purchase: Purchase | None, viewer, t: Translator, cancelled: bool,
                      returned: checkout_flow.CheckoutReturn | None = None, error: str | None = None) -> dict:
    work = catalog_service.get_work(session=session, work_id=purchase.work_id) if purchase and purchase.work_id else None
    is_buyer = viewer is not None and purchase is not None and purchase.buyer_id == viewer.id
    view = _view(purchase, cancelled, returned) if purchase else None
    declined = (decline_text(t, returned.payment_error)
                if view == "declined" and returned is not None and returned.payment_error else None)
    return {"purchase": purchase, "work": work, "view": view, "is_buyer": is_buyer, "declined": declined,
            "error": error,
            "available_again": work is not None and work.sale_status == SaleStatus.available,
            # the page follows the status until it is final; a declined card waits for the buyer, not for Stripe
            "final": purchase is not None and (purchase.status in FINAL or view == "declined")}


def _visible_purchase(session, purchase_id: int, viewer) -> Purchase | None:
    if viewer is None:
        return None
    try:
        return payments_service.get_visible_purchase_or_raise(session=session, purchase_id=purchase_id, viewer=viewer)
    except NotFound:
        return None


def _flow_args(services, t: Translator) -> dict:
    return {"gateway": services.gateway, "public_base_url": services.settings.public_base_url,
            "url_secret": services.settings.auth_secret.get_secret_value(), "locale": t.checkout_locale}


@router.get("/purchases/{purchase_id}", response_class=HTMLResponse)
def purchase_return(purchase_id: PurchaseId, request: Request, session: SessionDep, services: AdaptersDep,
                    viewer: Viewer, t: TranslatorDep, cancelled: int = 0, key: str | None = None) -> Response:
    """Where Stripe Checkout returns the buyer (success `?session_id=`, cancel `?cancelled=1&key=`). Shows the
    status and updates it live until it is final. Back through the cancel link, the buyer's card was declined (the
    session stays open: "Return to payment") or the buyer cancelled: the session is expired at Stripe and the work
    released at once. Only the cancel link Stripe was given (its `key`) cancels on arrival; any other way here
    offers the Cancel button (a form post). Only the buyer and admins see a purchase (ids are sequential: anyone
    else gets the same page as for a purchase that does not exist); signed out, sign in first."""
    if viewer is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, f"/signin?next={quote(here, safe='/')}")
    purchase = _visible_purchase(session, purchase_id, viewer)
    if purchase is not None and purchase.call_id is not None:  # a call's budget: its page tells the story
        return redirect(request, f"/calls/{purchase.call_id}")
    returned = None
    if (purchase is not None and cancelled and purchase.buyer_id == viewer.id
            and purchase.status == PurchaseStatus.pending):
        flow = _flow_args(services, t)
        returned = checkout_flow.return_from_checkout(
            session=session, purchase=purchase, buyer=viewer,
            cancel=checkout_flow.is_cancel_key(flow["url_secret"], purchase.id, key), **flow)
        session.refresh(purchase)
    return render(request, "purchase.html", _purchase_context(session, purchase, viewer, t, bool(cancelled), returned),
                  account=viewer, status_code=200 if purchase else 404)


@router.get("/purchases/{purchase_id}/status", response_class=HTMLResponse)
def purchase_status(purchase_id: PurchaseId, request: Request, session: SessionDep, viewer: Viewer,
                    t: TranslatorDep, cancelled: int = 0) -> HTMLResponse:
    purchase = _visible_purchase(session, purchase_id, viewer)
    if purchase is None or purchase.call_id is not None:  # a call's budget: the call's page shows its status
        raise HTTPException(404)
    return render(request, "partials/purchase_status.html",
                  _purchase_context(session, purchase, viewer, t, bool(cancelled)), account=viewer)


@router.post("/purchases/{purchase_id}/cancel", response_class=HTMLResponse)
def cancel_purchase(purchase_id: PurchaseId, request: Request, form: CsrfForm, session: SessionDep,
                    services: AdaptersDep, viewer: Viewer, t: TranslatorDep) -> Response:
    """The Cancel button: the same service call as POST /api/purchases/{id}/cancel."""
    if viewer is None:
        return redirect(request, f"/signin?next=/purchases/{purchase_id}")
    purchase = _visible_purchase(session, purchase_id, viewer)
    if purchase is None:
        raise HTTPException(404)
    try:
        checkout_flow.cancel_checkout(session=session, purchase=purchase, buyer=viewer, **_flow_args(services, t))
    except checkout_flow.CheckoutCompleted:
        session.rollback()
    except Forbidden:
        raise
    except MarketplaceError as exc:
        session.rollback()
        session.refresh(purchase)
        if purchase.status == PurchaseStatus.pending:  # Stripe could not expire it: say so, keep the buttons
            return render(request, "purchase.html", _purchase_context(
                session, purchase, viewer, t, True, error=t.gettext("The checkout could not be cancelled: %(error)s", error=exc.message)),
                account=viewer, status_code=exc.status_code if exc.status_code < 500 else 503)
    return redirect(request, f"/purchases/{purchase_id}")


@router.get("/collection", response_class=HTMLResponse)
def collection(request: Request, session: SessionDep, viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/collection")
    return render(request, "collection.html", _collection_context(session, viewer), account=viewer)


def _collection_context(session, viewer, *, error: str | None = None, error_token: str | None = None) -> dict:
    """The tokens the viewer's wallets hold (each with its active listing, if any) and their purchases."""
    listings, _ = resale_service.list_listings(session=session, seller_id=viewer.id, status=ListingStatus.active)
    owned = ([(work, creator, work.token_id, None)
              for work, creator in catalog_service.owned_works(session=session, account=viewer)]
             + [(work, creator, sale.token_id, sale.edition_number)
                for work, creator, sale in payments_service.held_editions(session=session, account=viewer)])
    linked = own_wallets.linked_addresses(session=session, account_id=viewer.id)
    return {
        "owned": owned,
        # where each token is: "wallet" (one of the viewer's linked wallets), "moving" (a withdrawal under way) or
        # "custody" (the platform's wallet for the viewer: it can be resold or withdrawn), as the chain index says
        "places": {str(token_id): _place(session, str(token_id), linked) for _, _, token_id, _ in owned},
        "linked_wallets": linked,
        "purchases": payments_service.purchases_with_works(session=session, buyer_id=viewer.id),
        "listings": {listing.token_id: listing for listing in listings},
        "resell_error": error, "resell_token": error_token,
    }


def _place(session, token_id: str, linked: list[str]) -> str:
    owner = indexer_service.owner_of(session, int(token_id))
    if owner is not None and owner.lower() in {a.lower() for a in linked}:
        return "wallet"
    return "moving" if withdrawals.pending_of(session, token_id) is not None else "custody"


@router.post("/collection/{work_id}/withdraw", response_class=HTMLResponse)
def withdraw_token(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep,
                   viewer: Viewer, t: TranslatorDep) -> Response:
    """Move a token of the collection from custody to one of the viewer's linked wallets
    (resale_service.withdraw_token); back to the collection, or the collection with the reason (4xx)."""
    if viewer is None:
        return redirect(request, "/signin?next=/collection")
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=viewer)
    token = text(form, "token_id") or (work.token_id or "")
    try:
        if not (token.isdigit() and len(token) <= 78):
            raise NotFound("No such token here")
        token_work = resale_service.work_of_token(session, int(token))
        if token_work is None or token_work.id != work.id:
            raise NotFound("No such token here")
        resale_service.withdraw_token(session=session, account=viewer, token_id=int(token),
                                      to_address=text(form, "to_address"), chain=services.chain)
    except MarketplaceError as exc:
        session.rollback()
        return render(request, "collection.html", _collection_context(
            session, viewer, error=t.gettext("The token could not be withdrawn: %(error)s", error=exc.message),
            error_token=token), account=viewer, status_code=exc.status_code if exc.status_code < 500 else 503)
    return redirect(request, "/collection")


@router.post("/collection/{work_id}/resell", response_class=HTMLResponse)
def resell(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep,
           viewer: Viewer, t: TranslatorDep) -> Response:
    """List a token of the collection for sale again (resale_service.create_listing) at the price typed in euros;
    an edition's form carries its token id. Back to the collection, or the collection with the reason (4xx)."""
    if viewer is None:
        return redirect(request, "/signin?next=/collection")
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=viewer)
    token = text(form, "token_id") or (work.token_id or "")
    cents, error = price_error(t, text(form, "price"))
    status_code = 422
    if error is None and not (token.isdigit() and len(token) <= 78):
        error, status_code = t.gettext("This token cannot be listed."), 404
    if error is None:
        try:
            listing_work = resale_service.work_of_token(session, int(token))
            if listing_work is None or listing_work.id != work.id:
                raise NotFound("No such token on sale here")
            resale_service.create_listing(session=session, seller=viewer, token_id=int(token), price_cents=cents,
                                          chain=services.chain)
        except MarketplaceError as exc:
            session.rollback()
            error, status_code = t.gettext("The token could not be listed: %(error)s", error=exc.message), \
                exc.status_code if exc.status_code < 500 else 503
    if error is not None:
        return render(request, "collection.html", _collection_context(session, viewer, error=error,
                                                                      error_token=token),
                      account=viewer, status_code=status_code)
    return redirect(request, "/collection")


@router.post("/listings/{listing_id}/withdraw", response_class=HTMLResponse)
def withdraw_listing(listing_id: ListingId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
                     t: TranslatorDep) -> Response:
    """The seller takes their listing off sale (resale_service.cancel_listing); back to the collection."""
    if viewer is None:
        return redirect(request, "/signin?next=/collection")
    try:
        listing = resale_service.cancel_listing(session=session, listing_id=listing_id, actor=viewer)
    except NotFound:
        raise HTTPException(404) from None
    except Forbidden:
        raise HTTPException(403) from None
    except MarketplaceError as exc:
        session.rollback()
        return render(request, "collection.html", _collection_context(
            session, viewer, error=t.gettext("The listing could not be withdrawn: %(error)s", error=exc.message)),
            account=viewer, status_code=exc.status_code if exc.status_code < 500 else 503)
    return redirect(request, "/collection" if listing.seller_id == viewer.id else f"/works/{listing.work_id}")
