"""Co-created works and finding partners: PUT /api/works/{id}/collaborators, accept / decline, GET /api/creators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from marketplace.accounts.dependencies import CurrentAccount, CurrentCreator
from marketplace.accounts.models import MAX_LOCATION_CHARS, MAX_SKILL_CHARS
from marketplace.accounts.profiles import ProfilePublic
from marketplace.catalog import collaborators
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import CreatorsPublic, WorkPublic
from marketplace.catalog.schemas import CollaboratorsIn, CreatorFilters, Discipline
from marketplace.core.api_errors import errors
from marketplace.core.deps import AccountId, SessionDep, SettingsDep, WorkId
from marketplace.core.limits import MAX_DISPLAY_NAME_CHARS, MAX_PAGE, MAX_PAGE_SIZE
from marketplace.core.text import OptionalLine
from marketplace.mail.outbox import Sender

router = APIRouter(prefix="/api", tags=["co-creation"])


@router.put("/works/{work_id}/collaborators", response_model=WorkPublic,
            responses=errors(401, 403, 404, 408, 409, 422, 503))
def set_collaborators(work_id: WorkId, crew: CollaboratorsIn, session: SessionDep,
                      creator: CurrentCreator, settings: SettingsDep) -> WorkPublic:
    """The uploader names every creator of a draft, themselves included: registered creator accounts, each with a
    share in basis points (summing to 10,000) and a role. A changed list invites every other creator again;
    minting waits until all of them accepted."""
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=creator)
    collaborators.set_collaborators(session, work=work, account=creator, entries=crew.collaborators,
                                    sender=Sender.of(settings))
    return catalog_service.work_public(session=session, work=work)


def _respond(work_id: int, session, account, *, accept: bool) -> WorkPublic:
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=account)
    collaborators.respond(session, work=work, account=account, accept=accept)
    return catalog_service.work_public(session=session, work=work)


@router.post("/works/{work_id}/collaborators/accept", response_model=WorkPublic,
             responses=errors(401, 403, 404, 409, 422, 503))
def accept(work_id: WorkId, session: SessionDep, account: CurrentAccount) -> WorkPublic:
    """The caller accepts their own invitation to co-sign the draft (403 when not invited, 409 for the uploader or
    once minting started)."""
    return _respond(work_id, session, account, accept=True)


@router.post("/works/{work_id}/collaborators/decline", response_model=WorkPublic,
             responses=errors(401, 403, 404, 409, 422, 503))
def decline(work_id: WorkId, session: SessionDep, account: CurrentAccount) -> WorkPublic:
    """The caller declines their own invitation: the work cannot be minted until its uploader changes the list."""
    return _respond(work_id, session, account, accept=False)


@router.get("/creators", response_model=CreatorsPublic, responses=errors(401, 422, 503))
def find_creators(
    session: SessionDep,
    q: Annotated[OptionalLine, Query(max_length=MAX_DISPLAY_NAME_CHARS, description="name (contains)")] = None,
    discipline: Annotated[Discipline | None, Query(
        description="they published a work in it, or their profile names it")] = None,
    skill: Annotated[OptionalLine, Query(max_length=MAX_SKILL_CHARS, description="a skill of their profile "
                                                                                   "(contains)")] = None,
    location: Annotated[OptionalLine, Query(max_length=MAX_LOCATION_CHARS, description="their profile's "
                                                                                        "location (contains)")] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 24,
) -> CreatorsPublic:
    """Find creators to work with, by name, discipline, skill and location."""
    cards, count = collaborators.find_creators(session, CreatorFilters(
        q=q, discipline=discipline, skill=skill, location=location, page=page, page_size=page_size))
    return CreatorsPublic(data=cards, count=count, page=page, page_size=page_size)


@router.get("/creators/{account_id}", response_model=ProfilePublic, responses=errors(404, 422, 503))
def creator_profile(account_id: AccountId, session: SessionDep) -> ProfilePublic:
    """A creator's public profile (404: no such creator, or a deleted account)."""
    return collaborators.creator_profile(session, account_id=account_id)
