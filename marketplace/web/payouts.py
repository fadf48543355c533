"""The studio's payouts and earnings page: set up payouts (Stripe's hosted onboarding for the creator's connected
account), the account's state as Stripe reports it, and every credit, transfer and reversal."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from marketplace.core.db import utcnow
from marketplace.core.deps import SessionDep
from marketplace.core.exceptions import MarketplaceError
from marketplace.integrations.adapters import AdaptersDep
from marketplace.payouts import service as payouts_service
from marketplace.web import pdf, security
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
    if not payouts_service.may_be_paid(session, viewer):  # creators, and collectors who sold a token here
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
        "creator": True, "alert": alert, "this_month": utcnow().strftime("%Y-%m"),
        "payouts": payouts_service.summary(session=session, account_id=viewer.id),
        "lines": list(reversed(payouts_service.statement_lines(session=session, account_id=viewer.id))),
    }, account=viewer)


@router.post(f"{PAGE}/onboarding", response_class=HTMLResponse)
def start_onboarding(request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep,
                     viewer: Viewer, t: TranslatorDep) -> Response:
    """Set up payouts: to Stripe's hosted onboarding (303)."""
    if viewer is None:
        return redirect(request, f"/signin?next={PAGE}")
    if not payouts_service.may_be_paid(session, viewer):
        return render(request, "payouts.html", {"creator": False}, account=viewer, status_code=403)
    try:
        url = payouts_service.start_onboarding(session=session, account=viewer, gateway=services.gateway,
                                               public_base_url=services.settings.public_base_url)
    except MarketplaceError:
        return render(request, "payouts.html", {
            "creator": True, "alert": t.gettext("Stripe could not be reached. Please try again in a moment."),
            "this_month": utcnow().strftime("%Y-%m"),
            "payouts": payouts_service.summary(session=session, account_id=viewer.id),
            "lines": list(reversed(payouts_service.statement_lines(session=session, account_id=viewer.id))),
        }, account=viewer, status_code=502)
    return security.finish(request, RedirectResponse(url, status_code=303), settings_of(request))


@router.get(f"{PAGE}/statement")
def statement(request: Request, session: SessionDep, viewer: Viewer, t: TranslatorDep,
              month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
              format: Annotated[Literal["csv", "pdf"], Query()] = "pdf") -> Response:
    """A month's statement of the creator's earnings, in the page's language: every credit, refund, transfer and
    reversal, as CSV (amounts in euros with a dot, and in cents) or as a PDF."""
    if viewer is None:
        return redirect(request, f"/signin?next={PAGE}")
    if not payouts_service.may_be_paid(session, viewer):
        return render(request, "payouts.html", {"creator": False}, account=viewer, status_code=403)
    found = payouts_service.monthly_statement(session=session, account_id=viewer.id, month=month)
    header = [t.gettext("Date"), t.gettext("What"), t.gettext("Work"), t.gettext("Purchase"),
              t.gettext("Amount"), t.gettext("Status")]
    name = f"statement-{month}"
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([*header[:4], f"{header[4]} (EUR)", "cents", header[5]])
        for line in found.lines:
            writer.writerow([line.at.date().isoformat(), t.label("statement_line", line.kind), line.title,
                             line.purchase_id, f"{Decimal(line.amount_cents).scaleb(-2):.2f}", line.amount_cents,
                             t.label("payout_status", line.status)])
        response = Response(out.getvalue(), media_type="text/csv; charset=utf-8")
    else:
        body = pdf.document(
            title=t.gettext("Statement %(month)s", month=month),
            facts=[(t.gettext("Creator"), viewer.display_name),
                   (t.gettext("Earned"), t.money(found.earned_cents)),
                   (t.gettext("Transferred"), t.money(found.transferred_cents))],
            header=header,
            rows=[[t.date(line.at), t.label("statement_line", line.kind), line.title, str(line.purchase_id),
                   t.money(line.amount_cents, line.currency), t.label("payout_status", line.status)]
                  for line in found.lines],
            notes=[t.gettext("Amounts in euros. Transfers go to your Stripe account; a refund takes back your share "
                             "of the sale.")])
        response = Response(body, media_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{format}"'
    return security.finish(request, response, settings_of(request))
