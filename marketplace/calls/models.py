"""Open calls: an organisation's brief with a budget, the team proposals that answer it, and each team's members.

A call is `open` until its caller awards one submitted proposal (`awarded`), then `paid` once the budget's card
payment is recorded (payments tells the calls service), and `delivered` when the team links the commissioned work.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow
from marketplace.core.limits import Currency


class CallStatus(StrEnum):
    open = "open"  # proposals are formed and submitted until the deadline
    awarded = "awarded"  # the caller chose one submitted proposal; the budget is to be paid
    paid = "paid"  # the budget's payment is recorded; each team member is credited their share
    delivered = "delivered"  # the team linked the commissioned work
    closed = "closed"


class ProposalStatus(StrEnum):
    forming = "forming"  # waiting for every invited member to accept
    submitted = "submitted"  # the whole team accepted before the deadline: the caller sees it
    declined = "declined"  # a member declined, or the caller awarded another proposal
    awarded = "awarded"


class MemberStatus(StrEnum):
    invited = "invited"
    accepted = "accepted"
    declined = "declined"


class Call(SQLModel, table=True):
    """Table `open_call` (CALL is an SQL statement)."""

    __tablename__ = "open_call"

    id: int | None = Field(default=None, primary_key=True)
    caller_id: int = Field(foreign_key="account.id", index=True)
    title: str = Field(max_length=200)
    brief: str = Field(sa_column=Column(Text, nullable=False))
    budget_cents: int
    currency: str = Field(default="EUR", max_length=3)
    deadline: datetime = Field(index=True)
    status: str = Field(default=CallStatus.open.value, sa_type=String(16), index=True)
    awarded_proposal_id: int | None = Field(default=None)
    work_id: int | None = Field(default=None, foreign_key="work.id")  # the delivered work
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    awarded_at: datetime | None = None
    paid_at: datetime | None = None
    delivered_at: datetime | None = None


class CallDiscipline(SQLModel, table=True):
    """The disciplines a call asks for (one row each: the list filters by discipline)."""

    __tablename__ = "call_discipline"

    call_id: int = Field(foreign_key="open_call.id", primary_key=True)
    discipline: str = Field(max_length=32, primary_key=True, index=True)


class Proposal(SQLModel, table=True):
    __tablename__ = "call_proposal"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="open_call.id", index=True)
    author_id: int = Field(foreign_key="account.id", index=True)
    title: str = Field(max_length=200)
    pitch: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=ProposalStatus.forming.value, sa_type=String(16), index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None


class TeamMember(SQLModel, table=True):
    """One creator of a proposal's team, with their share of the budget (basis points; the team's sum to 10,000)
    and their role in words. `position` keeps the team's order, the author first (the split's ties go to them)."""

    __tablename__ = "call_team_member"
    __table_args__ = (UniqueConstraint("proposal_id", "account_id", name="uq_call_team_member"),
                      Index("ix_call_team_member_account_status", "account_id", "status"))

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="call_proposal.id", index=True)
    account_id: int = Field(foreign_key="account.id")
    position: int
    share_bps: int
    role: str = Field(max_length=80)
    status: str = Field(default=MemberStatus.invited.value, sa_type=String(16))
    responded_at: datetime | None = None


# ------------------------------------------------------------------------------------------------ what the API shows
class TeamMemberPublic(SQLModel):
    user_id: int
    display_name: str
    share_bps: int
    role: str
    status: MemberStatus


class ProposalPublic(SQLModel):
    id: int
    call_id: int
    author_id: int
    title: str
    pitch: str
    status: ProposalStatus
    team: list[TeamMemberPublic]
    created_at: datetime
    submitted_at: datetime | None


class CallerPublic(SQLModel):
    id: int
    display_name: str


class CallPublic(SQLModel):
    id: int
    caller: CallerPublic
    title: str
    brief: str
    disciplines: list[str]
    budget_cents: int
    currency: Currency
    deadline: datetime
    status: CallStatus
    proposal_count: int = Field(description="proposals the whole team submitted")
    awarded_proposal_id: int | None
    work_id: int | None = Field(description="the commissioned work, once delivered")
    created_at: datetime
    awarded_at: datetime | None
    paid_at: datetime | None
    delivered_at: datetime | None


class CallsPublic(SQLModel):
    data: list[CallPublic]
    count: int
    page: int
    page_size: int
