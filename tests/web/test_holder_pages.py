"""After a delivered purchase, without a browser: the holder's work page says "You own this", nobody else's does;
the purchase page names the wallet, the token and the delivery transaction, each with its full value to copy."""

from __future__ import annotations

import pytest

from tests.web.market import build_market

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def test_the_holder_is_told_they_own_the_work(make_live):
    market = build_market(make_live(), works=[{"title": "Kirchberg at Dusk"}])
    shop, sold = market.shop, market.sold
    assert sold["owner_address"] == market.buyer["wallet_address"]
    holder = shop.page(market.buyer, f"/works/{sold['id']}").text
    assert 'id="you-own-this"' in holder and "You own this." in holder
    assert "This work has been sold." not in holder
    french = shop.client.get(f"/works/{sold['id']}", headers={
        "Cookie": f"mp_session={market.buyer['headers']['Authorization'].split()[1]}", "Accept-Language": "fr"})
    assert "Cette œuvre est à vous." in french.text
    other = shop.page(shop.register(role="buyer"), f"/works/{sold['id']}").text
    assert "You own this." not in other and "This work has been sold." in other
    assert "You own this." not in shop.client.get(f"/works/{sold['id']}").text  # signed out
    creator = shop.page(market.creator, f"/works/{sold['id']}").text
    assert "You own this." not in creator and "This is your work." in creator


def test_the_purchase_page_gives_the_token_and_the_delivery_transaction_in_full_to_copy(make_live):
    market = build_market(make_live(), works=[{"title": "Kirchberg at Dusk"}])
    purchase = market.shop.purchase(market.buyer, market.purchase_id)
    page = market.shop.page(market.buyer, f"/purchases/{market.purchase_id}").text
    for value in (purchase["wallet_address"], market.sold["token_id_hex"], purchase["delivery_tx_hash"]):
        assert f'data-copy="{value}"' in page, value
        assert f">{value}</span>" in page and f">{value[:8]}…{value[-6:]}</span>" in page  # whole, and short
