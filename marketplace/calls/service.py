"""Open calls: posting, listing, team proposals (invite, accept, decline), the award, what payments need to charge
and split the budget, and the delivery of the commissioned work. No FastAPI, no Stripe.

The calls own `open_call`, `call_discipline`, `call_proposal` and `call_team_member`. Payments sits above the calls
(as above the catalog): it reads a call to open its checkout (`payable_call`), splits the budget by `team_shares`
and tells the calls when the payment is recorded or refunded (`record_paid`, `record_refunded`).

Every state change is a guarded update (db.transition_rows), so concurrent answers, awards and webhooks each win
once: the last acceptance submits the proposal (the proposal row is locked while the team's answers are counted),
and an award declines the other proposals, including one whose last member accepts at the same moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, exists, func, update
from sqlmodel import Session, col, select

from marketplace.accounts import lifecycle
from marketplace.accounts.models import Account, Role
from marketplace.calls.models import (
    Call,
    CallDiscipline,
    CallerPublic,
    CallPublic,
    CallStatus,
    MemberStatus,
    Proposal,
    ProposalPublic,
    ProposalStatus,
    TeamMember,
    TeamMemberPublic,
)
from marketplace.calls.schemas import MAX_DEADLINE_DAYS, CallCreate, CallFilters, ProposalCreate
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import Work, WorkStatus
from marketplace.catalog.schemas import WorkFilters
from marketplace.core.db import transition_rows, utcnow
from marketplace.core.exceptions import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.core.limits import Currency
from marketplace.mail import outbox
from marketplace.mail.outbox import Sender
from marketplace.mail.texts import _

CREATOR_ROLES = (Role.creator.value, Role.admin.value)
DEADLINE_PASSED = "The call's deadline has passed: it takes no more proposals or answers"


def aware(value: datetime) -> datetime:
    """SQLite gives datetimes back without their zone; every datetime stored here is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def is_creator(account: Account | None) -> bool:
    return account is not None and account.role in CREATOR_ROLES


# ------------------------------------------------------------------------------------------------------ calls
def create_call(*, session: Session, caller: Account, call_in: CallCreate) -> Call:
    """Post a call (any signed-in account). The deadline is in the future and at most MAX_DEADLINE_DAYS ahead."""
    now = utcnow()
    deadline = call_in.deadline  # in UTC (the schema)
    if deadline <= now:
        raise InvalidInput("The deadline must be in the future", loc=("body", "deadline"))
    if deadline > now + timedelta(days=MAX_DEADLINE_DAYS):
        raise InvalidInput(f"The deadline must be at most {MAX_DEADLINE_DAYS} days ahead", loc=("body", "deadline"))
    call = Call(caller_id=caller.id, title=call_in.title, brief=call_in.brief, budget_cents=call_in.budget_cents,
                currency=call_in.currency.value, deadline=deadline)
    session.add(call)
    session.flush()
    session.add_all(CallDiscipline(call_id=call.id, discipline=d) for d in call_in.disciplines)
    session.commit()
    session.refresh(call)
    return call


def get_call(*, session: Session, call_id: int) -> Call | None:
    return session.get(Call, call_id)


def titles(*, session: Session, call_ids: set[int]) -> dict[int, str]:
    """The titles of these calls (for ledger lines that share a call's budget)."""
    if not call_ids:
        return {}
    return dict(session.exec(select(Call.id, Call.title).where(col(Call.id).in_(sorted(call_ids)))).all())


def get_call_or_raise(*, session: Session, call_id: int) -> Call:
    call = get_call(session=session, call_id=call_id)
    if call is None:
        raise NotFound(f"Call {call_id} not found")
    return call


def list_calls(*, session: Session, filters: CallFilters) -> tuple[list[Call], int]:
    """One page of calls, open ones first (the nearest deadline first), then the others, newest first."""
    query = select(Call)
    if filters.discipline:
        query = query.where(exists().where(CallDiscipline.call_id == Call.id,
                                           CallDiscipline.discipline == filters.discipline))
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    is_open = Call.status == CallStatus.open.value
    rows = session.exec(query.order_by(
        case((is_open, 0), else_=1), case((is_open, Call.deadline)), col(Call.created_at).desc(), col(Call.id).desc(),
    ).offset((filters.page - 1) * filters.page_size).limit(filters.page_size)).all()
    return list(rows), count


