"""The shape of GET /api/insights/{figure}."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class InsightPublic(BaseModel):
    figure: str = Field(description="the figure's name, as in the path")
    rows: list[dict[str, int | str]] = Field(description=(
        "the figure's rows: stable snake_case keys (README, Insights), money in integer cents with its currency, "
        "months as YYYY-MM (UTC)"))
    generated_at: datetime = Field(description="when the figure was computed (UTC)")
