"""Exhibitions: themed selections of works an admin curates for the cluster's events (a round table on digital
design, a company's open studio), with their dates and place. A work can be in several."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.catalog.models import WorkPublic
from marketplace.core.db import utcnow

MAX_SLUG_CHARS = 80
MAX_PLACE_CHARS = 200
MAX_EXHIBITION_WORKS = 200


class EventKind(StrEnum):
    round_table = "round_table"
    open_studio = "open_studio"
    festival = "festival"
    fair = "fair"
    other = "other"


class Exhibition(SQLModel, table=True):
    __tablename__ = "exhibition"
    __table_args__ = (Index("ix_exhibition_dates", "starts_on", "ends_on"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=MAX_SLUG_CHARS, unique=True)
    title: str = Field(max_length=200)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    starts_on: date
    ends_on: date
    place: str = Field(default="", max_length=MAX_PLACE_CHARS)
    event_kind: str = Field(default=EventKind.other.value, sa_type=String(16))
    created_by: int = Field(foreign_key="account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ExhibitionWork(SQLModel, table=True):
    """A work shown in an exhibition, at its `position` (the curator's order)."""

    __tablename__ = "exhibition_work"
    __table_args__ = (UniqueConstraint("exhibition_id", "work_id", name="uq_exhibition_work"),)

    id: int | None = Field(default=None, primary_key=True)
    exhibition_id: int = Field(foreign_key="exhibition.id", index=True)
    work_id: int = Field(foreign_key="work.id", index=True)
    position: int = 0
    added_at: datetime = Field(default_factory=utcnow)


# ------------------------------------------------------------------------------------------------ what the API shows
class ExhibitionPublic(SQLModel):
    id: int
    slug: str
    title: str
    text: str
    starts_on: date
    ends_on: date
    place: str
    event_kind: EventKind
    work_count: int = Field(description="the works shown (hidden works not counted)")
    is_current: bool = Field(description="today is between its dates (inclusive)")
    created_at: datetime
    updated_at: datetime


class ExhibitionDetail(ExhibitionPublic):
    works: list[WorkPublic] = Field(description="the works shown, in the curator's order (hidden works left out)")


class ExhibitionsPublic(SQLModel):
    data: list[ExhibitionPublic]
    count: int
