"""Inputs of the catalog: validated once, here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from marketplace.config import DISCIPLINES, LICENSES, MAX_ROYALTY_BPS

Discipline = Literal[DISCIPLINES]  # type: ignore[valid-type]
License = Literal[LICENSES]  # type: ignore[valid-type]
SortKey = Literal["newest", "oldest", "price_asc", "price_desc", "title"]

LICENSE_URLS = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC-BY-NC-4.0": "https://creativecommons.org/licenses/by-nc/4.0/",
    "personal-use": None,
    "commercial-use": None,
}


class WorkCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    discipline: Discipline
    price_cents: int = Field(gt=0, le=100_000_000)
    currency: str = "EUR"
    royalty_bps: int = Field(default=0, ge=0, le=MAX_ROYALTY_BPS)
    license: License

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("title must not be blank")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.strip().upper()
        if value != "EUR":
            raise ValueError("works are listed in euros: currency must be EUR")
        return value


class WorkUpdate(BaseModel):
    price_cents: int | None = Field(default=None, gt=0, le=100_000_000)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)


class WorkFilters(BaseModel):
    discipline: Discipline | None = None
    license: License | None = None
    creator_id: int | None = None
    creator: str | None = Field(default=None, max_length=120)
    q: str | None = Field(default=None, max_length=200)
    min_price_cents: int | None = Field(default=None, ge=0)
    max_price_cents: int | None = Field(default=None, ge=0)
    status: str | None = None
    sort: SortKey = "newest"
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=24, ge=1, le=100)
