"""What the organisations' API takes and gives."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from marketplace.core.limits import MAX_DB_ID
from marketplace.core.text import Line, OptionalLine, Text
from marketplace.organisations.models import (
    MAX_CITY_CHARS,
    MAX_ORG_DESCRIPTION_CHARS,
    MAX_ORG_NAME_CHARS,
    MAX_SLUG_CHARS,
    MAX_WEBSITE_CHARS,
    MemberRole,
    OrganisationKind,
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(min_length=1, max_length=MAX_ORG_NAME_CHARS)
    kind: OrganisationKind
    slug: str | None = Field(default=None, min_length=1, max_length=MAX_SLUG_CHARS,
                             description="lower-case words joined by '-'; made from the name when left out")
    description: Text = Field(default="", max_length=MAX_ORG_DESCRIPTION_CHARS)
    city: OptionalLine = Field(default=None, max_length=MAX_CITY_CHARS)
    website: str | None = Field(default=None, max_length=MAX_WEBSITE_CHARS, description="an http(s) address")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name must not be blank")
        return value

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not SLUG_RE.match(value):
            raise ValueError("a slug is lower-case letters and digits in words joined by '-'")
        return value

    @field_validator("website")
    @classmethod
    def _website(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            raise ValueError("the website must be an http:// or https:// address")
        return value


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: int = Field(ge=1, le=MAX_DB_ID)
    role: MemberRole = MemberRole.member


class MemberPublic(BaseModel):
    account_id: int
    display_name: str
    role: MemberRole
    account_role: str = Field(description="the account's role: creator, buyer or admin")
    joined_at: datetime


class OrganisationSummary(BaseModel):
    id: int
    slug: str
    name: str
    kind: OrganisationKind
    description: str
    city: str | None
    website: str | None
    member_count: int
    created_at: datetime


class OrganisationsPublic(BaseModel):
    data: list[OrganisationSummary]
    count: int


class OrganisationWork(BaseModel):
    id: int
    title: str
    discipline: str
    creator_id: int
    creator_name: str


class OrganisationCall(BaseModel):
    id: int
    title: str
    status: str
    caller_id: int
    caller_name: str
    deadline: datetime


class OrganisationPublic(OrganisationSummary):
    members: list[MemberPublic]
    works: list[OrganisationWork] = Field(description="published works by its members (co-created ones included)")
    calls: list[OrganisationCall] = Field(description="calls posted by its members")
