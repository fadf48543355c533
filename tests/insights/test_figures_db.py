"""The figures on rows fabricated in the database (both databases, no chain): sales in three months bucketed by
their UTC month in SQL (SQLite strftime, PostgreSQL to_char), a refund netting out of every figure, payouts by the
month Stripe made them; and the rounding rules as properties (hypothesis)."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from sqlmodel import Session

from marketplace.core import db
from marketplace.insights import service as insights_service
from marketplace.payments.models import Purchase
from marketplace.payouts.models import Payout
from marketplace.payouts.worker import PayoutWorker
from tests.payouts.conftest import Market, drain


def at(purchase_id: int, moment: datetime) -> None:
    """The test's clock: when the sale was delivered (a test's own write)."""
    with db.get_engine().begin() as conn:
        conn.execute(update(Purchase.__table__).where(Purchase.__table__.c.id == purchase_id)
                     .values(delivered_at=moment, paid_at=moment))


def figures() -> dict:
    with Session(db.get_engine()) as session:
        return insights_service.all_figures(session=session)


def test_months_refunds_and_payouts_on_both_databases(market: Market, stripe, worker: PayoutWorker):
    anna, luc = market.creators(2)
    jan = market.sale([(anna, 6000), (luc, 4000)], 1001)  # 10 % fee: 100; 901 -> 541 / 360
    feb = market.sale([(anna, 10_000)], 2000)
    feb_refunded = market.sale([(luc, 10_000)], 5000)
    mar = market.sale([(luc, 10_000)], 333)
    at(jan, datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC))  # the last second of January, UTC
    at(feb, datetime(2026, 2, 1, 0, 0, 0, tzinfo=UTC))
    at(feb_refunded, datetime(2026, 2, 14, 12, 0, tzinfo=UTC))
    at(mar, datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
    market.onboard(anna)
    drain(worker)
    before = figures()
    assert [(r["month"], r["count"], r["volume_cents"]) for r in before["sales-by-month"]] == [
        ("2026-01", 1, 1001), ("2026-02", 2, 7000), ("2026-03", 1, 333)]
    market.refund(feb_refunded)
    after = figures()
    assert [(r["month"], r["count"], r["volume_cents"], r["currency"]) for r in after["sales-by-month"]] == [
        ("2026-01", 1, 1001, "EUR"), ("2026-02", 1, 2000, "EUR"), ("2026-03", 1, 333, "EUR")]
    with Session(db.get_engine()) as session:  # ?from=&to=: the months kept, both included
        kept = insights_service.figure(session=session, name="sales-by-month", since="2026-02", until="2026-03")
        assert [r["month"] for r in kept] == ["2026-02", "2026-03"]
        assert insights_service.figure(session=session, name="co-creation", since="2030-01") == after["co-creation"]
    # the chain index holds none of these fabricated deliveries
    assert {r["on_chain_count"] for r in after["sales-by-month"]} == {0}
    assert [(r["kind"], r["count"], r["volume_cents"]) for r in after["primary-vs-resale"]] == [
        ("primary", 3, 3334), ("resale", 0, 0)]
    assert {r["discipline"]: r["count"] for r in after["sales-by-discipline"]}["design"] == 3
    # only January's sale was split between two creators: 541 + 360
    assert after["royalties-and-splits"] == [
        {"month": "2026-01", "royalties_cents": 0, "splits_cents": 901, "currency": "EUR"}]
    # Anna was paid her two credits (541 + 1800) when the worker ran: this month, by settled_at
    (paid,) = after["payouts"]
    settled = {p.settled_at.strftime("%Y-%m") for p in _payouts() if p.status == "paid"}
    assert settled == {paid["month"]}
    assert (paid["transfers"], paid["paid_cents"], paid["reversed_cents"], paid["net_cents"]) == (2, 2341, 0, 2341)
    assert sum(t["amount"] for t in stripe.transfers.values()) == 2341


def _payouts() -> list[Payout]:
    from tests.payouts.conftest import payouts

    return payouts()


def test_no_rows_yet_gives_empty_months_and_zero_shares(db_url):
    got = figures()
    assert got["sales-by-month"] == got["calls"] == got["payouts"] == got["royalties-and-splits"] == []
    assert [r["share_bps"] for r in got["co-creation"]] == [0, 0, 0]
    assert got["time-to-first-sale"] == [{"discipline": "all", "works": 0, "median_seconds": 0, "median_hours": 0,
                                          "median_days": 0}]
    with Session(db.get_engine()) as session, pytest.raises(Exception) as raised:
        insights_service.figure(session=session, name="nope")
    assert raised.value.status_code == 404


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=10**9))
def test_a_share_is_the_exact_ratio_rounded_half_up(part, whole):
    part = min(part, whole)
    bps = insights_service.share_bps(part, whole)
    assert 0 <= bps <= 10_000
    # |bps - exact| <= 1/2, ties up: 2 * (bps * whole) - whole <= 2 * part * 10,000 < 2 * (bps * whole) + whole
    assert 2 * bps * whole - whole <= 2 * part * 10_000 < 2 * bps * whole + whole


@given(st.lists(st.integers(min_value=0, max_value=10**8), max_size=50))
def test_the_median_is_statistics_median_rounded_half_up(durations):
    got = insights_service.median_seconds(durations)
    if not durations:
        assert got == 0
        return
    exact = statistics.median(durations)
    assert got - exact in (0, 0.5)  # whole, or a half second rounded up
    assert min(durations) <= got <= max(durations)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=10**6))
def test_round_half_up_is_within_half_of_the_ratio(numerator, denominator):
    got = insights_service.round_half_up(numerator, denominator)
    assert 2 * got * denominator - denominator <= 2 * numerator < 2 * got * denominator + denominator
