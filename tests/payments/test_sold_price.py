"""A sold work shows the price it sold for (`sold_price_cents` in the API, "Sold for €X" on the pages): the amount of
its delivered purchase, recorded on the work when the sale is (so a page of works needs no query per work), and
gone again when the chain undoes the delivery. Purchases are written here and settled through the payments service
as the delivery worker and the chain watcher do (no workers run: the watcher would rightly send a delivery that is
not on chain back to delivery)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, update
from sqlmodel import Session

from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.core.db import utcnow
from marketplace.payments import service as payments_service
from marketplace.payments.models import Purchase
from tests.conftest import Api, png_bytes

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


@contextmanager
def statements():
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_sold_works_show_what_they_sold_for_without_a_query_per_work(make_client):
    # no background workers: the statements counted below are the pages' own (the mail and payout workers and the
    # chain indexer poll too)
    client = make_client(run_mint_worker=False, run_delivery_worker=False, run_mail_worker=False,
                         run_payout_worker=False, run_indexer=False)
    api = Api(client)
    creator, buyer = api.register(role="creator", name="Anna Schmit"), api.register(role="buyer")
    ids = [api.upload(creator, title=f"Moselle {n}", content=png_bytes((32, 32), (n, 9, 9))).json()["id"]
           for n in range(5)]
    with Session(db.get_engine()) as session:  # minted, for sale
        for work_id in ids:
            session.exec(update(Work).where(Work.id == work_id).values(status="minted", token_id=str(900 + work_id)))
        session.commit()

    def sell(work_id: int, cents: int) -> int:
        """A buyer paid `cents` (an earlier checkout of the same work expired) and the token was delivered."""
        with Session(db.get_engine(), expire_on_commit=False) as session:
            session.add(Purchase(work_id=work_id, buyer_id=buyer["id"], status="expired", amount_cents=1,
                                 wallet_address=buyer["wallet_address"]))
            purchase = Purchase(work_id=work_id, buyer_id=buyer["id"], status="paid", amount_cents=cents,
                                wallet_address=buyer["wallet_address"], token_id=str(900 + work_id))
            session.add(purchase)
            session.commit()
            work = session.get(Work, work_id)
            assert payments_service.mark_delivered_many(session, [(purchase, work, "0x" + "ab" * 32)],
                                                        fee_bps=1000, now=utcnow()) == [purchase.id]
            session.commit()
            return purchase.id

    first = sell(ids[0], 4200)

    def listing():
        with statements() as seen:
            api_page = client.get("/api/works").json()["data"]
            gallery = client.get("/").text
        return {w["id"]: w["sold_price_cents"] for w in api_page}, gallery, len(seen)

    prices, gallery, one_sold = listing()
    assert prices == {ids[0]: 4200, **dict.fromkeys(ids[1:])}
    assert gallery.count("Sold for") == 1 and "Sold for €42.00" in gallery
    sell(ids[1], 1999)
    sell(ids[2], 125000)
    prices, gallery, three_sold = listing()
    assert prices == {ids[0]: 4200, ids[1]: 1999, ids[2]: 125000, ids[3]: None, ids[4]: None}
    assert three_sold == one_sold  # however many are sold: no query per work
    assert gallery.count("Sold for") == 3 and "Sold for €1,250.00" in gallery and "Sold for €19.99" in gallery

    one = client.get(f"/api/works/{ids[2]}").json()
    assert (one["sale_status"], one["sold_price_cents"]) == ("sold", 125000)
    assert client.get(f"/api/works/{ids[3]}").json()["sold_price_cents"] is None
    page = client.get(f"/works/{ids[2]}").text
    assert '<p class="price-big price-sold">Sold for €1,250.00</p>' in page and "This work has been sold." in page
    assert page.count("Sold for") == 3  # and the creator's other sold works below it
    assert "price-big price-sold" not in client.get(f"/works/{ids[3]}").text
    assert client.get(f"/creators/{creator['id']}").text.count("Sold for") == 3
    assert "Vendue à 1.250,00\u00a0€" in client.get(f"/works/{ids[2]}", headers={"Accept-Language": "fr"}).text
    assert "Verkauft für 1.250,00\u00a0€" in client.get(f"/works/{ids[2]}", headers={"Accept-Language": "de"}).text

    # the chain no longer holds the first delivery: the work is not sold (it goes out again), so no sold price
    with Session(db.get_engine()) as session:
        assert payments_service.return_to_delivery(session=session, purchase_id=first, tx_hash="0x" + "ab" * 32,
                                                   owner=None, reason="the delivery was reorged out")
        session.commit()
    again = client.get(f"/api/works/{ids[0]}").json()
    assert (again["sale_status"], again["sold_price_cents"]) == ("reserved", None)
    assert "price-big price-sold" not in client.get(f"/works/{ids[0]}").text
