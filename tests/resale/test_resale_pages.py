"""The resale pages: Resell on the collection, Withdraw listing, 'Resale from' on the gallery card and the work
page, and Buy on a listing going to Stripe's hosted checkout with the same two boxes as a first sale."""

from __future__ import annotations

import pytest

from tests.payments.conftest import BUY_FORM, Shop
from tests.resale.helpers import listing_row, owner_on_chain, sell

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def test_resell_withdraw_and_buy_from_the_pages(shop: Shop, anvil, contract_address):
    creator = shop.register(name="Anna Creator")
    work = shop.minted_work(creator, price_cents=1500, title="Pfaffenthal")
    seller, _ = sell(shop, work["id"])
    page = shop.page(seller, "/collection").text
    assert f'action="/collection/{work["id"]}/resell"' in page and "Resell" in page

    bad = shop.form_post(seller, "/collection", f"/collection/{work['id']}/resell",
                         {"price": "abc", "token_id": str(work["token_id"])})
    assert bad.status_code == 422 and "Enter a price in euros" in bad.text
    r = shop.form_post(seller, "/collection", f"/collection/{work['id']}/resell",
                       {"price": "30,50", "token_id": str(work["token_id"])})
    assert r.status_code == 303 and r.headers["location"] == "/collection"
    (listing,) = shop.client.get("/api/listings", params={"work_id": work["id"]}).json()["data"]
    assert listing["price_cents"] == 3050
    page = shop.page(seller, "/collection").text
    assert f'action="/listings/{listing["id"]}/withdraw"' in page and "Withdraw listing" in page
    assert "€30.50" in page

    # the gallery card and the work page say it, in French too
    assert "Resale from €30.50" in shop.page(seller, "/").text
    buyer = shop.register(role="buyer", name="Luc Buyer")
    work_page = shop.page(buyer, f"/works/{work['id']}").text
    assert "Resale from €30.50" in work_page and f'action="/listings/{listing["id"]}/buy"' in work_page
    token = buyer["headers"]["Authorization"].split()[1]
    french = shop.client.get(f"/works/{work['id']}", headers={"Cookie": f"mp_session={token}; mp_lang=fr"}).text
    assert "Revente à partir de" in french

    # withdraw from the collection, list again, then a buyer buys it from the work page
    r = shop.form_post(seller, "/collection", f"/listings/{listing['id']}/withdraw")
    assert r.status_code == 303 and listing_row(listing["id"]).status == "cancelled"
    r = shop.form_post(seller, "/collection", f"/collection/{work['id']}/resell",
                       {"price": "31", "token_id": str(work["token_id"])})
    assert r.status_code == 303
    (again,) = shop.client.get("/api/listings", params={"work_id": work["id"]}).json()["data"]
    unticked = shop.form_post(buyer, f"/works/{work['id']}", f"/listings/{again['id']}/buy", {})
    assert unticked.status_code == 422 and "Tick both boxes" in unticked.text
    r = shop.form_post(buyer, f"/works/{work['id']}", f"/listings/{again['id']}/buy", BUY_FORM)
    assert r.status_code == 303 and r.headers["location"].startswith(shop.live.double.public_url)
    assert shop.hosted_pay(r.headers["location"], "4242424242424242").status_code == 303
    (purchase,) = [p for p in shop.client.get("/api/purchases", headers=buyer["headers"]).json()]
    shop.wait_purchase(buyer, purchase["id"], "delivered")
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == buyer["custodial_address"]
    assert purchase["immediate_supply_consent_text"]
    assert "Resale from" not in shop.page(buyer, "/").text  # sold: no listing left
