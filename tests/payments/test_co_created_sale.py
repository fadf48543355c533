"""A co-created work sold by card end to end (the Stripe double over HTTP, anvil, IPFS, both databases): each
creator is credited their share of the creators' part to the cent, the parts sum to it, and each creator's
ledger, balance and sales page agree."""

from __future__ import annotations

import pytest

from tests.catalog.crews import Team
from tests.conftest import png_bytes
from tests.payments.conftest import Shop, ledger, purchases

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def sell(shop: Shop, work_id: int) -> int:
    buyer = shop.register(role="buyer", name="Marie Buyer")
    r = shop.checkout(buyer, work_id)
    assert r.status_code == 201, r.text
    assert shop.hosted_pay(r.json()["checkout_url"], "4242424242424242").status_code == 303
    shop.wait_purchase(buyer, r.json()["purchase_id"], "delivered")
    return r.json()["purchase_id"]


def test_a_three_creator_sale_credits_each_creator_by_share_to_the_cent(shop: Shop):
    team = Team(shop, price_cents=999)  # 10 % fee (the default): 99 to the platform, 900 to the creators
    team.accepted()
    team.mint()
    first = sell(shop, team.work["id"])
    # a second work of the same team at 1003: 100 fee, 903 to split (451.5 / 270.9 / 180.6): the two cents
    # left over go to the largest remainders, the composer's and the modeller's
    second = shop.upload(team.uploader, content=png_bytes((50, 50), (9, 8, 7)), title="Kinnekswiss",
                         price_cents=1003).json()
    assert team.put(team.list_50_30_20(), work_id=second["id"]).status_code == 200
    for user in (team.composer, team.modeller):
        assert team.answer(user, "accept", work_id=second["id"]).status_code == 200
    assert shop.client.post(f"/api/works/{second['id']}/mint", headers=team.uploader["headers"]).status_code == 202
    shop.wait_for_status(second["id"], "minted")
    later = sell(shop, second["id"])

    up, co, mo = team.uploader["id"], team.composer["id"], team.modeller["id"]
    booked = {(e.purchase_id, e.entry_type, e.account_id): e.amount_cents for e in ledger()}
    assert booked == {
        (first, "sale_creator", up): 450, (first, "sale_creator", co): 270, (first, "sale_creator", mo): 180,
        (first, "sale_platform_fee", None): 99,
        (later, "sale_creator", up): 451, (later, "sale_creator", co): 271, (later, "sale_creator", mo): 181,
        (later, "sale_platform_fee", None): 100,
    }
    for purchase_id, paid, fee in ((first, 999, 99), (later, 1003, 100)):
        creators = [cents for (p, kind, _), cents in booked.items() if p == purchase_id and kind == "sale_creator"]
        assert sum(creators) == paid - fee

    expected = {up: [451, 450], co: [271, 270], mo: [181, 180]}
    for user in (team.uploader, team.composer, team.modeller):
        mine = shop.client.get("/api/me/ledger", headers=user["headers"]).json()
        assert mine["count"] == 2
        assert [(e["purchase_id"], e["work_id"], e["work_title"], e["entry_type"], e["amount_cents"],
                 e["currency"]) for e in mine["data"]] == [
            (later, second["id"], "Kinnekswiss", "sale_creator", expected[user["id"]][0], "EUR"),
            (first, team.work["id"], "Schueberfouer", "sale_creator", expected[user["id"]][1], "EUR")]
        assert mine["data"][0]["created_at"] >= mine["data"][1]["created_at"]
        earnings = shop.client.get("/api/me/earnings", headers=user["headers"]).json()
        assert earnings["balance_cents"] == sum(e["amount_cents"] for e in mine["data"]) == sum(expected[user["id"]])
        paged = shop.client.get("/api/me/ledger", params={"page": 2, "page_size": 1}, headers=user["headers"]).json()
        assert (paged["count"], [e["purchase_id"] for e in paged["data"]]) == (2, [first])
        # the studio's sales table: both co-created works, each with this creator's share
        studio = shop.page(user, "/studio").text
        assert "Kinnekswiss" in studio and "Schueberfouer" in studio
        assert f"€{expected[user['id']][0] / 100:.2f}" in studio
    # a buyer has no ledger
    buyer = shop.register(role="buyer")
    assert shop.client.get("/api/me/ledger", headers=buyer["headers"]).json() == {
        "data": [], "count": 0, "page": 1, "page_size": 24}


def test_a_co_creator_cannot_buy_the_work(shop: Shop):
    team = Team(shop)
    team.accepted()
    team.mint()
    r = shop.checkout(team.composer, team.work["id"])
    assert r.status_code == 409 and "co-created" in r.json()["detail"]
    r = shop.checkout(team.uploader, team.work["id"])
    assert r.status_code == 409 and r.json()["detail"], r.text
    assert purchases() == []  # nothing reserved, nothing to pay
    assert shop.client.get(f"/api/works/{team.work['id']}").json()["sale_status"] == "available"
