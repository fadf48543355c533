"""Organisations of the sector: studios, hubs, schools, the cluster, companies, associations, and their members
(creator and other accounts, each a `member` or an `admin` of the organisation)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.core.db import utcnow

MAX_ORG_NAME_CHARS = 120
MAX_SLUG_CHARS = 80
MAX_ORG_DESCRIPTION_CHARS = 4000
MAX_CITY_CHARS = 120
MAX_WEBSITE_CHARS = 500


class OrganisationKind(StrEnum):
    studio = "studio"
    hub = "hub"
    school = "school"
    cluster = "cluster"
    company = "company"
    association = "association"


class MemberRole(StrEnum):
    member = "member"
    admin = "admin"  # may add and remove the organisation's members


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=MAX_SLUG_CHARS, unique=True, index=True)
    name: str = Field(max_length=MAX_ORG_NAME_CHARS)
    kind: str = Field(sa_type=String(16), index=True)  # an OrganisationKind value
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    city: str | None = Field(default=None, max_length=MAX_CITY_CHARS)
    website: str | None = Field(default=None, max_length=MAX_WEBSITE_CHARS)
    created_at: datetime = Field(default_factory=utcnow)


class OrganisationMember(SQLModel, table=True):
    __tablename__ = "organisation_member"
    __table_args__ = (UniqueConstraint("organisation_id", "account_id", name="uq_organisation_member"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    role: str = Field(default=MemberRole.member.value, sa_type=String(16))  # a MemberRole value
    joined_at: datetime = Field(default_factory=utcnow)
