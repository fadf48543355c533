"""Moderation on the web: "Report this work" on a work's page (anyone), and the admins' queue at /admin/reports
with its hide, restore and dismiss forms and the decisions log. Every action is the same service call as its API
route (marketplace/moderation/router.py), rate limits included."""

from __future__ import annotations

from functools import partial

from anyio import from_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.responses import Response

from marketplace.accounts.models import Account
from marketplace.core.deps import RateLimiterDep, ReportId, SessionDep, WorkId, client_address
from marketplace.core.exceptions import MarketplaceError
from marketplace.integrations.adapters import AdaptersDep
from marketplace.mail.outbox import Sender
from marketplace.moderation import service as moderation_service
from marketplace.moderation.models import ReportReason, ReportStatus
from marketplace.moderation.schemas import DecisionIn, ReportCreate, ReportFilters
from marketplace.web.dependencies import CsrfForm, TranslatorDep, Viewer
from marketplace.web.forms import text
from marketplace.web.i18n import Translator
from marketplace.web.templating import admin_or_refusal, redirect, render, settings_of

router = APIRouter(include_in_schema=False)
REASONS = [r.value for r in ReportReason]


@router.post("/works/{work_id}/report", response_class=HTMLResponse)
def report(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
           t: TranslatorDep, limiter: RateLimiterDep) -> Response:
    """The work page's "Report this work" form: moderation_service.report_work, as POST /api/works/{id}/reports.
    A thank-you page; the refusals (invalid fields, a second report, too many) on the same page with their code."""
    email = text(form, "email") or None
    try:
        report_in = ReportCreate(reason=text(form, "reason"), details=text(form, "details"),
                                 email=email if viewer is None else None)
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors()}
        message = (t.gettext("Choose what is wrong with the work.") if "reason" in fields else
                   t.gettext("Enter a valid e-mail address, or leave it empty.") if "email" in fields else
                   t.gettext("The details are too long (at most 4,000 characters)."))
        return _result(request, viewer, work_id, error=message, status_code=422)
    try:
        from_thread.run(partial(limiter.hit, "report", account=moderation_service.report_limit_key(
            viewer.id if viewer else None, str(report_in.email) if report_in.email else None),
            address=client_address(request)))
        moderation_service.report_work(session=session, work_id=work_id, reporter=viewer, report_in=report_in)
    except MarketplaceError as exc:
        if exc.status_code == 404:
            raise HTTPException(404) from None
        session.rollback()
        response = _result(request, viewer, work_id, status_code=exc.status_code if exc.status_code < 500 else 503,
                           error=t.gettext("Your report could not be sent: %(error)s", error=exc.message))
        response.headers.update(exc.headers or {})
        return response
    return _result(request, viewer, work_id)


def _result(request: Request, viewer: Account | None, work_id: int, *, error: str | None = None,
            status_code: int = 200) -> HTMLResponse:
    return render(request, "report_result.html", {"work_id": work_id, "error": error}, account=viewer,
                  status_code=status_code)


# ------------------------------------------------------------------------------------------------ the admins' queue
def _queue(request: Request, session, viewer: Account, t: Translator, *, error: str | None = None,
           status_code: int = 200) -> HTMLResponse:
    q = request.query_params
    shown = q.get("status") if q.get("status") in {s.value for s in ReportStatus} else ReportStatus.open.value
    reports, count = moderation_service.list_reports(session=session, filters=ReportFilters(
        status=ReportStatus(shown), page_size=100))
    decisions, _ = moderation_service.list_decisions(session=session, work_id=None, page=1, page_size=50)
    return render(request, "admin_reports.html", {
        "reports": moderation_service.reports_admin(session=session, reports=reports), "count": count,
        "shown": shown, "statuses": [s.value for s in ReportStatus], "decisions": decisions, "error": error,
    }, account=viewer, status_code=status_code)


@router.get("/admin/reports", response_class=HTMLResponse)
def reports_page(request: Request, session: SessionDep, viewer: Viewer, t: TranslatorDep) -> Response:
    if (refusal := admin_or_refusal(request, viewer, "/admin/reports")) is not None:
        return refusal
    return _queue(request, session, viewer, t)


def _decide(request: Request, form, session, viewer: Account | None, t: Translator, decide) -> Response:
    if (refusal := admin_or_refusal(request, viewer, "/admin/reports")) is not None:
        return refusal
    try:
        decision_in = DecisionIn(reason=text(form, "reason"))
    except ValidationError:
        return _queue(request, session, viewer, t, status_code=422, error=t.gettext(
            "State the reason for the decision (at most 2,000 characters): the creators and reporters are told it."))
    try:
        decide(decision_in.reason, Sender.of(settings_of(request)))
    except MarketplaceError as exc:
        if exc.status_code == 404:
            raise HTTPException(404) from None
        session.rollback()
        return _queue(request, session, viewer, t, status_code=exc.status_code if exc.status_code < 500 else 503,
                      error=t.gettext("This could not be done: %(error)s", error=exc.message))
    return redirect(request, "/admin/reports")


@router.post("/admin/works/{work_id}/hide", response_class=HTMLResponse)
def hide(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
         t: TranslatorDep, services: AdaptersDep) -> Response:
    return _decide(request, form, session, viewer, t, lambda reason, sender: moderation_service.hide(
        session=session, work_id=work_id, admin=viewer, reason=reason, sender=sender, adapters=services))


@router.post("/admin/works/{work_id}/restore", response_class=HTMLResponse)
def restore(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
            t: TranslatorDep) -> Response:
    return _decide(request, form, session, viewer, t, lambda reason, sender: moderation_service.restore(
        session=session, work_id=work_id, admin=viewer, reason=reason, sender=sender))


@router.post("/admin/reports/{report_id}/dismiss", response_class=HTMLResponse)
def dismiss(report_id: ReportId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
            t: TranslatorDep) -> Response:
    return _decide(request, form, session, viewer, t, lambda reason, sender: moderation_service.dismiss(
        session=session, report_id=report_id, admin=viewer, reason=reason, sender=sender))
