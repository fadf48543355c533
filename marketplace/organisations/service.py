"""Organisations: create one, add and remove its members, list them, and what an organisation's page shows (its
members, the published works of its members, the calls its members posted). No FastAPI.

Owns `organisation` and `organisation_member`. Reads accounts, the catalog and the calls (above them in the
layers). Deleted accounts (anonymised, `deleted_at` set) are never shown as members; their rows stay until an
admin removes them.

`create_organisation` and `add_member` are plain functions on a session so a seed or the CLI can call them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from sqlalchemy import delete, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts.models import Account, Role
from marketplace.calls.models import Call
from marketplace.catalog.models import CollaboratorStatus, Work, WorkCollaborator, WorkStatus
from marketplace.core.exceptions import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.organisations.models import (
    MAX_SLUG_CHARS,
    MemberRole,
    Organisation,
    OrganisationKind,
    OrganisationMember,
)
from marketplace.organisations.schemas import (
    SLUG_RE,
    MemberPublic,
    OrganisationCall,
    OrganisationCreate,
    OrganisationPublic,
    OrganisationSummary,
    OrganisationWork,
)

MAX_WORKS_SHOWN = 48
MAX_CALLS_SHOWN = 50


def slugify(name: str) -> str:
    """`Design Hub Esch` -> `design-hub-esch` (accents dropped, anything else between words a '-')."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:MAX_SLUG_CHARS].strip("-")
    return slug or "organisation"


# ------------------------------------------------------------------------------------------------ writing
def create_organisation(session: Session, *, name: str, kind: OrganisationKind | str, slug: str | None = None,
                        description: str = "", city: str | None = None, website: str | None = None) -> Organisation:
    """A new organisation (the API lets admins only; a seed calls this directly). The slug is made from the name
    when not given; a slug in use is a Conflict (409)."""
    data = OrganisationCreate(name=name, kind=kind, slug=slug, description=description, city=city, website=website)
    slug = data.slug or slugify(data.name)
    if not SLUG_RE.match(slug):
        raise InvalidInput("The slug must be lower-case letters and digits in words joined by '-'",
                           loc=("body", "slug"))
    if session.exec(select(Organisation.id).where(Organisation.slug == slug)).first() is not None:
        raise Conflict(f"An organisation with the address '{slug}' exists already: choose another slug")
    organisation = Organisation(slug=slug, name=data.name, kind=data.kind.value, description=data.description,
                                city=data.city or None, website=data.website)
    session.add(organisation)
    try:
        session.commit()
    except IntegrityError:  # the same slug created at the same moment
        session.rollback()
        raise Conflict(f"An organisation with the address '{slug}' exists already: choose another slug") from None
    session.refresh(organisation)
    return organisation


def add_member(session: Session, *, organisation: Organisation, account_id: int,
               role: MemberRole | str = MemberRole.member) -> OrganisationMember:
    """Make an account a member (or change its role when it is one already: the pair is unique)."""
    role = MemberRole(role)
    account = session.get(Account, account_id)
    if account is None or account.deleted_at is not None:
        raise NotFound(f"There is no account {account_id}")
    member = session.exec(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id, OrganisationMember.account_id == account_id)).first()
    if member is None:
        member = OrganisationMember(organisation_id=organisation.id, account_id=account_id, role=role.value)
        session.add(member)
    else:
        member.role = role.value
    try:
        session.commit()
    except IntegrityError:  # added at the same moment by someone else: that row stands, with this role
        session.rollback()
        return add_member(session, organisation=organisation, account_id=account_id, role=role)
    session.refresh(member)
    return member


def member_public(session: Session, member: OrganisationMember) -> MemberPublic:
    account = session.get(Account, member.account_id)
    return MemberPublic(account_id=account.id, display_name=account.display_name, role=member.role,
                        account_role=account.role, joined_at=member.joined_at)


def remove_member(session: Session, *, organisation: Organisation, account_id: int) -> None:
    removed = session.exec(delete(OrganisationMember).where(
        col(OrganisationMember.organisation_id) == organisation.id,
        col(OrganisationMember.account_id) == account_id))
    if not removed.rowcount:
        session.rollback()
        raise NotFound(f"Account {account_id} is not a member of {organisation.name}")
    session.commit()


def withdraw_account(session: Session, *, account_id: int) -> None:
    """A deleted account leaves every organisation (privacy.delete_account; its caller commits)."""
    session.exec(delete(OrganisationMember).where(col(OrganisationMember.account_id) == account_id))


def may_manage(session: Session, *, organisation: Organisation, account: Account | None) -> bool:
    """A site admin, or an admin of this organisation."""
    if account is None:
        return False
    if account.role == Role.admin:
        return True
    return session.exec(select(OrganisationMember.id).where(
        OrganisationMember.organisation_id == organisation.id, OrganisationMember.account_id == account.id,
        OrganisationMember.role == MemberRole.admin.value)).first() is not None


def require_manager(session: Session, *, organisation: Organisation, account: Account) -> None:
    if not may_manage(session, organisation=organisation, account=account):
        raise Forbidden("Only an admin of the site or of this organisation can change its members")


def require_site_admin(account: Account) -> None:
    if account.role != Role.admin:
        raise Forbidden("Only admins can create organisations")


# ------------------------------------------------------------------------------------------------ reading
def get_by_slug(session: Session, *, slug: str) -> Organisation | None:
    return session.exec(select(Organisation).where(Organisation.slug == slug)).first()


