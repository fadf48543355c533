"""Profiles: what a person tells about themselves (display name, bio, location, links, avatar, disciplines and
skills), shown on their creator page and searched by Find creators.

Owns `account_profile` and `profile_tag`; the display name stays on the account (accounts service). The avatar's
bytes are checked and resized by the catalog (marketplace/catalog/avatars.py, the image rules of uploads), which
records the result here with `set_avatar`. Keyword-only functions, no FastAPI.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import (
    MAX_BIO_CHARS,
    MAX_LINK_CHARS,
    MAX_LINKS,
    MAX_LOCATION_CHARS,
    MAX_SKILL_CHARS,
    MAX_SKILLS,
    Account,
    AccountProfile,
    ProfileTag,
)
from marketplace.core.config import DISCIPLINES
from marketplace.core.db import utcnow
from marketplace.core.limits import MAX_DISPLAY_NAME_CHARS
from marketplace.core.text import Line, Text

Discipline = Literal[DISCIPLINES]  # type: ignore[valid-type]
DISCIPLINE, SKILL = "discipline", "skill"


def _http_link(value: str) -> str:
    """An http(s) address with a host, nothing else (no javascript:, data:, mailto:, no spaces)."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("a link must be an http:// or https:// address")
    if any(ch.isspace() for ch in value):
        raise ValueError("a link must not contain spaces")
    return value


Link = Annotated[Line, Field(min_length=8, max_length=MAX_LINK_CHARS), AfterValidator(_http_link)]
Skill = Annotated[Line, Field(min_length=1, max_length=MAX_SKILL_CHARS)]


