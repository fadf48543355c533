"""GET /api/insights/{figure}: one figure of the insights as JSON, or `?format=csv` as CSV (public: aggregates
only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from marketplace.core.api_errors import errors
from marketplace.core.db import utcnow
from marketplace.core.deps import SessionDep
from marketplace.insights import service as insights_service
from marketplace.insights.schemas import InsightPublic

router = APIRouter(prefix="/api/insights", tags=["insights"])
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"

CSV_DOC = {"content": {"text/csv": {"schema": {"type": "string"}}},
           "description": "The figure (JSON), or with `?format=csv` its rows as CSV: a header row of the JSON rows' "
                          "keys, then one line per row with the same values"}


@router.get("/{figure}", response_model=InsightPublic, responses={200: CSV_DOC, **errors(404, 422, 503)})
def insight(session: SessionDep, figure: Annotated[str, Path(max_length=64, description=(
        "sales-by-month, sales-by-discipline, primary-vs-resale, royalties-and-splits, co-creation, calls, "
        "time-to-first-sale or payouts"))],
        output: Annotated[Literal["json", "csv"], Query(alias="format", description="json (default) or csv")] = "json",
        since: Annotated[str | None, Query(alias="from", pattern=MONTH, description=(
            "YYYY-MM: a figure by month starts at this month (included)"))] = None,
        until: Annotated[str | None, Query(alias="to", pattern=MONTH, description=(
            "YYYY-MM: a figure by month ends at this month (included)"))] = None):
    """One figure of the marketplace's insights, as defined in the README (Insights): `{figure, rows,
    generated_at}`, or the same rows as CSV; `from` and `to` (YYYY-MM) keep a figure by month to those months. An
    unknown figure: 404."""
    found = insights_service.get_figure_or_raise(figure)
    rows = insights_service.in_months(found.compute(session=session), since=since, until=until)
    if output == "csv":
        return Response(insights_service.to_csv(found, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{found.name}.csv"'})
    return InsightPublic(figure=found.name, rows=rows, generated_at=utcnow())
