"""A resale's credits are paid out through Stripe Connect like every other: the collector who sold (a buyer
account) sets up payouts through the same hosted onboarding and receives the seller's part; each creator receives
their royalty; a buyer who never sold is refused onboarding."""

from __future__ import annotations

import pytest

from tests.payments.conftest import Shop
from tests.payouts.test_payouts_live import onboard, transfers_at_stripe, wait_payouts
from tests.resale.helpers import buy, list_token, pay, sell
from tests.resale.test_resale import co_created

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def test_the_seller_and_the_creators_are_paid_their_resale_credits(shop: Shop):
    team = co_created(shop)
    work = team.get()
    seller, _ = sell(shop, work["id"])
    r = shop.client.post("/api/me/payouts/onboarding", headers=seller["headers"])
    assert r.status_code == 403  # a buyer who has sold nothing here has nothing to be paid
    listing = list_token(shop, seller, work["token_id"], 1003).json()
    buyer = shop.register(role="buyer")
    checkout = buy(shop, buyer, listing["id"]).json()
    pay(shop, checkout)
    shop.wait_purchase(buyer, checkout["purchase_id"], "delivered")
    for user in (seller, team.uploader, team.composer):
        assert onboard(shop, user).status_code == 303
    body = wait_payouts(shop, seller, lambda b: b["paid_cents"] > 0)
    assert (body["paid_cents"], body["available_cents"]) == (828, 0)
    assert "The studio is for creator accounts" not in shop.page(seller, "/studio/payouts").text
    # the creators: their first sale's shares (1575 / 675) and the resale's royalty (53 / 22)
    for user, cents in ((team.uploader, 1575 + 53), (team.composer, 675 + 22)):
        assert wait_payouts(shop, user, lambda b, c=cents: b["paid_cents"] == c)["available_cents"] == 0
    at_stripe = sorted(t.amount for t in transfers_at_stripe(shop, checkout["purchase_id"]))
    assert at_stripe == [22, 53, 828]
    assert shop.client.post("/api/me/payouts/onboarding", headers=buyer["headers"]).status_code == 403
