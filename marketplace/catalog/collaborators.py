"""Co-created works: the creators who sign a work together, their shares and roles, their answers; and "Find
creators", where a creator looks for partners.

The uploader names every creator of a draft at once (`set_collaborators`), themselves included; each other creator
accepts or declines (`respond`). A work is minted and sold only once everyone accepted (`require_all_accepted`):
from then on its list is fixed (it is in the token metadata) and what the work earns is split by it
(catalog_service.creator_shares). Owns the `work_collaborator` table; the work itself changes through
catalog_service.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, col, select

from marketplace.accounts import lifecycle, profiles
from marketplace.accounts.models import Account, AccountProfile, ProfileTag, Role
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import CollaboratorStatus, CreatorCard, Work, WorkCollaborator, WorkStatus
from marketplace.catalog.schemas import CollaboratorIn, CreatorFilters
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.core.money import BPS_WHOLE
from marketplace.mail import outbox
from marketplace.mail.outbox import Sender
from marketplace.mail.texts import _

FIXED = "The creators of a work are fixed once minting has started (they are in the token metadata)"


class CollaboratorsRefused(InvalidInput):
    """A list of creators that cannot be a work's. `reason` says which rule refused it (pages say it in the
    reader's language), `index` which entry (None: the list as a whole)."""

    def __init__(self, message: str, *, reason: str, index: int | None = None) -> None:
        loc = ("body", "collaborators") if index is None else ("body", "collaborators", index, "user_id")
        super().__init__(message, loc=loc)
        self.reason = reason
        self.index = index


class CreatorsPending(Conflict):
    """Minting waits for every creator of the work. `declined` / `invited`: their names (pages say it in the
    reader's language)."""

    def __init__(self, *, declined: list[str], invited: list[str]) -> None:
        self.declined, self.invited = declined, invited
        if declined:
            message = (f"{', '.join(declined)} declined to co-sign this work: change its creators before minting "
                       "it")
        else:
            message = (f"Waiting for {', '.join(invited)} to accept co-signing this work: it is minted once every "
                       "creator accepted")
        super().__init__(message)


def _check(session: Session, work: Work, entries: Sequence[CollaboratorIn]) -> None:
    """Every rule of a list of creators, before anything changes."""
    seen: set[int] = set()
    for index, entry in enumerate(entries):
        if entry.user_id in seen:
            raise CollaboratorsRefused(f"User {entry.user_id} is named twice: each creator appears once",
                                       reason="duplicate", index=index)
        seen.add(entry.user_id)
    if work.creator_id not in seen:
        raise CollaboratorsRefused("The list must include you, the uploader, with your share and role",
                                   reason="uploader_missing")
    total = sum(entry.share_bps for entry in entries)
    if total != BPS_WHOLE:
        raise CollaboratorsRefused(f"The shares sum to {total} basis points; they must sum to 10000 (100 %)",
                                   reason="sum")
    accounts = {a.id: a for a in session.exec(select(Account).where(col(Account.id).in_(list(seen)))).all()}
    for index, entry in enumerate(entries):
        account = accounts.get(entry.user_id)
        if account is None:
            raise CollaboratorsRefused(f"There is no user {entry.user_id}", reason="unknown_user", index=index)
        if account.id != work.creator_id and account.role != Role.creator:
            raise CollaboratorsRefused(f"{account.display_name} is not a creator account: only creators can "
                                       "co-sign a work", reason="not_creator", index=index)


def _uploader_first(work: Work, entries: Sequence[CollaboratorIn]) -> list[CollaboratorIn]:
    """The uploader first, the others in the order given: the order the work names and splits by (a tie of
    rounding goes to the earlier creator)."""
    return sorted(entries, key=lambda entry: entry.user_id != work.creator_id)


