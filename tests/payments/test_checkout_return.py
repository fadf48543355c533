"""A buyer who cancels or is declined can pay again: the way back from Checkout (cancel, a declined card), "Return
to payment", POST /api/purchases/{id}/cancel, and their races with Stripe's webhooks. The live app, the Stripe
double over HTTP (its hosted page pressed like a browser), anvil, IPFS, both databases."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import stripe
from sqlmodel import Session

from devtools.stripe_double import sign_webhook_payload
from marketplace.core import db
from marketplace.integrations.stripe.gateway import PaymentError
from marketplace.payments.models import Purchase
from tests.payments.conftest import Shop, events, ledger, purchases
from tests.plugins.live_fixtures import WEBHOOK_SECRET

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

CANCELLED = "You cancelled the payment. The work is available again."


def stripe_client(shop: Shop) -> stripe.StripeClient:
    return stripe.StripeClient(shop.live.double.api_key, base_addresses={"api": shop.live.double.api_base})


def session_id_of(purchase_id: int) -> str:
    with Session(db.get_engine()) as session:
        return session.get(Purchase, purchase_id).stripe_session_id


def webhooks(shop: Shop, action: str) -> None:
    httpx.post(f"{shop.live.double.api_base}/_double/webhooks/{action}").raise_for_status()


def expire_at_stripe(shop: Shop, session_id: str) -> None:
    """The session expires at Stripe the way the clock would."""
    httpx.post(f"{shop.live.double.api_base}/v1/test_helpers/checkout/sessions/{session_id}/expire_now",
               headers={"Authorization": f"Bearer {shop.live.double.api_key}"}).raise_for_status()


def outcome_of(event_id: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        seen = [e.outcome for e in events() if e.id == event_id]
        if seen:
            return seen[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"event {event_id} was not handled")
        time.sleep(0.05)


def send_event(shop: Shop, event: dict) -> dict:
    payload = json.dumps(event).encode()
    r = shop.client.post("/api/stripe/webhook", content=payload,
                         headers={"Stripe-Signature": sign_webhook_payload(payload, WEBHOOK_SECRET)})
    assert r.status_code == 200, r.text
    return r.json()


def sale_status(shop: Shop, work_id: int) -> str:
    return shop.client.get(f"/api/works/{work_id}").json()["sale_status"]


def test_cancel_expires_the_session_and_releases_the_work_at_once(shop: Shop):
    creator, buyer, other = shop.register(), shop.register(role="buyer"), shop.register(role="buyer")
    work = shop.minted_work(creator)
    webhooks(shop, "pause")  # Stripe's `expired` event arrives later than the buyer does
    r = shop.checkout(buyer, work["id"])
    pid, url = r.json()["purchase_id"], r.json()["checkout_url"]

    back = shop.hosted(url, "cancel")
    assert back.status_code == 303
    assert re.fullmatch(rf"{re.escape(shop.live.url)}/purchases/{pid}\?cancelled=1&key=[0-9a-f]{{32}}",
                        back.headers["location"])
    page = shop.page(buyer, back.headers["location"])
    assert page.status_code == 200 and CANCELLED in page.text
    assert 'hx-trigger="every 1s"' not in page.text  # final: nothing left to wait for

    cancelled = shop.purchase(buyer, pid)
    assert (cancelled["status"], cancelled["failure_reason"]) == ("expired", "Cancelled by the buyer")
    assert stripe_client(shop).v1.checkout.sessions.retrieve(session_id_of(pid)).status == "expired"
    assert sale_status(shop, work["id"]) == "available"
    assert shop.checkout(other, work["id"]).status_code == 201  # anyone may buy it now

    # the `expired` event of the cancelled session arrives after that: it must not release the new reservation
    webhooks(shop, "resume")
    expired = shop.live.double.wait_for_event("checkout.session.expired", delivered=True)
    assert outcome_of(expired["id"]) == "no change (expired)"
    assert sale_status(shop, work["id"]) == "reserved"
    assert [p.status for p in purchases() if p.buyer_id == other["id"]] == ["pending"]
    again = shop.page(buyer, back.headers["location"])  # the same link again: the same answer, nothing else
    assert "You cancelled the payment. You were not charged." in again.text
    assert sale_status(shop, work["id"]) == "reserved"


def test_only_the_cancel_link_stripe_was_given_cancels_on_arrival(shop: Shop):
    creator, buyer, other = shop.register(), shop.register(role="buyer"), shop.register(role="buyer")
    work = shop.minted_work(creator)
    r = shop.checkout(buyer, work["id"])
    pid = r.json()["purchase_id"]
    link = shop.hosted(r.json()["checkout_url"], "cancel").headers["location"]

    # a link made by anyone else (no key, or a wrong one) does not cancel: it offers the buttons
    for forged in (f"/purchases/{pid}?cancelled=1", f"/purchases/{pid}?cancelled=1&key={'0' * 32}"):
        page = shop.page(buyer, forged)
        assert page.status_code == 200 and "Payment not completed" in page.text
        assert f'action="/purchases/{pid}/cancel"' in page.text and f'action="/works/{work["id"]}/buy"' in page.text
    assert shop.page(other, link).status_code == 404  # somebody else's purchase, even with its link
    assert shop.purchase(buyer, pid)["status"] == "pending"
    assert sale_status(shop, work["id"]) == "reserved"

    # the Cancel button (a form post) cancels, once
    for _ in range(2):
        done = shop.form_post(buyer, f"/purchases/{pid}?cancelled=1", f"/purchases/{pid}/cancel")
        assert done.status_code == 303 and done.headers["location"] == f"/purchases/{pid}"
    assert CANCELLED in shop.page(buyer, f"/purchases/{pid}").text
    assert shop.purchase(buyer, pid)["status"] == "expired"
    assert sale_status(shop, work["id"]) == "available"


def test_a_declined_card_is_told_apart_from_a_cancel_and_the_buyer_pays_again(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=2500)
    r = shop.checkout(buyer, work["id"])
    pid, url = r.json()["purchase_id"], r.json()["checkout_url"]

    declined = shop.hosted_pay(url, "4000 0000 0000 9995")
    assert declined.status_code == 200 and "Your card has insufficient funds." in declined.text
    remote = shop.live.services.gateway.retrieve_checkout_session(session_id_of(pid), with_payment_error=True)
    assert remote.status == "open"
    assert remote.payment_error == PaymentError(type="card_error", code="card_declined",
                                                decline_code="insufficient_funds",
                                                message="Your card has insufficient funds.")

    link = shop.hosted(url, "cancel").headers["location"]
    page = shop.page(buyer, link)
    assert "Your card was declined: your card has insufficient funds. You can try again." in page.text
    assert 'hx-trigger="every 1s"' not in page.text  # waiting for the buyer, not for Stripe
    french = shop.page(buyer, link, **{"Accept-Language": "fr"})
    assert "Votre carte a été refusée : le solde de votre carte est insuffisant. Vous pouvez réessayer." in french.text
    assert shop.purchase(buyer, pid)["status"] == "pending"  # a decline is no cancel: the session stays open
    assert stripe_client(shop).v1.checkout.sessions.retrieve(session_id_of(pid)).status == "open"
    assert sale_status(shop, work["id"]) == "reserved"

    shop.hosted(url, "decline")  # 4000 0000 0000 0002: the bank says no more than "declined"
    assert "Your card was declined. You can try again." in shop.page(buyer, link).text

    # "Return to payment" (the work page's button, and the purchase page's) reopens the same session
    for page_path in (f"/works/{work['id']}", link):
        again = shop.form_post(buyer, page_path, f"/works/{work['id']}/buy")
        assert again.status_code == 303 and again.headers["location"] == url
    paid = shop.hosted_pay(url, "4242 4242 4242 4242")
    assert paid.status_code == 303
    shop.wait_purchase(buyer, pid, "delivered")
    assert len(purchases()) == 1

    # a sold work shows the price it sold for: the API, the work page, the gallery card
    sold = shop.client.get(f"/api/works/{work['id']}").json()
    assert (sold["sale_status"], sold["sold_price_cents"]) == ("sold", 2500)
    listed = shop.client.get("/api/works").json()["data"]
    assert [w["sold_price_cents"] for w in listed if w["id"] == work["id"]] == [2500]
    assert "Sold for €25.00" in shop.client.get(f"/works/{work['id']}").text
    assert "Sold for €25.00" in shop.client.get("/").text
    assert "Vendue à 25,00\u00a0€" in shop.client.get("/", headers={"Accept-Language": "fr"}).text


def test_return_to_payment_starts_a_new_checkout_when_the_old_session_is_gone(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    webhooks(shop, "pause")  # the app has not heard of the expiry yet
    first = shop.checkout(buyer, work["id"]).json()
    expire_at_stripe(shop, session_id_of(first["purchase_id"]))

    second = shop.checkout(buyer, work["id"])
    assert second.status_code == 201, second.text
    new = second.json()
    assert new["purchase_id"] != first["purchase_id"] and new["checkout_url"] != first["checkout_url"]
    old = shop.purchase(buyer, first["purchase_id"])
    assert (old["status"], old["failure_reason"]) == ("expired", "The checkout session expired")
    remote = stripe_client(shop).v1.checkout.sessions.retrieve(session_id_of(new["purchase_id"]))
    assert (remote.status, remote.amount_total) == ("open", shop.purchase(buyer, new["purchase_id"])["amount_cents"])
    button = shop.form_post(buyer, f"/works/{work['id']}", f"/works/{work['id']}/buy")
    assert button.status_code == 303 and button.headers["location"] == new["checkout_url"]

    webhooks(shop, "resume")  # the old session's `expired` event changes nothing
    expired = shop.live.double.wait_for_event("checkout.session.expired", delivered=True)
    assert outcome_of(expired["id"]) == "no change (expired)"
    assert shop.purchase(buyer, new["purchase_id"])["status"] == "pending"
    assert sale_status(shop, work["id"]) == "reserved"


def test_return_to_payment_after_paying_in_another_tab_shows_the_purchase(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    webhooks(shop, "pause")
    r = shop.checkout(buyer, work["id"]).json()
    assert shop.hosted(r["checkout_url"], "pay").status_code == 303  # paid; the webhook not arrived yet

    api = shop.checkout(buyer, work["id"])
    assert api.status_code == 409 and api.json()["code"] == "checkout_completed"
    button = shop.form_post(buyer, f"/works/{work['id']}", f"/works/{work['id']}/buy")
    assert button.status_code == 303 and button.headers["location"] == f"/purchases/{r['purchase_id']}"
    cancel = shop.client.post(f"/api/purchases/{r['purchase_id']}/cancel", headers=buyer["headers"])
    assert cancel.status_code == 409 and cancel.json()["code"] == "checkout_completed"  # too late to cancel
    webhooks(shop, "resume")
    shop.wait_purchase(buyer, r["purchase_id"], "delivered")


def test_api_cancel_is_the_buyer_s_for_a_pending_checkout_and_a_late_payment_still_counts(shop: Shop):
    creator, buyer, other = shop.register(), shop.register(role="buyer"), shop.register(role="buyer")
    admin = shop.register_admin()
    work = shop.minted_work(creator, price_cents=2500)
    pid = shop.checkout(buyer, work["id"]).json()["purchase_id"]
    path = f"/api/purchases/{pid}/cancel"

    assert shop.client.post(path).status_code == 401
    for someone in (other, creator):
        assert shop.client.post(path, headers=someone["headers"]).status_code == 404
    assert shop.client.post(path, headers=admin["headers"]).status_code == 403
    assert shop.purchase(buyer, pid)["status"] == "pending"

    r = shop.client.post(path, headers=buyer["headers"])
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["status"], r.json()["failure_reason"]) == (pid, "expired",
                                                                                "Cancelled by the buyer")
    assert sale_status(shop, work["id"]) == "available"
    again = shop.client.post(path, headers=buyer["headers"])
    assert again.status_code == 409 and "expired" in again.json()["detail"]
    assert shop.client.post("/api/purchases/999999/cancel", headers=buyer["headers"]).status_code == 404

    # a payment completed at the very moment of the cancel (its event after it): nobody else holds the work, so
    # the buyer gets it (the webhook's late-payment rule)
    sid = session_id_of(pid)
    late = {"id": "evt_late_completed", "object": "event", "type": "checkout.session.completed",
            "data": {"object": {"id": sid, "object": "checkout.session", "client_reference_id": str(pid),
                                "payment_status": "paid", "amount_total": 2500, "currency": "eur",
                                "payment_intent": "pi_paid_as_it_was_cancelled"}}}
    assert send_event(shop, late)["outcome"] == "paid (late)"
    shop.wait_purchase(buyer, pid, "delivered")
    assert sale_status(shop, work["id"]) == "sold"
    assert sorted(e.amount_cents for e in ledger()) == [250, 2250]


def test_concurrent_cancels_and_the_expired_webhook_release_once(shop: Shop):
    creator, buyer, next_buyer = shop.register(), shop.register(role="buyer"), shop.register(role="buyer")
    work = shop.minted_work(creator)
    pid = shop.checkout(buyer, work["id"]).json()["purchase_id"]
    sid = session_id_of(pid)
    expired = {"id": "evt_expired_meanwhile", "object": "event", "type": "checkout.session.expired",
               "data": {"object": {"id": sid, "object": "checkout.session", "client_reference_id": str(pid),
                                   "status": "expired", "payment_status": "unpaid"}}}

    def cancel(_):
        return shop.client.post(f"/api/purchases/{pid}/cancel", headers=buyer["headers"]).status_code

    with ThreadPoolExecutor(6) as pool:
        cancels = [pool.submit(cancel, n) for n in range(5)]
        webhook = pool.submit(send_event, shop, expired)
        codes = [c.result() for c in cancels]
    assert set(codes) <= {200, 409} and 200 in codes, codes
    assert webhook.result()["outcome"] in ("expired", "no change (expired)")
    assert shop.purchase(buyer, pid)["status"] == "expired"
    assert sale_status(shop, work["id"]) == "available"
    assert stripe_client(shop).v1.checkout.sessions.retrieve(sid).status == "expired"
    assert shop.checkout(next_buyer, work["id"]).status_code == 201
    shop.live.double.wait_for_deliveries()
    assert sale_status(shop, work["id"]) == "reserved"
    assert len([p for p in purchases() if p.status == "pending"]) == 1


def test_without_stripe_the_way_back_keeps_the_reservation_and_says_so(shop: Shop, monkeypatch):
    from urllib.parse import unquote

    from marketplace.integrations.stripe.gateway import PaymentProviderUnavailable

    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    r = shop.checkout(buyer, work["id"]).json()
    link = shop.hosted(r["checkout_url"], "cancel").headers["location"].replace(shop.live.url, "")
    signed_out = shop.client.get(link, follow_redirects=False)  # the session cookie ran out meanwhile
    assert signed_out.status_code == 303 and unquote(signed_out.headers["location"]) == f"/signin?next={link}"

    def unreachable(*args, **kwargs):
        raise PaymentProviderUnavailable("Stripe is unreachable: connection refused")

    gateway = shop.live.services.gateway
    for name in ("retrieve_checkout_session", "expire_checkout_session", "create_checkout_session"):
        monkeypatch.setattr(gateway, name, unreachable)
    page = shop.page(buyer, link)
    assert page.status_code == 200 and "Payment not completed" in page.text
    assert "The work stays reserved for you until the checkout expires." in page.text
    api = shop.client.post(f"/api/purchases/{r['purchase_id']}/cancel", headers=buyer["headers"])
    assert api.status_code == 503 and api.json()["code"] == "payment_provider_unavailable"
    button = shop.form_post(buyer, link, f"/purchases/{r['purchase_id']}/cancel")
    assert button.status_code == 503
    assert "The checkout could not be cancelled: Stripe is unreachable" in button.text
    assert shop.purchase(buyer, r["purchase_id"])["status"] == "pending"  # nothing changed while in doubt
    assert sale_status(shop, work["id"]) == "reserved"

    monkeypatch.undo()  # Stripe is back: the same link cancels
    assert CANCELLED in shop.page(buyer, link).text
    assert sale_status(shop, work["id"]) == "available"


@pytest.mark.parametrize("event_type, outcome", [("checkout.session.expired", "no change (expired)"),
                                                 ("checkout.session.completed", "paid (late)")])
def test_an_event_that_loses_the_race_to_a_cancel_acts_on_the_rows_state(shop: Shop, monkeypatch, event_type,
                                                                         outcome):
    """The buyer's cancel commits between the webhook loading the purchase (pending) and its guarded change: the
    webhook must act on what the row holds, not on what it loaded. (CI once saw "no change (pending)" for an
    expired event; a completed one decided from the stale state would have kept the money of an expired purchase
    with no refund owed and no token.)"""
    from sqlalchemy import text

    from marketplace.payments import webhooks as webhooks_module

    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    pid = shop.checkout(buyer, work["id"]).json()["purchase_id"]
    sid = session_id_of(pid)
    found = webhooks_module._find_purchase_for_session

    def found_then_cancelled(session, obj):
        purchase = found(session, obj)  # loaded as pending ...
        # ... and the cancel wins in between: the row changes under the loaded object
        session.connection().execute(text("UPDATE purchase SET status = 'expired', failure_reason = :why "
                                          "WHERE id = :id"), {"why": "Cancelled by the buyer", "id": pid})
        assert purchase.status == "pending"
        return purchase

    monkeypatch.setattr(webhooks_module, "_find_purchase_for_session", found_then_cancelled)
    obj = {"id": sid, "object": "checkout.session", "client_reference_id": str(pid), "status": "expired",
           "payment_status": "unpaid"}
    if event_type == "checkout.session.completed":
        obj.update(status="complete", payment_status="paid", amount_total=work["price_cents"], currency="eur",
                   payment_intent="pi_paid_as_the_cancel_committed")
    event = {"id": f"evt_race_{event_type}", "object": "event", "type": event_type, "data": {"object": obj}}
    assert send_event(shop, event)["outcome"] == outcome
    monkeypatch.undo()
    if event_type == "checkout.session.completed":
        shop.wait_purchase(buyer, pid, "delivered")
        assert sale_status(shop, work["id"]) == "sold"
    else:
        assert shop.purchase(buyer, pid)["status"] == "expired"


def test_a_refund_event_deciding_on_a_stale_paid_still_reverses_the_delivered_sale(shop: Shop, monkeypatch):
    """charge.refunded loads the purchase while it is `paid`; the delivery worker books the sale before the
    webhook's guarded change. The refund must reverse the booked sale (creators and fee), as for any delivered one:
    decided on a stale `paid`, the creators kept their credits for money returned to the buyer."""
    from sqlalchemy.orm.attributes import set_committed_value

    from marketplace.payments import webhooks as webhooks_module

    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=2500)
    r = shop.checkout(buyer, work["id"])
    shop.hosted(r.json()["checkout_url"], "pay")
    pid = r.json()["purchase_id"]
    shop.wait_purchase(buyer, pid, "delivered")
    assert sum(e.amount_cents for e in ledger() if e.purchase_id == pid) == 2500
    with Session(db.get_engine()) as s:
        pi = s.get(Purchase, pid).stripe_payment_intent_id
    found = webhooks_module._find_purchase_for_payment

    def loaded_before_the_delivery(session, payment_intent):
        purchase = found(session, payment_intent)
        set_committed_value(purchase, "status", "paid")  # what it held when loaded; the delivery committed since
        return purchase

    monkeypatch.setattr(webhooks_module, "_find_purchase_for_payment", loaded_before_the_delivery)
    refunded = {"id": "evt_refunded_as_delivered", "object": "event", "type": "charge.refunded",
                "data": {"object": {"id": "ch_refunded_as_delivered", "object": "charge", "payment_intent": pi,
                                    "amount": 2500, "amount_refunded": 2500, "currency": "eur"}}}
    assert send_event(shop, refunded)["outcome"] == "refunded"
    monkeypatch.undo()
    entries = [e for e in ledger() if e.purchase_id == pid]
    assert sum(e.amount_cents for e in entries) == 0, [(e.entry_type, e.amount_cents) for e in entries]
    assert sorted(e.amount_cents for e in entries) == [-2250, -250, 250, 2250]
    assert shop.purchase(buyer, pid)["status"] == "refunded"
