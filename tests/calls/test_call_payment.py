"""A call answered by two teams, awarded and paid by card through the Stripe double (over HTTP, the real SDK):
the team's shares credited to the cent, nothing sent on chain, a refund reversing them, the work delivered."""

from __future__ import annotations

import time

import pytest
import stripe

from marketplace.calls.models import Call
from tests.calls.conftest import CallsApi, rows
from tests.payments.conftest import Shop, ledger, purchases

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def wait_call(calls: CallsApi, call_id: int, status: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = calls.get(call_id)
        if body["status"] == status:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"call {call_id} stayed {body['status']!r}")
        time.sleep(0.05)


def credits(purchase_id: int) -> dict:
    return {(e.entry_type, e.account_id): e.amount_cents for e in ledger() if e.purchase_id == purchase_id}


def balance(shop: Shop, user: dict) -> int:
    return shop.client.get("/api/me/earnings", headers=user["headers"]).json()["balance_cents"]


def test_a_call_is_awarded_paid_by_card_and_its_team_credited_to_the_cent(shop: Shop):
    calls = CallsApi(shop)
    caller = shop.register(role="buyer", name="Cluster")
    anna, ben, chloe, dan = (shop.register(name=n) for n in ("Anna", "Ben", "Chloe", "Dan"))
    call = calls.post_call(caller, budget_cents=100_001)
    # two team proposals: Anna's three (50 / 33.33 / 16.67 %) and Dan's alone
    winner = calls.submitted(anna, call["id"], [(anna, 5000, "director"), (ben, 3333, "composer"),
                                                (chloe, 1667, "sound designer")])
    calls.submitted(dan, call["id"], [(dan, 10_000, "filmmaker")])
    assert calls.get(call["id"])["proposal_count"] == 2
    assert calls.award(caller, call["id"], winner["id"]).status_code == 200

    r = shop.client.post(f"/api/calls/{call['id']}/checkout", headers=caller["headers"])
    assert r.status_code == 201, r.text
    body = r.json()
    again = shop.client.post(f"/api/calls/{call['id']}/checkout", headers=caller["headers"])
    assert again.status_code == 201 and again.json() == body  # the open checkout, not a second one
    [pending] = purchases()
    assert (pending.call_id, pending.work_id, pending.amount_cents, pending.status) == (
        call["id"], None, 100_001, "pending")
    session = stripe.StripeClient(shop.live.double.api_key, base_addresses={"api": shop.live.double.api_base}) \
        .v1.checkout.sessions.retrieve(pending.stripe_session_id)
    assert (session.amount_total, session.currency, session.metadata["call_id"]) == (100_001, "eur", str(call["id"]))

    paid = shop.hosted(body["checkout_url"], "pay")
    assert paid.status_code == 303
    assert paid.headers["location"].startswith(f"{shop.live.url}/calls/{call['id']}?purchase={body['purchase_id']}")
    done = wait_call(calls, call["id"], "paid")
    assert done["paid_at"]
    # paying a call's budget asks no consent to immediate supply (nothing is supplied then), and it has a receipt:
    # the team as sellers with their shares, the VAT in the budget (1,000.01 / 1.17 = 854.709... -> 854.71 net)
    assert pending.immediate_supply_consent_at is None
    receipt = shop.page(caller, f"/purchases/{body['purchase_id']}/receipt")
    assert receipt.status_code == 200 and "Commission (open call)" in receipt.text and call["title"] in receipt.text
    assert "Anna (50%); Ben (33.33%); Chloe (16.67%)" in receipt.text
    assert "€854.71 net + €145.30 VAT = €1,000.01" in receipt.text
    assert shop.page(anna, f"/purchases/{body['purchase_id']}/receipt").status_code == 404
    # budget 1,000.01: the platform's 10 % rounded down (100.00), the team's 900.01 split by largest remainder
    # (50 % = 450.005, 33.33 % = 299.973..., 16.67 % = 150.031...: the cent left goes to the largest remainder)
    assert credits(body["purchase_id"]) == {
        ("sale_creator", anna["id"]): 45_001, ("sale_creator", ben["id"]): 29_997,
        ("sale_creator", chloe["id"]): 15_003, ("sale_platform_fee", None): 10_000}
    assert sum(credits(body["purchase_id"]).values()) == 100_001
    assert [balance(shop, u) for u in (anna, ben, chloe, dan)] == [45_001, 29_997, 15_003, 0]
    # each member's ledger names the call the credit came from
    lines = shop.client.get("/api/me/ledger", headers=ben["headers"]).json()
    assert lines["count"] == 1 and [(e["call_id"], e["call_title"], e["work_id"], e["work_title"], e["purchase_id"],
                                     e["entry_type"], e["amount_cents"]) for e in lines["data"]] == [
        (call["id"], call["title"], None, None, body["purchase_id"], "sale_creator", 29_997)]
    # the studio's sales list the call's budget and the member's share of it
    sales = shop.page(ben, "/studio").text
    sales = sales[sales.index('id="sales"'):sales.index("</table>", sales.index('id="sales"'))]
    assert f'<a href="/calls/{call["id"]}">{call["title"]}</a>' in sales
    assert "1,000.01" in sales and "299.97" in sales
    # nothing to deliver on chain: the delivery worker takes no call purchase
    assert shop.live.services.delivery.deliver_batch() == 0
    [bought] = purchases()
    assert (bought.status, bought.delivery_tx_hash, bought.delivery_attempts, bought.claimed_by) == (
        "paid", None, 0, None)
    # never two paid
    r = shop.client.post(f"/api/calls/{call['id']}/checkout", headers=caller["headers"])
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert len(purchases()) == 1

    # refunded in Stripe: the team's credits and the fee reversed, the call awarded again
    client = stripe.StripeClient(shop.live.double.api_key, base_addresses={"api": shop.live.double.api_base})
    client.v1.refunds.create(params={"payment_intent": bought.stripe_payment_intent_id})
    shop.wait_purchase(caller, body["purchase_id"], "refunded")
    wait_call(calls, call["id"], "awarded")
    assert [balance(shop, u) for u in (anna, ben, chloe)] == [0, 0, 0]
    assert sorted(e.amount_cents for e in ledger()) == sorted([45_001, 29_997, 15_003, 10_000,
                                                               -45_001, -29_997, -15_003, -10_000])

    # paid again, then delivered: a team member links a minted work of the team
    second = shop.client.post(f"/api/calls/{call['id']}/checkout", headers=caller["headers"]).json()
    assert second["purchase_id"] != body["purchase_id"]
    shop.hosted(second["checkout_url"], "pay")
    wait_call(calls, call["id"], "paid")
    assert balance(shop, anna) == 45_001
    draft = shop.upload(ben).json()
    outsider_work = shop.minted_work(dan, title="Not the team's")
    # the team's work: Anna uploads, names Ben and Chloe with the shares of the proposal, they accept, it is minted
    team = [(anna, 5000, "director"), (ben, 3333, "composer"), (chloe, 1667, "sound designer")]

    def team_work(title: str, crew) -> dict:
        work = shop.upload(anna, title=title).json()
        r = shop.client.put(f"/api/works/{work['id']}/collaborators", headers=anna["headers"], json={
            "collaborators": [{"user_id": u["id"], "share_bps": bps, "role": role} for u, bps, role in crew]})
        assert r.status_code == 200, r.text
        for user, _, _ in crew[1:]:
            assert shop.client.post(f"/api/works/{work['id']}/collaborators/accept",
                                    headers=user["headers"]).status_code == 200
        assert shop.client.post(f"/api/works/{work['id']}/mint", headers=anna["headers"]).status_code == 202
        return shop.wait_for_status(work["id"], "minted")

    work = team_work("Moselle, the film", team)
    other_shares = team_work("Moselle, other shares", [(anna, 5000, "director"), (ben, 3000, "composer"),
                                                       (chloe, 2000, "sound designer")])
    short_team = team_work("Moselle, without Chloe", [(anna, 6667, "director"), (ben, 3333, "composer")])
    bens_own = shop.minted_work(ben, title="Ben's own")

    def deliver(user, work_id):
        return shop.client.post(f"/api/calls/{call['id']}/deliver", headers=user["headers"], json={"work_id": work_id})

    refusals = [(deliver(dan, work["id"]), 403), (deliver(caller, work["id"]), 403),
                (deliver(anna, outsider_work["id"]), 422),
                (deliver(anna, draft["id"]), 404),  # Ben's draft is Ben's
                (deliver(ben, draft["id"]), 409)]
    for r, status in refusals:
        assert r.status_code == status, r.text
        assert r.json()["detail"], r.text  # each says why
    assert rows(Call)[0].work_id is None
    # not the awarded team, or not its shares: refused, naming who and how much
    for wrong in (other_shares, short_team, bens_own):
        r = deliver(anna, wrong["id"])
        assert r.status_code == 422, r.text
        assert "Anna" in r.text and "33.33 %" in r.text and "16.67 %" in r.text
    assert [(c.status, c.work_id) for c in rows(Call)] == [("paid", None)]
    # the call's page offers the team's work only
    page = shop.page(chloe, f"/calls/{call['id']}").text
    assert f'<option value="{work["id"]}">Moselle, the film</option>' in page
    assert "other shares" not in page and "without Chloe" not in page and "Ben&#39;s own" not in page
    assert all(shop.client.get(f"/api/works/{w['id']}").json()["call_id"] is None
               for w in (work, other_shares, short_team, bens_own))
    r = deliver(anna, work["id"])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["work_id"]) == ("delivered", work["id"])
    # the work names the call it was made for
    assert shop.client.get(f"/api/works/{work['id']}").json()["call_id"] == call["id"]
    assert deliver(anna, work["id"]).status_code == 409

def test_an_expired_call_checkout_releases_the_call_for_a_new_one(shop: Shop):
    calls = CallsApi(shop)
    caller, anna = shop.register(role="buyer"), shop.register()
    call = calls.post_call(caller, budget_cents=5000)
    solo = calls.submitted(anna, call["id"], [(anna, 10_000, "designer")])
    calls.award(caller, call["id"], solo["id"])
    first = shop.client.post(f"/api/calls/{call['id']}/checkout", headers=caller["headers"]).json()
    cancelled = shop.client.post(f"/api/purchases/{first['purchase_id']}/cancel", headers=caller["headers"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "expired"
    assert calls.get(call["id"])["status"] == "awarded"
    second = shop.client.post(f"/api/calls/{call['id']}/checkout", headers=caller["headers"])
    assert second.status_code == 201 and second.json()["purchase_id"] != first["purchase_id"]
    shop.hosted(second.json()["checkout_url"], "pay")
    wait_call(calls, call["id"], "paid")
    assert credits(second.json()["purchase_id"]) == {("sale_creator", anna["id"]): 4500,
                                                     ("sale_platform_fee", None): 500}
    assert credits(first["purchase_id"]) == {}