def calls_public(*, session: Session, calls: Sequence[Call]) -> list[CallPublic]:
    """The calls' public shape, read in a few queries whatever their number."""
    ids = [c.id for c in calls]
    disciplines: dict[int, list[str]] = {i: [] for i in ids}
    for call_id, discipline in session.exec(select(CallDiscipline.call_id, CallDiscipline.discipline)
                                            .where(col(CallDiscipline.call_id).in_(ids))).all():
        disciplines[call_id].append(discipline)
    counts = dict(session.exec(select(Proposal.call_id, func.count()).where(
        col(Proposal.call_id).in_(ids), col(Proposal.submitted_at).is_not(None)).group_by(Proposal.call_id)).all())
    callers = {a.id: a for a in session.exec(select(Account).where(
        col(Account.id).in_({c.caller_id for c in calls}))).all()}
    return [CallPublic(
        **call.model_dump(exclude={"caller_id", "deadline", "currency"}), deadline=aware(call.deadline),
        currency=Currency(call.currency),
        caller=CallerPublic(id=call.caller_id, display_name=callers[call.caller_id].display_name),
        disciplines=sorted(disciplines[call.id]), proposal_count=counts.get(call.id, 0),
    ) for call in calls]


def call_public(*, session: Session, call: Call) -> CallPublic:
    return calls_public(session=session, calls=[call])[0]


def is_past_deadline(call: Call) -> bool:
    return utcnow() >= aware(call.deadline)


# -------------------------------------------------------------------------------------------------- proposals
def submit_proposal(*, session: Session, call: Call, author: Account, proposal_in: ProposalCreate) -> Proposal:
    """A creator on the team answers the call: the proposal is `forming` while the others are invited, and
    `submitted` at once for a team of one. Every member is a creator's account, once; the shares sum to 10,000
    (the schema checks that); the author is on the team (first in it: the split's ties go to them); the caller is
    not. Before the deadline only. Nothing is stored when anything is refused."""
    if not is_creator(author):
        raise Forbidden("Only creator accounts can answer a call")
    if author.id == call.caller_id:
        raise Forbidden("You posted this call: you cannot answer it")
    if call.status != CallStatus.open:
        raise Conflict(f"This call is {call.status}: it takes no more proposals")
    if is_past_deadline(call):
        raise Conflict(DEADLINE_PASSED)
    team = _checked_team(session, call, author, proposal_in)
    now = utcnow()
    proposal = Proposal(call_id=call.id, author_id=author.id, title=proposal_in.title, pitch=proposal_in.pitch)
    session.add(proposal)
    session.flush()
    session.add_all(TeamMember(
        proposal_id=proposal.id, account_id=m.user_id, position=position, share_bps=m.share_bps, role=m.role,
        status=MemberStatus.accepted if m.user_id == author.id else MemberStatus.invited,
        responded_at=now if m.user_id == author.id else None) for position, m in enumerate(team))
    session.flush()
    if len(team) == 1:
        _submit_if_complete(session, call, proposal.id)
    session.commit()
    session.refresh(proposal)
    return proposal


def _checked_team(session: Session, call: Call, author: Account, proposal_in: ProposalCreate):
    """The team, author first, after the checks that need the accounts (422 at the member that fails)."""
    ids = [m.user_id for m in proposal_in.team]
    accounts = {a.id: a for a in session.exec(select(Account).where(col(Account.id).in_(ids))).all()}
    for index, member in enumerate(proposal_in.team):
        loc = ("body", "team", index, "user_id")
        account = accounts.get(member.user_id)
        if account is None:
            raise InvalidInput(f"No account {member.user_id}", loc=loc)
        if not is_creator(account):
            raise InvalidInput(f"{account.display_name} is not a creator: only creators can be on a team", loc=loc)
        if account.id == call.caller_id:
            raise InvalidInput("The caller cannot be on a team answering their own call", loc=loc)
    if author.id not in ids:
        raise InvalidInput("You must be on the team you propose", loc=("body", "team"))
    return sorted(proposal_in.team, key=lambda m: m.user_id != author.id)  # stable: the others keep their order


