"""The studio's payouts page and its monthly statements (CSV and PDF, EN/FR/DE), on both databases: every credit,
refund, transfer and reversal of the month, sums exact to the cent."""

from __future__ import annotations

import csv
import io

import pytest

from marketplace.core.db import utcnow
from marketplace.payouts.worker import PayoutWorker
from tests.conftest import Api
from tests.payouts.conftest import FakeStripe, Market, drain

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


@pytest.fixture
def studio(make_client, db_url):
    client = make_client(run_payout_worker=False)
    return client, Api(client)


def cookie(user: dict) -> dict:
    return {"Cookie": f"mp_session={user['headers']['Authorization'].split()[1]}"}


def test_the_statement_lists_every_credit_transfer_and_reversal_of_the_month(studio, stripe: FakeStripe):
    client, api = studio
    market = Market(stripe)
    creator = api.register(role="creator", name="Anna Schmit")
    other, = market.creators(1)
    market.onboard(creator["id"])
    market.onboard(other)
    worker = PayoutWorker(gateway=stripe, name="statements")
    kept = market.sale([(creator["id"], 7000), (other, 3000)], 1003)  # 903: 632 / 271
    refunded = market.sale([(creator["id"], 10_000)], 500)  # 450
    drain(worker)
    market.refund(refunded)
    drain(worker)
    month = utcnow().strftime("%Y-%m")

    page = client.get("/studio/payouts", headers=cookie(creator))
    assert page.status_code == 200
    assert 'data-status="enabled"' in page.text and "Payouts enabled" in page.text
    assert page.text.count('class="line-') == 6  # 2 credits, 1 refund, 2 transfers, 1 reversal
    r = client.get("/studio/payouts/statement", params={"month": month, "format": "csv"}, headers=cookie(creator))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == f'attachment; filename="statement-{month}.csv"'
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["Date", "What", "Work", "Purchase", "Amount (EUR)", "cents", "Status"]
    got = sorted((row[1], int(row[3]), row[4], int(row[5]), row[6]) for row in rows[1:])
    assert got == sorted([
        ("Sale", kept, "6.32", 632, "Booked"), ("Transfer", kept, "6.32", 632, "Transferred"),
        ("Sale", refunded, "4.50", 450, "Booked"), ("Transfer", refunded, "4.50", 450, "Transferred"),
        ("Refund", refunded, "-4.50", -450, "Booked"), ("Transfer reversal", refunded, "-4.50", -450, "Reversed")])
    earned = sum(cents for kind, _, _, cents, _ in got if kind in ("Sale", "Refund"))
    assert earned == 632 == client.get("/api/me/earnings", headers=creator["headers"]).json()["balance_cents"]

    fr = client.get("/studio/payouts/statement", params={"month": month, "format": "csv"},
                    headers={**cookie(creator), "Accept-Language": "fr"})
    assert next(csv.reader(io.StringIO(fr.text)))[:3] == ["Date", "Quoi", "Œuvre"]
    for language in ("en", "fr", "de"):
        pdf = client.get("/studio/payouts/statement", params={"month": month, "format": "pdf"},
                         headers={**cookie(creator), "Accept-Language": language})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
    # another month: nothing in it
    empty = client.get("/studio/payouts/statement", params={"month": "2001-01", "format": "csv"},
                       headers=cookie(creator))
    assert len(list(csv.reader(io.StringIO(empty.text)))) == 1
    assert client.get("/studio/payouts/statement", params={"month": "2026-13"},
                      headers=cookie(creator)).status_code == 400  # pages answer a bad query with 400
