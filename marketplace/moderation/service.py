"""Moderation: reports of works (anyone, signed in or not), the admins' queue, and their decisions (hide, restore,
dismiss), each logged with who and when. No FastAPI.

Moderation owns `work_report` and `moderation_decision`. A work's hidden state is the catalog's (`work.hidden_at`,
`work.hidden_reason`, set through catalog.service.hide / restore in the decision's transaction): the catalog keeps
hidden works out of its listings, its pages and its media, and the checkouts refuse them.

Who is told (DSA): the work's creators get the statement of reasons on a hide and on a restore (art. 17); the
reporters whose reports a decision resolves are told the decision (art. 16(5)): accounts in their notices, anonymous
reporters by mail when they left an address (in English: their language is not known).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from marketplace.accounts import lifecycle
from marketplace.accounts.models import Account
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import Work
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Conflict, NotFound
from marketplace.mail import outbox
from marketplace.mail.outbox import Sender
from marketplace.mail.texts import _, translate
from marketplace.moderation.models import (
    DecisionAction,
    DecisionPublic,
    ModerationDecision,
    ReportAdmin,
    ReportReason,
    ReportStatus,
    WorkReport,
)
from marketplace.moderation.schemas import ReportCreate, ReportFilters

_REPORTS = WorkReport.__table__
log = logging.getLogger(__name__)
# After a hide is committed: what other domains do about the work (payments expires its open checkouts), each
# called with (session, work id, the process's adapters). Registered by the composition root (marketplace.services).
HideHandler = Callable[[Session, int, Any], None]
_hide_handlers: dict[str, HideHandler] = {}


def register_hide_handler(name: str, handler: HideHandler) -> None:
    """Call `handler` after each hide (registering the same name again replaces it)."""
    _hide_handlers[name] = handler
ALREADY_REPORTED = "You have reported this work already: your report is in the moderators' queue"
ALREADY_HIDDEN = "This work is hidden already"
NOT_HIDDEN = "This work is not hidden"


# ------------------------------------------------------------------------------------------------------ reports
def report_limit_key(account_id: int | None, email: str | None) -> str | None:
    """Whose reports a rate limit counts: the account's, else the anonymous reporter's e-mail (else the client
    address alone)."""
    if account_id is not None:
        return f"account-{account_id}"
    return f"email-{email.strip().lower()}" if email else None


def report_work(*, session: Session, work_id: int, reporter: Account | None, report_in: ReportCreate) -> WorkReport:
    """A notice about a work the reporter can see (404 otherwise, as the work's page). A signed-in reporter has one
    open report per work (409 for a second); an anonymous one may leave an e-mail to be told the decision. The
    caller rate-limits (per account or e-mail, and per client address)."""
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=reporter)
    if reporter is not None and session.exec(select(WorkReport.id).where(
            WorkReport.work_id == work.id, WorkReport.reporter_id == reporter.id,
            WorkReport.status == ReportStatus.open.value)).first() is not None:
        raise Conflict(ALREADY_REPORTED)
    email = str(report_in.email).strip().lower() if (report_in.email and reporter is None) else None
    report = WorkReport(work_id=work.id, reporter_id=reporter.id if reporter else None, reporter_email=email,
                        reason=ReportReason(report_in.reason).value, details=report_in.details.strip())
    session.add(report)
    session.commit()
    session.refresh(report)
    return report


def list_reports(*, session: Session, filters: ReportFilters) -> tuple[list[WorkReport], int]:
    """The queue: open reports first, the oldest first (first come, first decided), then the others, newest first."""
    conditions = []
    if filters.status:
        conditions.append(WorkReport.status == filters.status.value)
    if filters.work_id is not None:
        conditions.append(WorkReport.work_id == filters.work_id)
    count = session.exec(select(func.count()).select_from(WorkReport).where(*conditions)).one()
    is_open = WorkReport.status == ReportStatus.open.value
    rows = session.exec(select(WorkReport).where(*conditions).order_by(
        case((is_open, 0), else_=1), case((is_open, WorkReport.created_at)), col(WorkReport.created_at).desc(),
        col(WorkReport.id).desc()).offset((filters.page - 1) * filters.page_size).limit(filters.page_size)).all()
    return list(rows), count


def reports_admin(*, session: Session, reports: Sequence[WorkReport]) -> list[ReportAdmin]:
    works = {w.id: w for w in session.exec(select(Work).where(
        col(Work.id).in_({r.work_id for r in reports}))).all()} if reports else {}
    return [ReportAdmin(
        id=r.id, work_id=r.work_id, status=ReportStatus(r.status), reason=ReportReason(r.reason),
        created_at=r.created_at, work_title=works[r.work_id].title, work_hidden=works[r.work_id].hidden_at is not None,
        details=r.details, reporter_id=r.reporter_id, reporter_email=r.reporter_email, resolved_at=r.resolved_at,
        decision_id=r.decision_id) for r in reports]


def get_report_or_raise(*, session: Session, report_id: int) -> WorkReport:
    report = session.get(WorkReport, report_id)
    if report is None:
        raise NotFound(f"Report {report_id} not found")
    return report


# ---------------------------------------------------------------------------------------------------- decisions
def hide(*, session: Session, work_id: int, admin: Account, reason: str, sender: Sender,
         adapters: Any = None) -> ModerationDecision:
    """Hide the work (409 when it is hidden already): every open report of it is `actioned`, its creators get the
    reason, its reporters the decision. One transaction; the guarded update on the work decides a race. Then the
    hide handlers run (`adapters`: what they need, e.g. the Stripe gateway): a failing one is logged, the hide
    stands (an open checkout then ends at its own expiry)."""
    work = catalog_service.get_work_or_raise(session=session, work_id=work_id)
    now = utcnow()
    if not catalog_service.hide(session, work_id=work.id, reason=reason, now=now):
        session.rollback()
        raise Conflict(ALREADY_HIDDEN)
    decision, reports = _decide(session, work=work, admin=admin, action=DecisionAction.hide, reason=reason,
                                resolve_as=ReportStatus.actioned)
    _tell_creators(session, work=work, sender=sender, reason=reason,
                   subject=_("Your work “%(title)s” was hidden"),
                   text=_("Our moderation hid your work “%(title)s” after a report: it is out of the gallery and "
                          "cannot be bought. The reason: “%(reason)s”. If you disagree, write to us at the address "
                          "in the imprint: an admin can restore it."))
    _tell_reporters(session, work=work, reports=reports, sender=sender, reason=reason,
                    text=_("Thank you for your report of “%(title)s”. Our moderation hid the work. The reason: "
                           "“%(reason)s”."))
    decision = _commit(session, decision)
    if adapters is not None:
        for name, handler in list(_hide_handlers.items()):
            try:
                handler(session, work.id, adapters)
            except Exception:
                session.rollback()
                log.exception("hide handler %s failed for work %s", name, work.id)
    return decision


def restore(*, session: Session, work_id: int, admin: Account, reason: str, sender: Sender) -> ModerationDecision:
    """Make a hidden work visible (and for sale) again (409 when it is not hidden); any open report of it is
    dismissed; its creators get the reason."""
    work = catalog_service.get_work_or_raise(session=session, work_id=work_id)
    if not catalog_service.restore(session, work_id=work.id, now=utcnow()):
        session.rollback()
        raise Conflict(NOT_HIDDEN)
    decision, reports = _decide(session, work=work, admin=admin, action=DecisionAction.restore, reason=reason,
                                resolve_as=ReportStatus.dismissed)
    _tell_creators(session, work=work, sender=sender, reason=reason,
                   subject=_("Your work “%(title)s” is visible again"),
                   text=_("Our moderation restored your work “%(title)s”: it is in the gallery and for sale again. "
                          "The reason: “%(reason)s”."))
    _tell_reporters(session, work=work, reports=reports, sender=sender, reason=reason, text=_KEPT)
    return _commit(session, decision)


_KEPT = _("Thank you for your report of “%(title)s”. Our moderation decided that the work stays online. The "
          "reason: “%(reason)s”.")


def dismiss(*, session: Session, report_id: int, admin: Account, reason: str, sender: Sender) -> ModerationDecision:
    """Dismiss one open report (409 otherwise): the work stays as it is; the reporter is told why."""
    report = get_report_or_raise(session=session, report_id=report_id)
    if report.status != ReportStatus.open:
        raise Conflict(f"This report is {report.status} already")
    work = catalog_service.get_work_or_raise(session=session, work_id=report.work_id)
    decision, reports = _decide(session, work=work, admin=admin, action=DecisionAction.dismiss, reason=reason,
                                resolve_as=ReportStatus.dismissed, report_ids=[report.id])
    if not reports:  # dismissed or actioned meanwhile by another admin
        session.rollback()
        raise Conflict("This report was decided meanwhile")
    _tell_reporters(session, work=work, reports=reports, sender=sender, reason=reason, text=_KEPT)
    return _commit(session, decision)


def _decide(session: Session, *, work: Work, admin: Account, action: DecisionAction, reason: str,
            resolve_as: ReportStatus, report_ids: list[int] | None = None) -> tuple[ModerationDecision, list[WorkReport]]:
    """Log the decision and resolve the open reports it answers (those given, or every open one of the work): a
    guarded update, so a report is resolved by one decision only."""
    now = utcnow()
    decision = ModerationDecision(work_id=work.id, admin_id=admin.id, action=action.value, reason=reason,
                                  created_at=now)
    session.add(decision)
    session.flush()
    guards = [_REPORTS.c.work_id == work.id, _REPORTS.c.status == ReportStatus.open.value]
    if report_ids is not None:
        guards.append(_REPORTS.c.id.in_(report_ids))
    resolved = list(session.execute(update(_REPORTS).where(*guards).values(
        status=resolve_as.value, resolved_at=now, decision_id=decision.id).returning(_REPORTS.c.id)).scalars())
    decision.report_ids = ",".join(str(i) for i in sorted(resolved))
    reports = list(session.exec(select(WorkReport).where(col(WorkReport.id).in_(resolved)))) if resolved else []
    return decision, reports


def _commit(session: Session, decision: ModerationDecision) -> ModerationDecision:
    session.commit()
    session.refresh(decision)
    outbox.wake_sender()
    return decision


def _tell_creators(session: Session, *, work: Work, sender: Sender, reason: str, subject: str, text: str) -> None:
    """Every creator of the work (the uploader and those named on it), each in their language."""
    ids = [c.user_id for c in catalog_service.creators_of(session, work)]
    lifecycle.notify_accounts(session, account_ids=ids, kind="moderation", subject=subject, text=text,
                              link=f"/works/{work.id}", params={"title": work.title, "reason": reason}, sender=sender)


def _tell_reporters(session: Session, *, work: Work, reports: Sequence[WorkReport], sender: Sender, reason: str,
                    text: str) -> None:
    params = {"title": work.title, "reason": reason}
    subject = _("Your report of “%(title)s” was decided")
    accounts = [r.reporter_id for r in reports if r.reporter_id is not None]
    if accounts:
        lifecycle.notify_accounts(session, account_ids=accounts, kind="report_decision", subject=subject, text=text,
                                  params=params, sender=sender)
    for email in dict.fromkeys(r.reporter_email for r in reports if r.reporter_id is None and r.reporter_email):
        outbox.queue_mail(session, to=email, subject=translate("en", subject, **params),
                          text=translate("en", text, **params), kind="report_decision", mail_from=sender.mail_from)


def export_of(*, session: Session, account_id: int) -> dict:
    """The reports the account made (its data export)."""
    rows = session.exec(select(WorkReport).where(WorkReport.reporter_id == account_id)
                        .order_by(col(WorkReport.id))).all()
    return {"reports": [{"id": r.id, "work_id": r.work_id, "reason": r.reason, "details": r.details,
                         "status": r.status, "created_at": r.created_at.isoformat(),
                         "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None} for r in rows]}


# ---------------------------------------------------------------------------------------------------- the log
def list_decisions(*, session: Session, work_id: int | None, page: int, page_size: int) -> tuple[list[DecisionPublic],
                                                                                                  int]:
    """The decisions log, newest first: who decided what on which work, when and why."""
    conditions = [ModerationDecision.work_id == work_id] if work_id is not None else []
    count = session.exec(select(func.count()).select_from(ModerationDecision).where(*conditions)).one()
    rows = session.exec(select(ModerationDecision, Account).join(
        Account, col(ModerationDecision.admin_id) == col(Account.id)).where(*conditions).order_by(
        col(ModerationDecision.created_at).desc(), col(ModerationDecision.id).desc())
        .offset((page - 1) * page_size).limit(page_size)).all()
    return [decision_public(d, a) for d, a in rows], count


def decision_public(decision: ModerationDecision, admin: Account) -> DecisionPublic:
    return DecisionPublic(id=decision.id, work_id=decision.work_id, admin_id=decision.admin_id,
                          admin_name=admin.display_name, action=DecisionAction(decision.action),
                          reason=decision.reason, created_at=decision.created_at,
                          report_ids=[int(i) for i in decision.report_ids.split(",") if i])


def decision_of(*, session: Session, decision: ModerationDecision) -> DecisionPublic:
    return decision_public(decision, session.get(Account, decision.admin_id))
