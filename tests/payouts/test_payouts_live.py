"""Payouts end to end over HTTP (the app, the Stripe double's Connect, anvil, IPFS, both databases): creators set up
payouts through the double's hosted onboarding, a co-created sale is transferred by shares from its charge, a
refund reverses the transfers by the same shares."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import httpx
import pytest
import stripe as stripe_sdk
from sqlmodel import Session, select

from marketplace.core import db
from marketplace.payouts.models import PayoutAccount
from tests.calls.conftest import CallsApi
from tests.catalog.crews import Team
from tests.payments.conftest import Shop

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def onboard(shop: Shop, user: dict, action: str = "complete") -> httpx.Response:
    r = shop.client.post("/api/me/payouts/onboarding", headers=user["headers"])
    assert r.status_code == 200, r.text
    url = r.json()["url"]
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200 and "Complete onboarding" in page.text and "Leave" in page.text
    return httpx.post(f"{shop.live.double.public_url}{urlparse(url).path}/{action}", timeout=10,
                      follow_redirects=False)


def payouts_of(shop: Shop, user: dict) -> dict:
    r = shop.client.get("/api/me/payouts", headers=user["headers"])
    assert r.status_code == 200, r.text
    return r.json()


def wait_payouts(shop: Shop, user: dict, done, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = payouts_of(shop, user)
        if done(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"payouts stayed {body}")
        time.sleep(0.05)


def transfers_at_stripe(shop: Shop, purchase_id: int) -> list:
    client = stripe_sdk.StripeClient(shop.live.double.api_key,
                                     base_addresses={"api": shop.live.double.api_base.rstrip("/")})
    return list(client.v1.transfers.list(params={"transfer_group": f"purchase-{purchase_id}", "limit": 100}).data)


def test_a_co_created_sale_is_transferred_by_shares_and_a_refund_reverses_them(shop: Shop):
    team = Team(shop, price_cents=1003)  # 10 % fee: 100; 903 to split: 451 / 271 / 181
    team.accepted()
    team.mint()
    assert payouts_of(shop, team.uploader)["account_status"] == "none"
    for user in (team.uploader, team.composer):
        back = onboard(shop, user)
        assert back.status_code == 303 and back.headers["location"].endswith("/studio/payouts?onboarding=return")
    # the modeller leaves Stripe's page: nothing changes, and the studio is where a new link is made
    left = onboard(shop, team.modeller, "leave")
    assert left.headers["location"].endswith("/studio/payouts?onboarding=refresh")
    for user in (team.uploader, team.composer):
        wait_payouts(shop, user, lambda b: b["account_status"] == "enabled")  # account.updated arrived
    assert payouts_of(shop, team.modeller)["account_status"] == "onboarding"
    with Session(db.get_engine()) as session:
        stripe_ids = [a.stripe_account_id for a in session.exec(select(PayoutAccount)).all()]
    client = stripe_sdk.StripeClient(shop.live.double.api_key,
                                     base_addresses={"api": shop.live.double.api_base.rstrip("/")})
    assert {client.v1.accounts.retrieve(i).country for i in stripe_ids} == {"LU"}  # Express, in Luxembourg

    buyer = shop.register(role="buyer", name="Marie Buyer")
    r = shop.checkout(buyer, team.work["id"], accept_immediate_supply=True, accept_license=True)
    assert r.status_code == 201, r.text
    purchase_id = r.json()["purchase_id"]
    assert shop.hosted_pay(r.json()["checkout_url"], "4242424242424242").status_code == 303
    shop.wait_purchase(buyer, purchase_id, "delivered")
    for user, cents in ((team.uploader, 451), (team.composer, 271)):
        body = wait_payouts(shop, user, lambda b: b["paid_cents"] > 0)
        assert (body["paid_cents"], body["available_cents"]) == (cents, 0)
        assert [(t["amount_cents"], t["purchase_id"], t["status"], t["currency"]) for t in body["transfers"]] == [
            (cents, purchase_id, "paid", "EUR")]
    # the modeller's share accrues until their account is ready
    assert (payouts_of(shop, team.modeller)["available_cents"], payouts_of(shop, team.modeller)["paid_cents"]) \
        == (181, 0)
    assert onboard(shop, team.modeller).status_code == 303
    wait_payouts(shop, team.modeller, lambda b: b["paid_cents"] == 181)

    at_stripe = transfers_at_stripe(shop, purchase_id)
    assert sorted(t.amount for t in at_stripe) == [181, 271, 451] and sum(t.amount for t in at_stripe) == 903
    assert len({t.source_transaction for t in at_stripe}) == 1 and at_stripe[0].source_transaction.startswith("ch_")

    # a refund in Stripe reverses each transfer by the creator's share
    client = stripe_sdk.StripeClient(shop.live.double.api_key,
                                     base_addresses={"api": shop.live.double.api_base.rstrip("/")})
    pi = shop.purchase(buyer, purchase_id)
    assert pi["status"] == "delivered"
    transfer = at_stripe[0]
    client.v1.refunds.create(params={"charge": transfer.source_transaction})
    for user in (team.uploader, team.composer, team.modeller):
        body = wait_payouts(shop, user, lambda b: b["paid_cents"] == 0)
        assert body["available_cents"] == 0
        assert sorted(t["status"] for t in body["transfers"]) == ["paid", "reversed"]
    assert sorted(t.amount_reversed for t in transfers_at_stripe(shop, purchase_id)) == [181, 271, 451]


def test_a_paid_call_transfers_each_team_member_their_share(shop: Shop):
    calls = CallsApi(shop)
    caller = shop.register(role="buyer", name="Cluster")
    anna, ben = (shop.register(name=n) for n in ("Anna", "Ben"))
    for user in (anna, ben):
        assert onboard(shop, user).status_code == 303
        wait_payouts(shop, user, lambda b: b["account_status"] == "enabled")
    call = calls.post_call(caller, budget_cents=100_001)  # 10 % fee: 10,000; 90,001 to the team
    winner = calls.submitted(anna, call["id"], [(anna, 6000, "director"), (ben, 4000, "composer")])
    assert calls.award(caller, call["id"], winner["id"]).status_code == 200
    r = shop.client.post(f"/api/calls/{call['id']}/checkout", headers=caller["headers"])
    assert r.status_code == 201, r.text
    assert shop.hosted(r.json()["checkout_url"], "pay").status_code == 303
    purchase_id = r.json()["purchase_id"]
    for user, cents in ((anna, 54_001), (ben, 36_000)):  # 54,000.6 / 36,000.4: the cent to the larger remainder
        body = wait_payouts(shop, user, lambda b: b["paid_cents"] > 0)
        assert (body["paid_cents"], body["available_cents"]) == (cents, 0)
        assert [(t["purchase_id"], t["status"]) for t in body["transfers"]] == [(purchase_id, "paid")]
    at_stripe = transfers_at_stripe(shop, purchase_id)
    assert sorted(t.amount for t in at_stripe) == [36_000, 54_001]
    assert len({t.source_transaction for t in at_stripe}) == 1