def set_collaborators(session: Session, *, work: Work, account: Account, entries: Sequence[CollaboratorIn],
                      sender: Sender | None = None) -> None:
    """The whole list of the work's creators, set by its uploader while it is a draft. A changed list asks every
    other creator again (`invited`); the same list again changes nothing. Refused, with nothing changed: someone
    other than the uploader (403), a work no longer a draft (409), a list that breaks a rule (422)."""
    if account.id != work.creator_id:
        raise Forbidden("Only the creator who uploaded this work can name its creators")
    if work.status != WorkStatus.draft:
        raise Conflict(FIXED)
    _check(session, work, entries)
    ordered = _uploader_first(work, entries)
    current = session.exec(select(WorkCollaborator).where(WorkCollaborator.work_id == work.id)
                           .order_by(col(WorkCollaborator.position))).all()
    if [(m.account_id, m.share_bps, m.role) for m in current] == [(e.user_id, e.share_bps, e.role) for e in ordered]:
        return
    if not catalog_service.lock_draft(session, work_id=work.id):  # minting started meanwhile
        session.rollback()
        raise Conflict(FIXED)
    now = utcnow()
    session.execute(delete(WorkCollaborator).where(WorkCollaborator.work_id == work.id))
    session.execute(insert(WorkCollaborator), [{
        "work_id": work.id, "account_id": entry.user_id, "share_bps": entry.share_bps, "role": entry.role,
        "position": position, "invited_at": now,
        "status": (CollaboratorStatus.accepted if entry.user_id == work.creator_id else CollaboratorStatus.invited).value,
        "responded_at": now if entry.user_id == work.creator_id else None,
    } for position, entry in enumerate(ordered)])
    if sender is not None:  # each invited creator is told, in this transaction
        lifecycle.notify_accounts(
            session, account_ids=[e.user_id for e in ordered if e.user_id != work.creator_id], kind="invitation",
            sender=sender, link="/studio#invitations-heading",
            params={"title": work.title, "name": account.display_name, "work_id": work.id},
            subject=_("%(name)s invites you to co-create “%(title)s”"),
            text=_("%(name)s invites you to co-create “%(title)s”. Accept or decline in your studio:"))
    session.commit()
    if sender is not None:
        outbox.wake_sender()


def respond(session: Session, *, work: Work, account: Account, accept: bool) -> None:
    """The caller accepts or declines their own invitation to co-sign a draft (they may change their mind while
    it is a draft). 403 when they are not invited, 409 for the uploader and once minting started."""
    member = session.exec(select(WorkCollaborator).where(
        WorkCollaborator.work_id == work.id, WorkCollaborator.account_id == account.id)).first()
    if account.id == work.creator_id:
        raise Conflict("You uploaded this work: you are its creator already, there is no invitation to answer")
    if member is None:
        raise Forbidden("You are not invited to co-sign this work")
    if work.status != WorkStatus.draft:
        raise Conflict(FIXED)
    status = CollaboratorStatus.accepted if accept else CollaboratorStatus.declined
    if member.status == status:
        return
    if not catalog_service.lock_draft(session, work_id=work.id):
        session.rollback()
        raise Conflict(FIXED)
    session.execute(update(WorkCollaborator).where(WorkCollaborator.id == member.id)
                    .values(status=status.value, responded_at=utcnow()))
    session.commit()


def require_all_accepted(session: Session, work: Work) -> None:
    """Minting (which lists the work for sale) waits for every creator: 409 while anyone is invited or has
    declined."""
    waiting = session.exec(
        select(Account.display_name, WorkCollaborator.status)
        .join(Account, col(WorkCollaborator.account_id) == col(Account.id))
        .where(WorkCollaborator.work_id == work.id, WorkCollaborator.status != CollaboratorStatus.accepted.value)
        .order_by(col(WorkCollaborator.position))).all()
    if waiting:
        raise CreatorsPending(declined=[name for name, status in waiting if status == CollaboratorStatus.declined],
                              invited=[name for name, status in waiting if status == CollaboratorStatus.invited])


def invitations_for(session: Session, *, account: Account) -> list[tuple[Work, Account, WorkCollaborator]]:
    """The works the account is invited to co-sign (not their own uploads), with their uploaders and the
    invitation, newest first: what the studio asks them to answer and shows as co-created."""
    rows = session.exec(
        select(Work, WorkCollaborator).join(WorkCollaborator, col(WorkCollaborator.work_id) == col(Work.id))
        .where(WorkCollaborator.account_id == account.id, Work.creator_id != account.id)
        .order_by(col(Work.id).desc())).all()
    uploaders = {a.id: a for a in session.exec(
        select(Account).where(col(Account.id).in_({work.creator_id for work, _ in rows}))).all()}
    return [(work, uploaders[work.creator_id], member) for work, member in rows]


