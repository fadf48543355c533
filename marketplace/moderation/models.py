"""Moderation (EU Digital Services Act notice-and-action): reports of works (notices, art. 16) and the admins'
decisions on them (hide, restore, dismiss; the statement of reasons of art. 17 is the decision's `reason`).

A hidden work's state lives on the work itself (`work.hidden_at`, `work.hidden_reason`, the catalog's): the log
here says who decided what and when; the column keeps every catalog query a plain filter on the row it reads.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow
from marketplace.core.limits import MAX_MODERATION_REASON_CHARS, MAX_REPORT_DETAILS_CHARS


class ReportReason(StrEnum):
    """What a notice says is wrong with the work (the DSA's categories of illegal or harmful content)."""

    illegal_content = "illegal_content"
    intellectual_property = "intellectual_property"
    privacy = "privacy"
    fraud = "fraud"
    hate_or_violence = "hate_or_violence"
    other = "other"


class ReportStatus(StrEnum):
    open = "open"  # in the admins' queue
    actioned = "actioned"  # the work was hidden on it
    dismissed = "dismissed"  # an admin decided the work stays (or was restored)


class DecisionAction(StrEnum):
    hide = "hide"
    restore = "restore"
    dismiss = "dismiss"


class WorkReport(SQLModel, table=True):
    """A notice about a work, from an account (`reporter_id`) or anonymous (an optional `reporter_email` to be
    told the decision)."""

    __tablename__ = "work_report"
    __table_args__ = (Index("ix_work_report_status_created_at", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    work_id: int = Field(foreign_key="work.id", index=True)
    reporter_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    reporter_email: str | None = Field(default=None, max_length=320)
    reason: str = Field(sa_type=String(32))  # a ReportReason value
    details: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default=ReportStatus.open.value, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    decision_id: int | None = Field(default=None)  # the decision that resolved it


class ModerationDecision(SQLModel, table=True):
    """One admin decision on a work: who, when, what, why, and the reports it resolved (their ids, comma-separated:
    the log is read whole per decision, never searched by report)."""

    __tablename__ = "moderation_decision"

    id: int | None = Field(default=None, primary_key=True)
    work_id: int = Field(foreign_key="work.id", index=True)
    admin_id: int = Field(foreign_key="account.id", index=True)
    action: str = Field(sa_type=String(16))  # a DecisionAction value
    reason: str = Field(sa_column=Column(Text, nullable=False))
    report_ids: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow, index=True)


# ------------------------------------------------------------------------------------------------ what the API shows
class ReportPublic(SQLModel):
    id: int
    work_id: int
    status: ReportStatus
    reason: ReportReason
    created_at: datetime


class ReportAdmin(ReportPublic):
    """A report as the admins' queue shows it."""

    work_title: str
    work_hidden: bool = Field(description="whether the work is hidden now")
    details: str
    reporter_id: int | None = Field(description="the reporting account (null: anonymous)")
    reporter_email: str | None = Field(description="the anonymous reporter's contact, if they gave one")
    resolved_at: datetime | None
    decision_id: int | None


class ReportsAdmin(SQLModel):
    data: list[ReportAdmin]
    count: int
    page: int
    page_size: int


class DecisionPublic(SQLModel):
    id: int
    work_id: int
    admin_id: int
    admin_name: str
    action: DecisionAction
    reason: str = Field(description="the statement of reasons its creators were told")
    report_ids: list[int]
    created_at: datetime


class DecisionsPublic(SQLModel):
    data: list[DecisionPublic]
    count: int
    page: int
    page_size: int


__all__ = ["MAX_MODERATION_REASON_CHARS", "MAX_REPORT_DETAILS_CHARS"]