def get_proposal_or_raise(*, session: Session, call: Call, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.call_id != call.id:
        raise NotFound(f"Proposal {proposal_id} not found in call {call.id}")
    return proposal


def respond(*, session: Session, call: Call, proposal_id: int, member: Account, accept: bool) -> Proposal:
    """An invited member accepts or declines. The last acceptance submits the proposal (before the deadline
    only); a decline makes the whole proposal `declined` (its author forms a new team). Someone not invited: 403;
    answered already, or the proposal no longer forming: 409. Nothing changes when refused."""
    proposal = get_proposal_or_raise(session=session, call=call, proposal_id=proposal_id)
    mine = session.exec(select(TeamMember).where(TeamMember.proposal_id == proposal.id,
                                                 TeamMember.account_id == member.id)).first()
    if mine is None:
        raise Forbidden("You are not on this proposal's team")
    if mine.status != MemberStatus.invited:
        raise Conflict(f"You have answered already ({mine.status})")
    if proposal.status != ProposalStatus.forming:
        raise Conflict(f"This proposal is {proposal.status}: it takes no more answers")
    if call.status != CallStatus.open:
        raise Conflict(f"This call is {call.status}: it takes no more answers")
    if accept and is_past_deadline(call):
        raise Conflict(DEADLINE_PASSED)
    _lock(session, proposal.id)
    answered = session.exec(update(TeamMember).where(
        TeamMember.id == mine.id, TeamMember.status == MemberStatus.invited.value).values(
        status=(MemberStatus.accepted if accept else MemberStatus.declined).value, responded_at=utcnow())).rowcount
    if not answered:
        session.rollback()
        raise Conflict("You have answered already")
    if accept:
        _submit_if_complete(session, call, proposal.id)
    else:
        transition_rows(session, Proposal.__table__, [proposal.id], from_=(ProposalStatus.forming,),
                        to=ProposalStatus.declined)
    session.commit()
    session.refresh(proposal)
    return proposal


def _lock(session: Session, proposal_id: int) -> None:
    """Hold the proposal's row until commit (PostgreSQL; SQLite has one writer anyway), so two last acceptances
    counted at once cannot both see the other's answer missing."""
    session.exec(select(Proposal.id).where(Proposal.id == proposal_id).with_for_update()).first()


def _submit_if_complete(session: Session, call: Call, proposal_id: int) -> None:
    """forming -> submitted once every member accepted, while the call is open and before its deadline."""
    waiting = session.exec(select(func.count()).select_from(TeamMember).where(
        TeamMember.proposal_id == proposal_id, TeamMember.status != MemberStatus.accepted.value)).one()
    if waiting:
        return
    call_open = exists().where(Call.id == call.id, Call.status == CallStatus.open.value, Call.deadline > utcnow())
    session.exec(update(Proposal).where(Proposal.id == proposal_id, Proposal.status == ProposalStatus.forming.value,
                                        call_open)
                 .values(status=ProposalStatus.submitted.value, submitted_at=utcnow(), updated_at=utcnow()))


def visible_proposals(*, session: Session, call: Call, viewer: Account) -> list[Proposal]:
    """The caller (and admins) see the proposals their team submitted; a team member sees their own; anyone else
    sees none."""
    query = select(Proposal).where(Proposal.call_id == call.id)
    if viewer.id == call.caller_id or viewer.role == Role.admin:
        query = query.where(col(Proposal.submitted_at).is_not(None))
    else:
        query = query.where(exists().where(TeamMember.proposal_id == Proposal.id, TeamMember.account_id == viewer.id))
    return list(session.exec(query.order_by(col(Proposal.id))).all())


def proposals_public(*, session: Session, proposals: Sequence[Proposal]) -> list[ProposalPublic]:
    ids = [p.id for p in proposals]
    teams: dict[int, list[TeamMemberPublic]] = {i: [] for i in ids}
    for member, name in session.exec(
            select(TeamMember, Account.display_name).join(Account, col(Account.id) == col(TeamMember.account_id))
            .where(col(TeamMember.proposal_id).in_(ids)).order_by(col(TeamMember.position))).all():
        teams[member.proposal_id].append(TeamMemberPublic(user_id=member.account_id, display_name=name,
                                                          share_bps=member.share_bps, role=member.role,
                                                          status=member.status))
    return [ProposalPublic(**p.model_dump(), team=teams[p.id]) for p in proposals]


def invitations(*, session: Session, account: Account) -> list[tuple[Call, Proposal]]:
    """The proposals waiting for this creator's answer (the studio lists them), oldest first."""
    return list(session.exec(
        select(Call, Proposal).join(Proposal, col(Proposal.call_id) == col(Call.id))
        .join(TeamMember, col(TeamMember.proposal_id) == col(Proposal.id))
        .where(TeamMember.account_id == account.id, TeamMember.status == MemberStatus.invited.value,
               Proposal.status == ProposalStatus.forming.value, Call.status == CallStatus.open.value)
        .order_by(col(Proposal.id))).all())


# ------------------------------------------------------------------------------------------------------ award
def award(*, session: Session, call: Call, proposal_id: int, caller: Account, sender: Sender | None = None) -> Call:
    """The caller awards one submitted proposal: the call `awarded`, that proposal `awarded`, every other one
    `declined`. Someone else: 403; the call not open or the proposal not submitted: 409."""
    if caller.id != call.caller_id:
        raise Forbidden("Only the caller can award this call")
    proposal = get_proposal_or_raise(session=session, call=call, proposal_id=proposal_id)
    if proposal.status != ProposalStatus.submitted:
        raise Conflict(f"Only a submitted proposal can be awarded; this one is {proposal.status}")
    now = utcnow()
    if not transition_rows(session, Call.__table__, [call.id], from_=(CallStatus.open,), to=CallStatus.awarded,
                           awarded_proposal_id=proposal.id, awarded_at=now):
        session.rollback()
        raise Conflict("This call is no longer open: it was awarded already")
    if not transition_rows(session, Proposal.__table__, [proposal.id], from_=(ProposalStatus.submitted,),
                           to=ProposalStatus.awarded):
        session.rollback()
        raise Conflict("This proposal changed meanwhile: reload and try again")
    others = session.exec(select(Proposal.id).where(Proposal.call_id == call.id, Proposal.id != proposal.id)).all()
    transition_rows(session, Proposal.__table__, list(others),
                    from_=(ProposalStatus.forming, ProposalStatus.submitted), to=ProposalStatus.declined)
    if sender is not None:  # the awarded team is told, in this transaction
        team = session.exec(select(TeamMember.account_id).where(TeamMember.proposal_id == proposal.id)
                            .order_by(col(TeamMember.position))).all()
        lifecycle.notify_accounts(
            session, account_ids=list(team), kind="call_awarded", sender=sender, link=f"/calls/{call.id}",
            params={"title": call.title, "call_id": call.id, "proposal_id": proposal.id},
            subject=_("Your proposal for “%(title)s” was awarded"),
            text=_("The call “%(title)s” was awarded to your team's proposal. Its budget is paid next; then "
                   "deliver the work:"))
    session.commit()
    if sender is not None:
        outbox.wake_sender()
    session.refresh(call)
    return call


# ------------------------------------------------------------------------------------- what payments asks and tells
def payable_call(*, session: Session, call_id: int, payer: Account) -> Call:
    """The call whose budget this account may pay now: theirs, and awarded. Otherwise 404, 403 or 409."""
    call = get_call_or_raise(session=session, call_id=call_id)
    if payer.id != call.caller_id:
        raise Forbidden("Only the caller pays a call's budget")
    if call.status in (CallStatus.paid, CallStatus.delivered):
        raise Conflict("This call's budget is paid already")
    if call.status != CallStatus.awarded:
        raise Conflict(f"This call is {call.status}: award a proposal before paying")
    return call


def team_shares(session: Session, call_id: int) -> list[tuple[int, int]]:
    """The awarded team's (account id, basis points), the author first, summing to 10,000: how payments splits
    the budget (core.money.allocate)."""
    call = get_call_or_raise(session=session, call_id=call_id)
    if call.awarded_proposal_id is None:
        raise Conflict("This call has no awarded proposal")
    return [(m.account_id, m.share_bps) for m in session.exec(
        select(TeamMember).where(TeamMember.proposal_id == call.awarded_proposal_id)
        .order_by(col(TeamMember.position))).all()]


def record_paid(session: Session, *, call_id: int) -> bool:
    """awarded -> paid: the budget's payment is recorded (payments' webhook, in its transaction). Once."""
    return bool(transition_rows(session, Call.__table__, [call_id], from_=(CallStatus.awarded,), to=CallStatus.paid,
                                paid_at=utcnow()))


def record_refunded(session: Session, *, call_id: int) -> bool:
    """paid -> awarded: the payment was refunded (the team's credits are reversed by payments); the caller may pay
    again. A delivered call stays delivered."""
    return bool(transition_rows(session, Call.__table__, [call_id], from_=(CallStatus.paid,), to=CallStatus.awarded,
                                paid_at=None))


# ----------------------------------------------------------------------------------------------------- delivery
def deliver(*, session: Session, call: Call, member: Account, work_id: int) -> Call:
    """A member of the awarded team delivers the commissioned work: a minted work whose creators are the awarded
    team, each with the share the team proposed (a team of one: their own work). The work then names the call
    (`call_id`) and the call becomes `delivered`. Someone else: 403; not paid yet, or the work not minted: 409;
    another team, other shares or a work delivered for another call: 422."""
    shares = team_shares(session, call.id) if call.awarded_proposal_id else []
    if member.id not in {account_id for account_id, _ in shares}:
        raise Forbidden("Only a member of the awarded team can deliver this call")
    if call.status != CallStatus.paid:
        raise Conflict(f"This call is {call.status}: it is delivered once paid")
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=member)
    if work.status != WorkStatus.minted:
        raise Conflict("The work must be minted before it is delivered")
    creators = catalog_service.creator_shares(session, [work])[work.id]
    if sorted(creators) != sorted(shares):
        raise InvalidInput("The work's creators and shares must be the awarded team's: "
                           + ", ".join(f"{_display_name(session, a)} {bps / 100:g} %" for a, bps in shares),
                           loc=("body", "work_id"))
    if not catalog_service.link_to_call(session, work_id=work.id, call_id=call.id):
        session.rollback()
        raise InvalidInput("This work was delivered for another call", loc=("body", "work_id"))
    if not transition_rows(session, Call.__table__, [call.id], from_=(CallStatus.paid,), to=CallStatus.delivered,
                           work_id=work.id, delivered_at=utcnow()):
        session.rollback()
        raise Conflict("This call changed meanwhile: reload and try again")
    session.commit()
    session.refresh(call)
    return call


