"""Inputs of the exhibitions: validated once, here (the service checks what needs the database)."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, Field, field_validator, model_validator

from marketplace.core.limits import MAX_DB_ID, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS
from marketplace.core.text import Line, Text
from marketplace.exhibitions.models import MAX_PLACE_CHARS, MAX_SLUG_CHARS, EventKind

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_HELP = "lowercase letters, digits and single hyphens (its page is /exhibitions/{slug})"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


RESERVED_SLUGS = frozenset({"new"})  # /exhibitions/new is the curators' form


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError(f"a slug is {SLUG_HELP}")
    if value in RESERVED_SLUGS:
        raise ValueError(f"{value!r} is reserved: choose another slug")
    return value


def _dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ValueError("ends_on must not be before starts_on")


class ExhibitionCreate(BaseModel):
    slug: str = Field(min_length=1, max_length=MAX_SLUG_CHARS, description=SLUG_HELP)
    title: Line = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    text: Text = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    starts_on: date
    ends_on: date = Field(description="the last day (inclusive), not before starts_on")
    place: Line = Field(default="", max_length=MAX_PLACE_CHARS)
    event_kind: EventKind = EventKind.other

    _slug = field_validator("slug")(_slug)
    _title = field_validator("title")(_not_blank)

    @model_validator(mode="after")
    def _check_dates(self) -> ExhibitionCreate:
        _dates(self.starts_on, self.ends_on)
        return self


class ExhibitionUpdate(BaseModel):
    """A partial change (PUT and PATCH alike): the fields given; the dates are checked with the stored ones."""

    title: Line | None = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)
    text: Text | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    starts_on: date | None = None
    ends_on: date | None = None
    place: Line | None = Field(default=None, max_length=MAX_PLACE_CHARS)
    event_kind: EventKind | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        return None if value is None else _not_blank(value)

    @model_validator(mode="after")
    def _check_dates(self) -> ExhibitionUpdate:
        _dates(self.starts_on, self.ends_on)
        return self


class ExhibitionWorkIn(BaseModel):
    work_id: int = Field(ge=1, le=MAX_DB_ID)
