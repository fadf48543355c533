"""After Buy (on the work page): the return page from Stripe Checkout with the live status, and my collection."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from marketplace.catalog.models import Work
from marketplace.core.deps import PurchaseId, SessionDep
from marketplace.payments import service as payments_service
from marketplace.payments.models import Purchase
from marketplace.web import queries
from marketplace.web.dependencies import Viewer
from marketplace.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

FINAL = ("delivered", "refunded", "failed", "expired")


def _purchase_context(session, purchase: Purchase | None, viewer, cancelled: bool) -> dict:
    work = session.get(Work, purchase.work_id) if purchase else None
    is_buyer = viewer is not None and purchase is not None and purchase.buyer_id == viewer.id
    return {"purchase": purchase, "work": work, "cancelled": cancelled, "is_buyer": is_buyer,
            "final": purchase is not None and purchase.status in FINAL}


def _visible_purchase(session, purchase_id: int, viewer) -> Purchase | None:
    purchase = payments_service.get_purchase(session=session, purchase_id=purchase_id)
    if purchase is None or viewer is None or not payments_service.may_see(purchase, viewer):
        return None
    return purchase


@router.get("/purchases/{purchase_id}", response_class=HTMLResponse)
def purchase_return(purchase_id: PurchaseId, request: Request, session: SessionDep, viewer: Viewer,
                    cancelled: int = 0) -> Response:
    """Where Stripe Checkout returns the buyer (success `?session_id=`, cancel `?cancelled=1`). Shows the status
    and updates it live until it is final. Only the buyer and admins see a purchase (ids are sequential: anyone
    else gets the same page as for a purchase that does not exist); signed out, sign in first."""
    if viewer is None:
        return redirect(request, f"/signin?next=/purchases/{purchase_id}" + ("?cancelled=1" if cancelled else ""))
    purchase = _visible_purchase(session, purchase_id, viewer)
    return render(request, "purchase.html", _purchase_context(session, purchase, viewer, bool(cancelled)),
                  account=viewer, status_code=200 if purchase else 404)


@router.get("/purchases/{purchase_id}/status", response_class=HTMLResponse)
def purchase_status(purchase_id: PurchaseId, request: Request, session: SessionDep, viewer: Viewer,
                    cancelled: int = 0) -> HTMLResponse:
    purchase = _visible_purchase(session, purchase_id, viewer)
    if purchase is None:
        raise HTTPException(404)
    return render(request, "partials/purchase_status.html",
                  _purchase_context(session, purchase, viewer, bool(cancelled)), account=viewer)


@router.get("/collection", response_class=HTMLResponse)
def collection(request: Request, session: SessionDep, viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/collection")
    return render(request, "collection.html", {
        "owned": queries.owned_works(session=session, account=viewer),
        "purchases": payments_service.purchases_with_works(session=session, buyer_id=viewer.id),
    }, account=viewer)
