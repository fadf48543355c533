"""Inputs of the calls: validated once, here (the service checks what needs the database or the clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field, field_validator

from marketplace.catalog.schemas import Discipline
from marketplace.core.config import DISCIPLINES
from marketplace.core.limits import (
    MAX_DB_ID,
    MAX_DESCRIPTION_CHARS,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_PRICE_CENTS,
    MAX_ROLE_CHARS,
    MAX_TITLE_CHARS,
    Currency,
    Euros,
)
from marketplace.core.money import BPS_WHOLE
from marketplace.core.text import Line, Text

MAX_TEAM = 20
MAX_DEADLINE_DAYS = 730  # a call runs for at most two years


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be blank")
    return value


class CallCreate(BaseModel):
    title: Line = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    brief: Text = Field(min_length=1, max_length=MAX_DESCRIPTION_CHARS)
    disciplines: list[Discipline] = Field(min_length=1, max_length=len(DISCIPLINES))
    budget_cents: int = Field(gt=0, le=MAX_PRICE_CENTS)
    currency: Euros = Currency.EUR
    deadline: datetime = Field(description="when proposals close (UTC when no offset is given); in the future, "
                                           f"at most {MAX_DEADLINE_DAYS} days ahead")

    _title = field_validator("title", "brief")(_not_blank)

    @field_validator("deadline")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """Stored in UTC (a date far in the past with an offset may not even have a UTC value)."""
        try:
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:
            raise ValueError("not a date this calendar can hold in UTC") from None

    @field_validator("disciplines")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each discipline once")
        return value



class TeamMemberIn(BaseModel):
    user_id: int = Field(ge=1, le=MAX_DB_ID)
    share_bps: int = Field(ge=1, le=BPS_WHOLE, description="the member's share of the budget, in basis points")
    role: Line = Field(min_length=1, max_length=MAX_ROLE_CHARS, description='in words, e.g. "composer"')

    _role = field_validator("role")(_not_blank)


class ProposalCreate(BaseModel):
    title: Line = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    pitch: Text = Field(min_length=1, max_length=MAX_DESCRIPTION_CHARS)
    team: list[TeamMemberIn] = Field(min_length=1, max_length=MAX_TEAM,
                                     description="every member once, the shares summing to 10,000; the author is one")

    _title = field_validator("title", "pitch")(_not_blank)

    @field_validator("team")
    @classmethod
    def _shares(cls, team: list[TeamMemberIn]) -> list[TeamMemberIn]:
        if len({m.user_id for m in team}) != len(team):
            raise ValueError("each member once: a user_id appears twice")
        total = sum(m.share_bps for m in team)
        if total != BPS_WHOLE:
            raise ValueError(f"the shares must sum to {BPS_WHOLE} basis points (100 %); they sum to {total}")
        return team


class CallFilters(BaseModel):
    discipline: Discipline | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=24, ge=1, le=MAX_PAGE_SIZE)


class DeliveryIn(BaseModel):
    work_id: int = Field(ge=1, le=MAX_DB_ID)
