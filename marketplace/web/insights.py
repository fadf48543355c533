"""/insights: the marketplace's figures on one public page (aggregates only), one section per figure: a chart drawn
server-side (insights_svg), the table of its rows behind it, and its data as CSV and JSON (GET /api/insights/...).
Every word in the reader's language; money in their locale's euro format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from marketplace.core.deps import SessionDep
from marketplace.insights import service as insights_service
from marketplace.web import insights_svg
from marketplace.web.dependencies import Viewer
from marketplace.web.i18n import Translator
from marketplace.web.labels import N_
from marketplace.web.templating import render, translator

router = APIRouter(include_in_schema=False)

KIND_LABELS = {"primary": N_("First sales"), "resale": N_("Resales")}
MEASURE_LABELS = {"co_created": N_("Co-created"), "across_disciplines": N_("Across disciplines"),
                  "across_organisations": N_("Across organisations")}
ALL_WORKS = N_("All works")


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # N_-marked
    kind: str  # text, month, money, count, bps, discipline, kind, measure


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    lead: str
    columns: tuple[Column, ...]
    chart: Callable[[Translator, list[dict], str, str, str], str]  # (t, rows, title, desc, id) -> svg


def _count(t: Translator, value: int) -> str:
    return format_decimal(value, locale=t.locale)


def cell(t: Translator, kind: str, value) -> str:
    """A row's value as the page shows it."""
    if kind == "money":
        return t.money(value)
    if kind == "count":
        return _count(t, value)
    if kind == "bps":
        return t.percent_bps(value)
    if kind == "month":
        return t.month(value)
    if kind == "discipline":
        return t.gettext(ALL_WORKS) if value == "all" else t.label("discipline", value)
    if kind == "kind":
        return t.gettext(KIND_LABELS[value])
    if kind == "measure":
        return t.gettext(MEASURE_LABELS[value])
    return str(value)


def _month_bars(keys: list[tuple[str, str]], fmt_kind: str, axis: str):
    def draw(t: Translator, rows: list[dict], title: str, desc: str, chart_id: str) -> str:
        return insights_svg.bars(
            chart_id, title=title, desc=desc, categories=[t.month(r["month"]) for r in rows],
            series=[insights_svg.Series(t.gettext(name), [r[key] for r in rows]) for key, name in keys],
            fmt=lambda v: cell(t, fmt_kind, v), axis_label=t.gettext(axis))
    return draw


def _hbars(label_kind: str, label_key: str, key: str, fmt_kind: str, axis: str, maximum: int | None = None):
    def draw(t: Translator, rows: list[dict], title: str, desc: str, chart_id: str) -> str:
        return insights_svg.hbars(
            chart_id, title=title, desc=desc, labels=[cell(t, label_kind, r[label_key]) for r in rows],
            values=[r[key] for r in rows], fmt=lambda v: cell(t, fmt_kind, v), axis_label=t.gettext(axis),
            maximum=maximum)
    return draw


MONTH = Column("month", N_("Month"), "month")
SECTIONS: tuple[Section, ...] = (
    Section("sales-by-month", N_("Sales by month"),
            N_("First sales and resales delivered each month: how many, and what their buyers paid. A refunded sale "
               "is not a sale. The last column counts those whose token transfer the chain index holds."),
            (MONTH, Column("count", N_("Sales"), "count"), Column("volume_cents", N_("Volume"), "money"),
             Column("on_chain_count", N_("In the chain index"), "count")),
            _month_bars([("volume_cents", N_("Volume"))], "money", N_("Volume"))),
    Section("sales-by-discipline", N_("Sales by discipline"),
            N_("Every sale so far, by the discipline of the work sold."),
            (Column("discipline", N_("Discipline"), "discipline"), Column("count", N_("Sales"), "count"),
             Column("volume_cents", N_("Volume"), "money")),
            _hbars("discipline", "discipline", "volume_cents", "money", N_("Volume"))),
    Section("primary-vs-resale", N_("First sales and resales"),
            N_("What creators sold first-hand, and what collectors sold on again."),
            (Column("kind", N_("Kind"), "kind"), Column("count", N_("Sales"), "count"),
             Column("volume_cents", N_("Volume"), "money")),
            _hbars("kind", "kind", "volume_cents", "money", N_("Volume"))),
    Section("royalties-and-splits", N_("Royalties and split payouts"),
            N_("What the ledger credited to creators, by the month of the sale, net of refunds: royalties on "
               "resales, and the shares of sales split between several creators (co-created works, calls' teams)."),
            (MONTH, Column("royalties_cents", N_("Royalties"), "money"),
             Column("splits_cents", N_("Split payouts"), "money")),
            _month_bars([("royalties_cents", N_("Royalties")), ("splits_cents", N_("Split payouts"))], "money",
                        N_("Credited"))),
    Section("co-creation", N_("Co-creation"),
            N_("The share of published works made by two or more creators, and of those made across disciplines "
               "or across organisations."),
            (Column("measure", N_("Works"), "measure"), Column("works", N_("Count"), "count"),
             Column("of_works", N_("Of published works"), "count"), Column("share_bps", N_("Share"), "bps")),
            _hbars("measure", "measure", "share_bps", "bps", N_("Share of published works"), maximum=10_000)),
    Section("calls", N_("Open calls"),
            N_("Calls posted each month, how many were answered with a team's proposal, and how many awarded."),
            (MONTH, Column("posted", N_("Posted"), "count"), Column("answered", N_("Answered"), "count"),
             Column("awarded", N_("Awarded"), "count")),
            _month_bars([("posted", N_("Posted")), ("answered", N_("Answered")), ("awarded", N_("Awarded"))],
                        "count", N_("Calls"))),
    Section("time-to-first-sale", N_("Time to first sale"),
            N_("The median time from a work's upload to its first sale, in hours, for all works sold and by "
               "discipline."),
            (Column("discipline", N_("Discipline"), "discipline"), Column("works", N_("Works sold"), "count"),
             Column("median_hours", N_("Median, hours"), "count"), Column("median_days", N_("Median, days"), "count")),
            _hbars("discipline", "discipline", "median_hours", "count", N_("Median, hours"))),
    Section("payouts", N_("Payouts"),
            N_("Euros paid out to creators through Stripe each month: transfers made, less the reversals of refunded "
               "sales."),
            (MONTH, Column("transfers", N_("Transfers"), "count"), Column("paid_cents", N_("Paid out"), "money"),
             Column("reversed_cents", N_("Reversed"), "money"), Column("net_cents", N_("Net paid out"), "money")),
            _month_bars([("net_cents", N_("Net paid out"))], "money", N_("Paid out"))),
)
CHART_DESC = N_("The table below lists the same figures.")


@router.get("/insights", response_class=HTMLResponse)
def insights_page(request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    t = translator(request)
    figures = insights_service.all_figures(session=session)
    sections = []
    for section in SECTIONS:
        rows = figures[section.name]
        title = t.gettext(section.title)
        svg = section.chart(t, rows, title, t.gettext(CHART_DESC), f"chart-{section.name}") if rows else ""
        sections.append({"section": section, "title": title, "rows": rows, "svg": Markup(svg),
                         "cells": [[cell(t, c.kind, row[c.key]) for c in section.columns] for row in rows]})
    return render(request, "insights.html", {"sections": sections}, account=viewer)