def deliverable_works(*, session: Session, call: Call, viewer: Account) -> list[Work]:
    """The works a member of the awarded team may deliver for a paid call: minted, made by the team with its
    shares, not delivered for another call (what `deliver` accepts)."""
    if call.status != CallStatus.paid or call.awarded_proposal_id is None:
        return []
    shares = sorted(team_shares(session, call.id))
    if viewer.id not in {account_id for account_id, _ in shares}:
        return []
    works = [work for account_id, _ in shares
             for work, _ in catalog_service.list_works(session=session, filters=WorkFilters(
                 creator_id=account_id, page_size=100), viewer=viewer)[0]
             if work.status == WorkStatus.minted and work.call_id is None]
    crews = catalog_service.creator_shares(session, works)
    return [work for work in works if sorted(crews[work.id]) == shares]


def _display_name(session: Session, account_id: int) -> str:
    account = session.get(Account, account_id)
    return account.display_name if account else f"#{account_id}"


# ------------------------------------------------------------------------------------------- account deletion
def withdraw_account(session: Session, *, account_id: int) -> None:
    """A deleted account leaves the calls where nothing is owed: its open calls are `closed`; its proposals still
    forming or submitted (as author or member) are `declined`, its unanswered invitations too. Awarded, paid and
    delivered calls and proposals stay as they are (money was promised or moved). Not committed."""
    now = utcnow()
    session.exec(update(Call).where(Call.caller_id == account_id, Call.status == CallStatus.open.value)
                 .values(status=CallStatus.closed.value, updated_at=now))
    theirs = select(TeamMember.proposal_id).where(TeamMember.account_id == account_id)
    session.exec(update(Proposal).where(
        (col(Proposal.author_id) == account_id) | col(Proposal.id).in_(theirs),
        col(Proposal.status).in_([ProposalStatus.forming.value, ProposalStatus.submitted.value]))
        .values(status=ProposalStatus.declined.value, updated_at=now))
    session.exec(update(TeamMember).where(TeamMember.account_id == account_id,
                                          TeamMember.status == MemberStatus.invited.value)
                 .values(status=MemberStatus.declined.value, responded_at=now))


def export_of(*, session: Session, account_id: int) -> dict:
    """What the calls hold about the account (GET /api/me/export): the calls it posted, the proposals it is on."""
    calls = list(session.exec(select(Call).where(Call.caller_id == account_id).order_by(col(Call.id))).all())
    on = select(TeamMember.proposal_id).where(TeamMember.account_id == account_id)
    proposals = list(session.exec(select(Proposal).where(
        (col(Proposal.author_id) == account_id) | col(Proposal.id).in_(on)).order_by(col(Proposal.id))).all())
    return {"calls": [c.model_dump(mode="json") for c in calls_public(session=session, calls=calls)],
            "proposals": [p.model_dump(mode="json") for p in proposals_public(session=session, proposals=proposals)]}
