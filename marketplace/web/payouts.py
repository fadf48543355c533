"""The studio's payouts and earnings page: set up payouts (Stripe's hosted onboarding for the creator's connected
account), the account's state as Stripe reports it, and every credit, transfer and reversal."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from marketplace.accounts.models import Role
from marketplace.core.deps import SessionDep
from marketplace.core.exceptions import MarketplaceError
from marketplace.integrations.adapters import AdaptersDep
from marketplace.payouts import service as payouts_service
from marketplace.web import security
from marketplace.web.dependencies import CsrfForm, TranslatorDep, Viewer
from marketplace.web.templating import redirect, render, settings_of

router = APIRouter(include_in_schema=False)
PAGE = payouts_service.STUDIO_PAYOUTS_PATH


@router.get(PAGE, response_class=HTMLResponse)
def payouts_page(request: Request, session: SessionDep, services: AdaptersDep, viewer: Viewer,
                 t: TranslatorDep) -> Response:
    """Back from Stripe's onboarding (`?onboarding=return`) the account is read from Stripe at once, so the page
    shows its state before Stripe's account.updated event arrives; `?onboarding=refresh`: the link was used or
    expired (Stripe sends the creator here to get a new one)."""
    if viewer is None:
        return redirect(request, f"/signin?next={PAGE}")
    if viewer.role not in (Role.creator, Role.admin):
        return render(request, "payouts.html", {"creator": False}, account=viewer)
    alert = None
    back = request.query_params.get("onboarding")
    if back == "return":
        try:
            payouts_service.refresh_account(session=session, account_id=viewer.id, gateway=services.gateway)
        except MarketplaceError:
            alert = t.gettext("Stripe could not be reached: the state shown may be out of date.")
    elif back == "refresh":
        alert = t.gettext("The onboarding link has expired. Continue to get a new one.")
    return render(request, "payouts.html", {
        "creator": True, "alert": alert,
        "payouts": payouts_service.summary(session=session, account_id=viewer.id),
        "lines": list(reversed(payouts_service.statement_lines(session=session, account_id=viewer.id))),
    }, account=viewer)


@router.post(f"{PAGE}/onboarding", response_class=HTMLResponse)
def start_onboarding(request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep,
                     viewer: Viewer, t: TranslatorDep) -> Response:
    """Set up payouts: to Stripe's hosted onboarding (303)."""
    if viewer is None:
        return redirect(request, f"/signin?next={PAGE}")
    if viewer.role not in (Role.creator, Role.admin):
        return render(request, "payouts.html", {"creator": False}, account=viewer, status_code=403)
    try:
        url = payouts_service.start_onboarding(session=session, account=viewer, gateway=services.gateway,
                                               public_base_url=services.settings.public_base_url)
    except MarketplaceError:
        return render(request, "payouts.html", {
            "creator": True, "alert": t.gettext("Stripe could not be reached. Please try again in a moment."),
            "payouts": payouts_service.summary(session=session, account_id=viewer.id),
            "lines": list(reversed(payouts_service.statement_lines(session=session, account_id=viewer.id))),
        }, account=viewer, status_code=502)
    return security.finish(request, RedirectResponse(url, status_code=303), settings_of(request))
