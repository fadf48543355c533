"""Inputs of moderation: validated once, here (bounded lengths, the text rules of core.text)."""

from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field, field_validator

from marketplace.core.limits import (
    MAX_DB_ID,
    MAX_MODERATION_REASON_CHARS,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_REPORT_DETAILS_CHARS,
)
from marketplace.core.text import Text
from marketplace.moderation.models import ReportReason, ReportStatus


class ReportCreate(BaseModel):
    reason: ReportReason
    details: Text = Field(default="", max_length=MAX_REPORT_DETAILS_CHARS,
                          description="what is wrong with the work, and where (the DSA asks for a substantiated "
                                      "explanation)")
    email: EmailStr | None = Field(default=None, description="anonymous reporters: where to tell the decision "
                                   "(signed-in reporters are told in their notices)")


class DecisionIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=MAX_MODERATION_REASON_CHARS,
                         description="the statement of reasons, shown to the work's creators")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class ReportFilters(BaseModel):
    status: ReportStatus | None = None
    work_id: int | None = Field(default=None, ge=1, le=MAX_DB_ID)
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
