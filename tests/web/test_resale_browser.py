"""Resale in Chromium: the collector resells a token from the collection, a second buyer finds "Resale from €X" on
the gallery card, buys the listing on the work page (the two boxes), pays on Stripe's page and holds the token."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.faults.invariants import wait_indexed_owner
from tests.web.market import build_market, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_a_collector_resells_and_another_buyer_buys_the_listing(make_live, browsing):
    market = build_market(make_live(), works=[{"title": "Grund at Night", "price_cents": 2000}])
    base, work = market.url, market.sold
    seller = signed_in(browsing, market.buyer, base)
    seller.goto(f"{base}/collection")
    form = seller.locator(f"#resell-{work['token_id']}")
    form.get_by_label("Resale price (€)").fill("35")
    browsing.shot(seller, "resale-01-collection-resell")
    form.get_by_role("button", name="Resell").click()
    seller.wait_for_url(f"{base}/collection")
    expect(seller.get_by_text("Listed for resale at €35.00")).to_be_visible()
    expect(seller.get_by_role("button", name="Withdraw listing")).to_be_visible()
    browsing.shot(seller, "resale-02-collection-listed")

    second = market.shop.register(role="buyer", name="Luc Second")
    buyer = signed_in(browsing, second, base)
    buyer.goto(base)
    expect(buyer.get_by_text("Resale from €35.00")).to_be_visible()
    buyer.goto(f"{base}/works/{work['id']}")
    resale = buyer.locator("#resale")
    resale.get_by_label("I have read the licence").check()
    resale.get_by_role("checkbox").nth(1).check()
    browsing.shot(buyer, "resale-03-work-page-listing")
    resale.get_by_role("button", name="Buy for €35.00").click()
    buyer.wait_for_url(f"{market.shop.live.double.public_url}/pay/**")
    buyer.get_by_role("button", name="Pay", exact=True).click()
    buyer.wait_for_url(re.compile(rf"{re.escape(base)}/purchases/\d+\?session_id=cs_"))
    buyer.get_by_text("Delivered: the token is in your wallet.").wait_for(timeout=45_000)
    browsing.shot(buyer, "resale-04-delivered")
    wait_indexed_owner(work["token_id"], second["custodial_address"])
    buyer.goto(f"{base}/collection")
    expect(buyer.locator("#owned")).to_contain_text("Grund at Night")
