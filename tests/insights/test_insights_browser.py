"""/insights in Chromium on a laptop (German) and a phone (French), over sales, splits, calls and payouts
fabricated as rows in three months: every figure's chart is drawn with its bars and its accessible name, its table
is there, the CSV link downloads the same rows, the page never scrolls sideways on a phone; screenshots saved."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import update
from sqlmodel import Session

from marketplace.calls.models import Call, Proposal
from marketplace.core import db
from marketplace.insights import service as insights_service
from marketplace.payouts.models import Payout
from tests.insights.test_figures_db import at
from tests.payouts.conftest import FakeStripe, Market, payouts
from tests.web.conftest import DESKTOP, PHONE
from tests.web.test_phone_browser import fits

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def _market() -> None:
    market = Market(FakeStripe())
    anna, luc, sofia = market.creators(3)
    months = [datetime(2026, m, d, 12, tzinfo=UTC) for m, d in ((9, 3), (10, 9), (10, 20), (11, 2), (11, 28),
                                                                (12, 1))]
    sales = [market.sale([(anna, 5000), (luc, 5000)], 4200), market.sale([(anna, 10_000)], 2500),
             market.sale([(luc, 10_000)], 12_000), market.sale([(sofia, 7000), (anna, 3000)], 8000),
             market.sale([(sofia, 10_000)], 1500), market.sale([(luc, 10_000)], 6400)]
    for purchase_id, moment in zip(sales, months, strict=True):
        at(purchase_id, moment)
    with Session(db.get_engine()) as session:  # two calls posted in November, one answered and awarded
        for n, moment in enumerate(months[3:5]):
            call = Call(caller_id=sofia, title=f"Call {n}", brief="Brief", budget_cents=50_000, created_at=moment,
                        deadline=datetime(2027, 1, 1, tzinfo=UTC))
            session.add(call)
            session.flush()
            if n == 0:
                proposal = Proposal(call_id=call.id, author_id=luc, title="Us", pitch="We", status="awarded",
                                    submitted_at=moment)
                session.add(proposal)
                session.flush()
                call.awarded_proposal_id, call.status = proposal.id, "awarded"
        session.commit()
    # the app's payout worker writes a payout row for each creator's credit; Anna's are marked paid (the test's
    # own write: Stripe is the double here, which never saw these fabricated payments)
    deadline = time.monotonic() + 20
    while len(payouts()) < 8:
        assert time.monotonic() < deadline, "the payout worker wrote no rows"
        time.sleep(0.1)
    table = Payout.__table__
    with db.get_engine().begin() as conn:
        for purchase_id, moment in zip(sales, months, strict=True):
            conn.execute(update(table).where(table.c.purchase_id == purchase_id, table.c.account_id == anna)
                         .values(status="paid", stripe_cents=table.c.amount_cents, settled_at=moment))


def test_the_insights_page_reads_well_on_a_laptop_and_a_phone(make_live, browsing):
    live = make_live()
    _market()
    laptop = browsing.person(viewport=DESKTOP, locale="de-DE")
    laptop.goto(f"{live.url}/insights")
    expect(laptop.locator("h1")).to_have_text("Kennzahlen")
    charts = laptop.locator("svg.insight-svg")
    assert charts.count() == len(insights_service.FIGURES)
    for name in insights_service.FIGURES:
        section = laptop.locator(f"section#{name}")
        expect(section.locator("svg.insight-svg")).to_be_visible()
        assert section.locator("svg.insight-svg").get_attribute("aria-labelledby") == (
            f"chart-{name}-title chart-{name}-desc")
        expect(section.locator("table.insight-table")).to_be_visible()
    months = laptop.locator("section#sales-by-month")
    assert months.locator("svg rect").count() == 4  # September to December, one bar each
    assert months.locator("tbody tr").count() == 4
    expect(months.locator("tbody tr").nth(1)).to_contain_text("Okt. 2026")
    expect(months.locator("tbody tr").nth(1)).to_contain_text("145,00\xa0€")  # 25.00 + 120.00
    browsing.shot(laptop, "insights-01-laptop-de")

    href = months.locator("a[download]").get_attribute("href")
    csv_rows = list(csv.DictReader(io.StringIO(httpx.get(f"{live.url}{href}").text)))
    json_rows = httpx.get(f"{live.url}/api/insights/sales-by-month").json()["rows"]
    assert csv_rows == [{k: str(v) for k, v in row.items()} for row in json_rows]

    phone = browsing.person(viewport=PHONE, locale="fr-FR")
    phone.goto(f"{live.url}/insights")
    expect(phone.locator("h1")).to_have_text("Chiffres clés")
    fits(phone)
    phone.locator("section#royalties-and-splits").scroll_into_view_if_needed()
    browsing.shot(phone, "insights-02-phone-fr")
    assert browsing.console_errors == []