class ProfileIn(BaseModel):
    """The whole profile (PUT /api/me/profile): what is left out is emptied, except `display_name` (kept)."""

    model_config = ConfigDict(extra="forbid")

    display_name: Annotated[Line | None, Field(min_length=1, max_length=MAX_DISPLAY_NAME_CHARS)] = None
    bio: Text = Field(default="", max_length=MAX_BIO_CHARS)
    location: Line = Field(default="", max_length=MAX_LOCATION_CHARS)
    links: list[Link] = Field(default_factory=list, max_length=MAX_LINKS,
                              description=f"at most {MAX_LINKS} http(s) addresses")
    disciplines: list[Discipline] = Field(default_factory=list, max_length=len(DISCIPLINES))
    skills: list[Skill] = Field(default_factory=list, max_length=MAX_SKILLS,
                                description=f"at most {MAX_SKILLS} words or short phrases")

    @field_validator("display_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("display_name must not be blank")
        return value

    @field_validator("links")
    @classmethod
    def _links(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("disciplines")
    @classmethod
    def _disciplines(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("skills")
    @classmethod
    def _skills(cls, value: list[str]) -> list[str]:
        cleaned = [s.strip().lower() for s in value]
        if any(not s for s in cleaned):
            raise ValueError("a skill must not be blank")
        return list(dict.fromkeys(cleaned))


class ProfilePublic(BaseModel):
    """A profile as anyone sees it (the creator page, GET /api/me/profile)."""

    id: int
    display_name: str
    bio: str
    location: str
    links: list[str]
    disciplines: list[str]
    skills: list[str]
    avatar_cid: str | None
    avatar_url: str | None
    updated_at: datetime | None


def _row(session: Session, account_id: int) -> AccountProfile | None:
    return session.get(AccountProfile, account_id)


def tags_of(session: Session, account_ids: Sequence[int]) -> dict[int, dict[str, list[str]]]:
    """{account_id: {"discipline": [...], "skill": [...]}} in a stable order (disciplines as DISCIPLINES lists
    them, skills alphabetically)."""
    found: dict[int, dict[str, list[str]]] = {i: {DISCIPLINE: [], SKILL: []} for i in account_ids}
    if not account_ids:
        return found
    rows = session.exec(select(ProfileTag).where(col(ProfileTag.account_id).in_(list(account_ids)))).all()
    for tag in rows:
        found.setdefault(tag.account_id, {DISCIPLINE: [], SKILL: []}).setdefault(tag.kind, []).append(tag.value)
    order = {d: i for i, d in enumerate(DISCIPLINES)}
    for tags in found.values():
        tags[DISCIPLINE].sort(key=lambda d: order.get(d, len(order)))
        tags[SKILL].sort()
    return found


def profiles_of(session: Session, accounts: Sequence[Account]) -> dict[int, ProfilePublic]:
    """The public profile of each account (an empty one where none was filled in)."""
    ids = [a.id for a in accounts]
    rows = {p.account_id: p for p in session.exec(
        select(AccountProfile).where(col(AccountProfile.account_id).in_(ids))).all()} if ids else {}
    tags = tags_of(session, ids)
    out = {}
    for account in accounts:
        row = rows.get(account.id)
        cid = row.avatar_cid if row else None
        out[account.id] = ProfilePublic(
            id=account.id, display_name=account.display_name, bio=row.bio if row else "",
            location=row.location if row else "", links=list(row.links) if row else [],
            disciplines=tags[account.id][DISCIPLINE], skills=tags[account.id][SKILL],
            avatar_cid=cid, avatar_url=f"/ipfs/{cid}" if cid else None, updated_at=row.updated_at if row else None)
    return out


def profile_public(*, session: Session, account: Account) -> ProfilePublic:
    return profiles_of(session, [account])[account.id]


def _ensure_row(session: Session, account_id: int) -> None:
    if _row(session, account_id) is None:
        session.execute(insert(AccountProfile).values(account_id=account_id, bio="", location="", links=[],
                                                      updated_at=utcnow()))


def update_profile(*, session: Session, account: Account, profile_in: ProfileIn) -> ProfilePublic:
    """Replace the account's profile (the display name too, when given). One transaction."""
    if profile_in.display_name is not None and profile_in.display_name != account.display_name:
        accounts_service.set_display_name(session=session, account_id=account.id, name=profile_in.display_name)
    _ensure_row(session, account.id)
    session.execute(update(AccountProfile).where(col(AccountProfile.account_id) == account.id).values(
        bio=profile_in.bio, location=profile_in.location, links=list(profile_in.links), updated_at=utcnow()))
    session.execute(delete(ProfileTag).where(col(ProfileTag.account_id) == account.id))
    tags = [{"account_id": account.id, "kind": DISCIPLINE, "value": d} for d in profile_in.disciplines]
    tags += [{"account_id": account.id, "kind": SKILL, "value": s} for s in profile_in.skills]
    if tags:
        session.execute(insert(ProfileTag), tags)
    session.commit()
    session.refresh(account)
    return profile_public(session=session, account=account)


def avatar_cids(*, session: Session) -> set[str]:
    """Every avatar CID a profile shows."""
    return set(session.exec(select(AccountProfile.avatar_cid).where(col(AccountProfile.avatar_cid).is_not(None))).all())


def avatar_cid(*, session: Session, account_id: int) -> str | None:
    row = _row(session, account_id)
    return row.avatar_cid if row else None


def set_avatar(*, session: Session, account: Account, cid: str | None) -> str | None:
    """Record the account's avatar (None: removed). Returns the previous CID (to unpin if nothing else holds it)."""
    previous = avatar_cid(session=session, account_id=account.id)
    _ensure_row(session, account.id)
    session.execute(update(AccountProfile).where(col(AccountProfile.account_id) == account.id)
                    .values(avatar_cid=cid, updated_at=utcnow()))
    session.commit()
    return previous


def is_avatar(*, session: Session, cid: str) -> bool:
    """Whether some profile shows this CID as its avatar (then /ipfs serves it as the image it is)."""
    return session.exec(select(AccountProfile.account_id).where(AccountProfile.avatar_cid == cid).limit(1)).first() \
        is not None


def remove_profile(*, session: Session, account_id: int) -> str | None:
    """Delete the account's profile and tags (account deletion); returns the avatar CID it had. Not committed."""
    previous = avatar_cid(session=session, account_id=account_id)
    session.execute(delete(ProfileTag).where(col(ProfileTag.account_id) == account_id))
    session.execute(delete(AccountProfile).where(col(AccountProfile.account_id) == account_id))
    return previous
