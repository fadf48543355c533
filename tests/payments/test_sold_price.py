"""A sold work shows the price it sold for (`sold_price_cents` in the API, "Sold for €X" on the pages), from its
delivered purchase, in one query for a whole page of works. Purchase rows are written here (no workers run: the
chain watcher would rightly send a delivered purchase whose transfer is not on chain back to delivery)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, update
from sqlmodel import Session

from marketplace.catalog.models import Work
from marketplace.core import db
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
    client = make_client(run_mint_worker=False, run_delivery_worker=False)
    api = Api(client)
    creator, buyer = api.register(role="creator", name="Anna Schmit"), api.register(role="buyer")
    ids = [api.upload(creator, title=f"Moselle {n}", content=png_bytes((32, 32), (n, 9, 9))).json()["id"]
           for n in range(5)]

    def sell(work_id: int, cents: int) -> None:
        """A work minted and sold: the catalog's columns and the buyer's delivered purchase."""
        with Session(db.get_engine()) as session:
            session.exec(update(Work).where(Work.id == work_id).values(
                status="minted", sale_status="sold", token_id=str(900 + work_id), owner_address=buyer["wallet_address"]))
            session.add(Purchase(work_id=work_id, buyer_id=buyer["id"], status="delivered", amount_cents=cents,
                                 wallet_address=buyer["wallet_address"]))
            # an earlier checkout of the same work that expired: not what it sold for
            session.add(Purchase(work_id=work_id, buyer_id=buyer["id"], status="expired", amount_cents=1,
                                 wallet_address=buyer["wallet_address"]))
            session.commit()

    with Session(db.get_engine()) as session:  # the rest minted and for sale
        session.exec(update(Work).where(Work.id.in_(ids)).values(status="minted"))
        session.commit()
    sell(ids[0], 4200)

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
    assert three_sold == one_sold  # one query for the page's sold prices, however many are sold
    assert gallery.count("Sold for") == 3 and "Sold for €1,250.00" in gallery and "Sold for €19.99" in gallery

    one = client.get(f"/api/works/{ids[2]}").json()
    assert (one["sale_status"], one["sold_price_cents"]) == ("sold", 125000)
    assert client.get(f"/api/works/{ids[3]}").json()["sold_price_cents"] is None
    page = client.get(f"/works/{ids[2]}").text
    assert '<p class="price-big price-sold">Sold for €1,250.00</p>' in page and "This work has been sold." in page
    assert page.count("Sold for") == 3  # and the creator's other sold works below it
    for_sale = client.get(f"/works/{ids[3]}").text
    assert "price-big price-sold" not in for_sale and "Buy for €25.00" not in for_sale  # (signed out: sign in)
    creator_page = client.get(f"/creators/{creator['id']}").text
    assert creator_page.count("Sold for") == 3
    assert "Vendue à 1\u202f250,00\u00a0€" in client.get(f"/works/{ids[2]}", headers={"Accept-Language": "fr"}).text
