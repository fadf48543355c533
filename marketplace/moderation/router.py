"""Moderation's API: anyone reports a work; admins read the queue and the decisions log, hide, restore and dismiss."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool

from marketplace.accounts.dependencies import CurrentAdmin, OptionalAccount
from marketplace.core.api_errors import errors
from marketplace.core.deps import RateLimiterDep, ReportId, SessionDep, SettingsDep, WorkId, client_address
from marketplace.core.limits import MAX_DB_ID, MAX_PAGE, MAX_PAGE_SIZE
from marketplace.integrations.adapters import AdaptersDep
from marketplace.mail.outbox import Sender
from marketplace.moderation import service as moderation_service
from marketplace.moderation.models import DecisionPublic, DecisionsPublic, ReportPublic, ReportsAdmin, ReportStatus
from marketplace.moderation.schemas import DecisionIn, ReportCreate, ReportFilters

router = APIRouter(tags=["moderation"])


@router.post("/api/works/{work_id}/reports", status_code=status.HTTP_201_CREATED, response_model=ReportPublic,
             responses=errors(401, 404, 408, 409, 422, 429, 503))
async def report_work(work_id: WorkId, report_in: ReportCreate, request: Request, session: SessionDep,
                      viewer: OptionalAccount, limiter: RateLimiterDep) -> ReportPublic:
    """Report a work (a notice under the EU Digital Services Act), signed in or not: a `reason` and what is wrong
    (`details`). Anonymous reporters may leave an `email` to be told the decision. Rate limited per account (or
    e-mail) and per client address (429); one open report per account and work (409)."""
    email = str(report_in.email) if report_in.email else None
    key = moderation_service.report_limit_key(viewer.id if viewer else None, email)
    await limiter.hit("report", account=key, address=client_address(request))
    report = await run_in_threadpool(moderation_service.report_work, session=session, work_id=work_id,
                                     reporter=viewer, report_in=report_in)
    return ReportPublic.model_validate(report, from_attributes=True)


@router.get("/api/admin/reports", response_model=ReportsAdmin, responses=errors(401, 403, 422, 503))
def list_reports(
    session: SessionDep, admin: CurrentAdmin,
    status_: Annotated[ReportStatus | None, Query(alias="status")] = None,
    work_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> ReportsAdmin:
    """The moderation queue (admins): open reports first, the oldest first, then the decided ones."""
    filters = ReportFilters(status=status_, work_id=work_id, page=page, page_size=page_size)
    reports, count = moderation_service.list_reports(session=session, filters=filters)
    return ReportsAdmin(data=moderation_service.reports_admin(session=session, reports=reports), count=count,
                        page=page, page_size=page_size)


@router.get("/api/admin/moderation-log", response_model=DecisionsPublic, responses=errors(401, 403, 422, 503))
def moderation_log(
    session: SessionDep, admin: CurrentAdmin,
    work_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> DecisionsPublic:
    """Every moderation decision (admins), newest first: which admin, when, what, why, the reports it resolved."""
    rows, count = moderation_service.list_decisions(session=session, work_id=work_id, page=page, page_size=page_size)
    return DecisionsPublic(data=rows, count=count, page=page, page_size=page_size)


@router.post("/api/admin/works/{work_id}/hide", response_model=DecisionPublic,
             responses=errors(401, 403, 404, 408, 409, 422, 503))
def hide_work(work_id: WorkId, decision_in: DecisionIn, session: SessionDep, admin: CurrentAdmin,
              settings: SettingsDep, services: AdaptersDep) -> DecisionPublic:
    """Hide a work (admins) with the reason its creators are told: out of every listing and search, its page and
    media 404 for everyone but its creators and admins, its checkout refused (409). Its open reports are
    actioned and their reporters told; its open checkouts are expired at Stripe. 409 when it is hidden already."""
    decision = moderation_service.hide(session=session, work_id=work_id, admin=admin, reason=decision_in.reason,
                                       sender=Sender.of(settings), adapters=services)
    return moderation_service.decision_of(session=session, decision=decision)


@router.post("/api/admin/works/{work_id}/restore", response_model=DecisionPublic,
             responses=errors(401, 403, 404, 408, 409, 422, 503))
def restore_work(work_id: WorkId, decision_in: DecisionIn, session: SessionDep, admin: CurrentAdmin,
                 settings: SettingsDep) -> DecisionPublic:
    """Restore a hidden work (admins), with the reason its creators are told. 409 when it is not hidden."""
    decision = moderation_service.restore(session=session, work_id=work_id, admin=admin, reason=decision_in.reason,
                                          sender=Sender.of(settings))
    return moderation_service.decision_of(session=session, decision=decision)


@router.post("/api/admin/reports/{report_id}/dismiss", response_model=DecisionPublic,
             responses=errors(401, 403, 404, 408, 409, 422, 503))
def dismiss_report(report_id: ReportId, decision_in: DecisionIn, session: SessionDep, admin: CurrentAdmin,
                   settings: SettingsDep) -> DecisionPublic:
    """Dismiss an open report (admins): the work stays; the reporter is told the reason. 409 when decided."""
    decision = moderation_service.dismiss(session=session, report_id=report_id, admin=admin,
                                          reason=decision_in.reason, sender=Sender.of(settings))
    return moderation_service.decision_of(session=session, decision=decision)
