"""The open calls' API: post and list calls, answer with a team, accept or decline, award, deliver. Paying a call's
budget is payments' (POST /api/calls/{id}/checkout, in payments/router.py, as a work's checkout is)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from marketplace.accounts.dependencies import CurrentAccount
from marketplace.calls import service as calls_service
from marketplace.calls.models import CallPublic, CallsPublic, ProposalPublic
from marketplace.calls.schemas import CallCreate, CallFilters, DeliveryIn, ProposalCreate
from marketplace.catalog.schemas import Discipline
from marketplace.core.api_errors import errors
from marketplace.core.deps import CallId, ProposalId, SessionDep, SettingsDep
from marketplace.core.limits import MAX_PAGE, MAX_PAGE_SIZE
from marketplace.mail.outbox import Sender

router = APIRouter(prefix="/api/calls", tags=["calls"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CallPublic,
             responses=errors(401, 408, 422, 503))
def post_call(call_in: CallCreate, session: SessionDep, account: CurrentAccount) -> CallPublic:
    """Post an open call (any signed-in account): a brief, the disciplines it needs, a budget in euros and a
    deadline for proposals."""
    call = calls_service.create_call(session=session, caller=account, call_in=call_in)
    return calls_service.call_public(session=session, call=call)


@router.get("", response_model=CallsPublic, responses=errors(422, 503))
def list_calls(
    session: SessionDep,
    discipline: Discipline | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 24,
) -> CallsPublic:
    """Calls, open ones first (nearest deadline first), then the others, newest first."""
    filters = CallFilters(discipline=discipline, page=page, page_size=page_size)
    calls, count = calls_service.list_calls(session=session, filters=filters)
    return CallsPublic(data=calls_service.calls_public(session=session, calls=calls), count=count, page=page,
                       page_size=page_size)


@router.get("/{call_id}", response_model=CallPublic, responses=errors(404, 422, 503))
def get_call(call_id: CallId, session: SessionDep) -> CallPublic:
    call = calls_service.get_call_or_raise(session=session, call_id=call_id)
    return calls_service.call_public(session=session, call=call)


@router.post("/{call_id}/proposals", status_code=status.HTTP_201_CREATED, response_model=ProposalPublic,
             responses=errors(401, 403, 404, 408, 409, 422, 503))
def propose(call_id: CallId, proposal_in: ProposalCreate, session: SessionDep,
            account: CurrentAccount) -> ProposalPublic:
    """Answer the call with a team (the author is on it): `forming` until every other member accepted, then
    `submitted`; a team of one is `submitted` at once. Before the deadline only."""
    call = calls_service.get_call_or_raise(session=session, call_id=call_id)
    proposal = calls_service.submit_proposal(session=session, call=call, author=account, proposal_in=proposal_in)
    return calls_service.proposals_public(session=session, proposals=[proposal])[0]


@router.get("/{call_id}/proposals", response_model=list[ProposalPublic], responses=errors(401, 404, 422, 503))
def proposals(call_id: CallId, session: SessionDep, account: CurrentAccount) -> list[ProposalPublic]:
    """The caller sees the submitted proposals; a team member their own; anyone else none."""
    call = calls_service.get_call_or_raise(session=session, call_id=call_id)
    return calls_service.proposals_public(
        session=session, proposals=calls_service.visible_proposals(session=session, call=call, viewer=account))


def _respond(call_id: int, proposal_id: int, session, account, *, accept: bool) -> ProposalPublic:
    call = calls_service.get_call_or_raise(session=session, call_id=call_id)
    proposal = calls_service.respond(session=session, call=call, proposal_id=proposal_id, member=account,
                                     accept=accept)
    return calls_service.proposals_public(session=session, proposals=[proposal])[0]


@router.post("/{call_id}/proposals/{proposal_id}/accept", response_model=ProposalPublic,
             responses=errors(401, 403, 404, 409, 422, 503))
def accept(call_id: CallId, proposal_id: ProposalId, session: SessionDep, account: CurrentAccount) -> ProposalPublic:
    """An invited member joins the team; the last acceptance submits the proposal (before the deadline only)."""
    return _respond(call_id, proposal_id, session, account, accept=True)


@router.post("/{call_id}/proposals/{proposal_id}/decline", response_model=ProposalPublic,
             responses=errors(401, 403, 404, 409, 422, 503))
def decline(call_id: CallId, proposal_id: ProposalId, session: SessionDep, account: CurrentAccount) -> ProposalPublic:
    """An invited member declines: the proposal is `declined` (its author may form another team)."""
    return _respond(call_id, proposal_id, session, account, accept=False)


@router.post("/{call_id}/proposals/{proposal_id}/award", response_model=CallPublic,
             responses=errors(401, 403, 404, 409, 422, 503))
def award(call_id: CallId, proposal_id: ProposalId, session: SessionDep, account: CurrentAccount,
          settings: SettingsDep) -> CallPublic:
    """The caller awards one submitted proposal; every other proposal is declined. Then pay the budget:
    POST /api/calls/{id}/checkout."""
    call = calls_service.get_call_or_raise(session=session, call_id=call_id)
    call = calls_service.award(session=session, call=call, proposal_id=proposal_id, caller=account,
                               sender=Sender.of(settings))
    return calls_service.call_public(session=session, call=call)


@router.post("/{call_id}/deliver", response_model=CallPublic, responses=errors(401, 403, 404, 408, 409, 422, 503))
def deliver(call_id: CallId, delivery: DeliveryIn, session: SessionDep, account: CurrentAccount) -> CallPublic:
    """A member of the awarded team links the commissioned work (minted, uploaded by a team member) once the
    budget is paid: the call is `delivered`."""
    call = calls_service.get_call_or_raise(session=session, call_id=call_id)
    call = calls_service.deliver(session=session, call=call, member=account, work_id=delivery.work_id)
    return calls_service.call_public(session=session, call=call)