# ------------------------------------------------------------------------------------------- account deletion
def withdraw_account(session: Session, *, account_id: int) -> list[int]:
    """A deleted account leaves the drafts it did not upload (its invitation or acceptance becomes `declined`: the
    uploader changes the list before minting) and the creators of its own drafts are removed (the drafts go next,
    catalog_service.delete_drafts). Returns those drafts' ids. Published works keep their creators (the credit
    and the shares are in the token metadata and the ledger). Not committed."""
    drafts = list(session.exec(select(Work.id).where(Work.creator_id == account_id,
                                                     Work.status == WorkStatus.draft.value)).all())
    others = select(Work.id).where(Work.status == WorkStatus.draft.value, Work.creator_id != account_id)
    session.execute(update(WorkCollaborator).where(
        WorkCollaborator.account_id == account_id, col(WorkCollaborator.work_id).in_(others),
        WorkCollaborator.status != CollaboratorStatus.declined.value)
        .values(status=CollaboratorStatus.declined.value, responded_at=utcnow()))
    if drafts:
        session.execute(delete(WorkCollaborator).where(col(WorkCollaborator.work_id).in_(drafts)))
    return drafts


# ------------------------------------------------------------------------------------------------ find creators
def public_creator(session: Session, *, account_id: int) -> Account | None:
    """A creator (or admin) account that anyone may look at: not a buyer's, not a deleted account."""
    account = session.get(Account, account_id)
    if account is None or account.role not in (Role.creator, Role.admin) or account.deleted_at is not None:
        return None
    return account


def creator_profile(session: Session, *, account_id: int) -> profiles.ProfilePublic:
    account = public_creator(session, account_id=account_id)
    if account is None:
        raise NotFound(f"Creator {account_id} not found")
    return profiles.profile_public(session=session, account=account)


def find_creators(session: Session, filters: CreatorFilters) -> tuple[list[CreatorCard], int]:
    """Creator accounts (not deleted ones) by name (contains, any case), by discipline (they published a work in
    it, or their profile names it), by skill (their profile names one containing the words, any case) and by
    location (their profile's, contains, any case); ordered by name. Each card has the disciplines of their
    published works (most works first), then those of their profile, and their profile's skills and location.
    One page and the total count."""
    published = (Work.status != WorkStatus.draft.value) & col(Work.hidden_at).is_(None)  # hidden works: not shown
    conditions = [Account.role == Role.creator.value, col(Account.deleted_at).is_(None)]
    if filters.q and filters.q.strip():
        conditions.append(func.lower(Account.display_name).contains(filters.q.strip().lower(), autoescape=True))
    if filters.discipline:
        conditions.append(col(Account.id).in_(select(Work.creator_id).where(
            published, Work.discipline == filters.discipline)) | col(Account.id).in_(select(ProfileTag.account_id).where(
                ProfileTag.kind == profiles.DISCIPLINE, ProfileTag.value == filters.discipline)))
    if filters.skill and filters.skill.strip():
        conditions.append(col(Account.id).in_(select(ProfileTag.account_id).where(
            ProfileTag.kind == profiles.SKILL,
            col(ProfileTag.value).contains(filters.skill.strip().lower(), autoescape=True))))
    if filters.location and filters.location.strip():
        conditions.append(col(Account.id).in_(select(AccountProfile.account_id).where(
            func.lower(AccountProfile.location).contains(filters.location.strip().lower(), autoescape=True))))
    count = session.exec(select(func.count()).select_from(Account).where(*conditions)).one()
    accounts = session.exec(
        select(Account).where(*conditions).order_by(func.lower(Account.display_name), col(Account.id))
        .offset((filters.page - 1) * filters.page_size).limit(filters.page_size)).all()
    works: dict[int, list[tuple[str, int]]] = {}
    if accounts:
        for creator_id, discipline, n in session.exec(
                select(Work.creator_id, Work.discipline, func.count())
                .where(published, col(Work.creator_id).in_([a.id for a in accounts]))
                .group_by(col(Work.creator_id), col(Work.discipline))).all():
            works.setdefault(creator_id, []).append((discipline, n))
    shown = profiles.profiles_of(session, accounts)
    cards = []
    for account in accounts:
        mine = sorted(works.get(account.id, []), key=lambda item: (-item[1], item[0]))
        profile = shown[account.id]
        disciplines = list(dict.fromkeys([discipline for discipline, _ in mine] + profile.disciplines))
        cards.append(CreatorCard(id=account.id, display_name=account.display_name, disciplines=disciplines,
                                 works_count=sum(n for _, n in mine), location=profile.location,
                                 skills=profile.skills, avatar_url=profile.avatar_url))
    return cards, count