def get_or_raise(session: Session, *, slug: str) -> Organisation:
    organisation = get_by_slug(session, slug=slug)
    if organisation is None:
        raise NotFound("There is no such organisation")
    return organisation


def _live_member_counts(session: Session, organisation_ids: Sequence[int]) -> dict[int, int]:
    if not organisation_ids:
        return {}
    return dict(session.exec(
        select(OrganisationMember.organisation_id, func.count())
        .join(Account, col(Account.id) == col(OrganisationMember.account_id))
        .where(col(OrganisationMember.organisation_id).in_(list(organisation_ids)), col(Account.deleted_at).is_(None))
        .group_by(OrganisationMember.organisation_id)).all())


def summary(organisation: Organisation, member_count: int) -> OrganisationSummary:
    return OrganisationSummary(id=organisation.id, slug=organisation.slug, name=organisation.name,
                               kind=organisation.kind, description=organisation.description, city=organisation.city,
                               website=organisation.website, member_count=member_count,
                               created_at=organisation.created_at)


def list_organisations(session: Session, *, kind: str | None = None, q: str | None = None
                       ) -> list[OrganisationSummary]:
    """Every organisation (of a kind, or whose name, city or description has `q`), by name."""
    query = select(Organisation)
    if kind:
        query = query.where(Organisation.kind == kind)
    if q and q.strip():
        needle = q.strip().lower()
        query = query.where(or_(func.lower(Organisation.name).contains(needle, autoescape=True),
                                func.lower(func.coalesce(Organisation.city, "")).contains(needle, autoescape=True),
                                func.lower(Organisation.description).contains(needle, autoescape=True)))
    organisations = list(session.exec(query.order_by(func.lower(Organisation.name), Organisation.id)).all())
    counts = _live_member_counts(session, [o.id for o in organisations])
    return [summary(o, counts.get(o.id, 0)) for o in organisations]


def members_of(session: Session, organisation: Organisation) -> list[tuple[OrganisationMember, Account]]:
    """Its members who have not deleted their account: admins first, then by name."""
    rows = session.exec(select(OrganisationMember, Account)
                        .join(Account, col(Account.id) == col(OrganisationMember.account_id))
                        .where(OrganisationMember.organisation_id == organisation.id,
                               col(Account.deleted_at).is_(None))).all()
    return sorted(rows, key=lambda r: (r[0].role != MemberRole.admin.value, r[1].display_name.lower(), r[1].id))


def works_of_members(session: Session, member_ids: Sequence[int], *, limit: int = MAX_WORKS_SHOWN
                     ) -> list[tuple[Work, Account]]:
    """Published works (not drafts) uploaded by a member or co-signed by one (an accepted co-creator), newest
    first, with their uploader."""
    if not member_ids:
        return []
    co_signed = select(WorkCollaborator.work_id).where(
        col(WorkCollaborator.account_id).in_(list(member_ids)),
        WorkCollaborator.status == CollaboratorStatus.accepted.value)
    return list(session.exec(
        select(Work, Account).join(Account, col(Account.id) == col(Work.creator_id))
        .where(Work.status != WorkStatus.draft.value,
               or_(col(Work.creator_id).in_(list(member_ids)), col(Work.id).in_(co_signed)))
        .order_by(col(Work.created_at).desc(), col(Work.id).desc()).limit(limit)).all())


def calls_of_members(session: Session, member_ids: Sequence[int], *, limit: int = MAX_CALLS_SHOWN
                     ) -> list[tuple[Call, Account]]:
    if not member_ids:
        return []
    return list(session.exec(
        select(Call, Account).join(Account, col(Account.id) == col(Call.caller_id))
        .where(col(Call.caller_id).in_(list(member_ids)))
        .order_by(col(Call.created_at).desc(), col(Call.id).desc()).limit(limit)).all())


def organisation_public(session: Session, organisation: Organisation) -> OrganisationPublic:
    members = members_of(session, organisation)
    ids = [a.id for _, a in members]
    works = works_of_members(session, ids)
    calls = calls_of_members(session, ids)
    return OrganisationPublic(
        **summary(organisation, len(members)).model_dump(),
        members=[MemberPublic(account_id=a.id, display_name=a.display_name, role=m.role, account_role=a.role,
                              joined_at=m.joined_at) for m, a in members],
        works=[OrganisationWork(id=w.id, title=w.title, discipline=w.discipline, creator_id=a.id,
                                creator_name=a.display_name) for w, a in works],
        calls=[OrganisationCall(id=c.id, title=c.title, status=c.status, caller_id=a.id, caller_name=a.display_name,
                                deadline=c.deadline) for c, a in calls])


def organisations_of(session: Session, *, account_id: int) -> list[Organisation]:
    """The organisations an account belongs to, by name (a creator's page lists them)."""
    return list(session.exec(
        select(Organisation).join(OrganisationMember, col(OrganisationMember.organisation_id) == col(Organisation.id))
        .where(OrganisationMember.account_id == account_id).order_by(func.lower(Organisation.name))).all())


def all_memberships(session: Session) -> list[tuple[int, int, str]]:
    """(organisation_id, account_id, role) of every member whose account is not deleted (the network reads it)."""
    return [(o, a, r) for o, a, r in session.exec(
        select(OrganisationMember.organisation_id, OrganisationMember.account_id, OrganisationMember.role)
        .join(Account, col(Account.id) == col(OrganisationMember.account_id))
        .where(col(Account.deleted_at).is_(None))).all()]


def all_organisations(session: Session) -> list[Organisation]:
    return list(session.exec(select(Organisation).order_by(Organisation.id)).all())
