"""Inputs of the catalog: validated once, here."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from marketplace.accounts.models import MAX_LOCATION_CHARS, MAX_SKILL_CHARS
from marketplace.core.config import DISCIPLINES, LICENSES
from marketplace.core.limits import (
    MAX_COLLABORATORS,
    MAX_DB_ID,
    MAX_DESCRIPTION_CHARS,
    MAX_DISPLAY_NAME_CHARS,
    MAX_EDITION_SIZE,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_PRICE_CENTS,
    MAX_ROLE_CHARS,
    MAX_ROYALTY_BPS,
    MAX_SEARCH_CHARS,
    MAX_TITLE_CHARS,
    Currency,
    Euros,
)
from marketplace.core.money import BPS_WHOLE
from marketplace.core.text import Line, OptionalLine, Text

Discipline = Literal[DISCIPLINES]  # type: ignore[valid-type]
License = Literal[LICENSES]  # type: ignore[valid-type]
SortKey = Literal["newest", "oldest", "price_asc", "price_desc", "title"]
EDITION_SIZE_HELP = (f"how many numbered editions are for sale, 1..{MAX_EDITION_SIZE} (1: a unique work); each sold "
                     "edition is its own token, minted to its buyer")



class WorkCreate(BaseModel):
    title: Line = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    description: Text = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    discipline: Discipline
    price_cents: int = Field(gt=0, le=MAX_PRICE_CENTS)
    currency: Euros = Currency.EUR
    royalty_bps: int = Field(default=0, ge=0, le=MAX_ROYALTY_BPS)
    license: License
    edition_size: int = Field(default=1, ge=1, le=MAX_EDITION_SIZE, description=EDITION_SIZE_HELP)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("title must not be blank")
        return value



class WorkUpdate(BaseModel):
    price_cents: int | None = Field(default=None, gt=0, le=MAX_PRICE_CENTS)
    title: OptionalLine = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)
    description: Annotated[Text | None, Field(default=None, max_length=MAX_DESCRIPTION_CHARS)] = None

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("title must not be blank")
        return value


class WorkFilters(BaseModel):
    discipline: Discipline | None = None
    license: License | None = None
    creator_id: int | None = Field(default=None, ge=1, le=MAX_DB_ID)
    creator: OptionalLine = Field(default=None, max_length=MAX_DISPLAY_NAME_CHARS)
    q: OptionalLine = Field(default=None, max_length=MAX_SEARCH_CHARS)
    min_price_cents: int | None = Field(default=None, ge=0, le=MAX_PRICE_CENTS)
    max_price_cents: int | None = Field(default=None, ge=0, le=MAX_PRICE_CENTS)
    status: str | None = None
    sort: SortKey = "newest"
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=24, ge=1, le=MAX_PAGE_SIZE)


class CollaboratorIn(BaseModel):
    """One creator of a co-created work, as the uploader names them."""

    user_id: int = Field(ge=1, le=MAX_DB_ID, description="a creator account's id (GET /api/creators finds them)")
    share_bps: int = Field(ge=1, le=BPS_WHOLE, description="their share in basis points; all shares sum to 10,000")
    role: Line = Field(min_length=1, max_length=MAX_ROLE_CHARS, description='in words, e.g. "composer"')

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if not value:
            raise ValueError("role must not be blank")
        return value


class CollaboratorsIn(BaseModel):
    collaborators: list[CollaboratorIn] = Field(min_length=1, max_length=MAX_COLLABORATORS, description=(
        "every creator of the work, the uploader included; the shares sum to 10,000 basis points"))


class CreatorFilters(BaseModel):
    q: OptionalLine = Field(default=None, max_length=MAX_DISPLAY_NAME_CHARS)
    discipline: Discipline | None = None
    skill: OptionalLine = Field(default=None, max_length=MAX_SKILL_CHARS)
    location: OptionalLine = Field(default=None, max_length=MAX_LOCATION_CHARS)
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=24, ge=1, le=MAX_PAGE_SIZE)
