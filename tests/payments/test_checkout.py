"""Card checkout end to end: the real stripe SDK, the Stripe double over HTTP, anvil, IPFS, both databases."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import stripe
from web3 import Web3

from devtools.stripe_double import sign_webhook_payload
from marketplace.catalog import licences
from marketplace.integrations.chain.client import load_artifact
from tests.payments.conftest import BUY_FORM, Shop, events, ledger, purchases
from tests.plugins.live_fixtures import WEBHOOK_SECRET

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def token(anvil, address):
    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
    return w3, w3.eth.contract(address=address, abi=load_artifact("CreativeWorks")["abi"])


def transfers(anvil, address, token_id):
    _, c = token(anvil, address)
    return c.events.Transfer().get_logs(from_block=0, argument_filters={"tokenId": token_id})


def test_pay_delivers_token_to_buyer_and_books_earnings(shop: Shop, anvil, contract_address):
    creator = shop.register(role="creator", name="Anna")
    buyer = shop.register(role="buyer", name="Marie")
    work = shop.minted_work(creator, price_cents=2500)

    r = shop.checkout(buyer, work["id"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"purchase_id", "checkout_url"}
    pending = shop.purchase(buyer, body["purchase_id"])
    assert pending["status"] == "pending"
    assert (pending["amount_cents"], pending["currency"]) == (2500, "EUR")
    assert pending["wallet_address"] == buyer["wallet_address"]
    assert shop.client.get(f"/api/works/{work['id']}").json()["sale_status"] == "reserved"
    session = stripe.StripeClient(shop.live.double.api_key, base_addresses={"api": shop.live.double.api_base}) \
        .v1.checkout.sessions.retrieve(purchases()[0].stripe_session_id)
    assert (session.amount_total, session.currency, session.client_reference_id) == (2500, "eur",
                                                                                     str(body["purchase_id"]))

    paid = shop.hosted(body["checkout_url"], "pay")
    assert paid.status_code == 303
    assert paid.headers["location"].startswith(f"{shop.live.url}/purchases/{body['purchase_id']}?session_id=cs_")

    done = shop.wait_purchase(buyer, body["purchase_id"], "delivered")
    _, contract = token(anvil, contract_address)
    assert contract.functions.ownerOf(work["token_id"]).call() == buyer["wallet_address"]
    assert done["token_id"] == work["token_id"]
    assert done["delivery_tx_hash"] and done["paid_at"] and done["delivered_at"]
    w3, _ = token(anvil, contract_address)
    assert w3.eth.get_transaction_receipt(done["delivery_tx_hash"])["status"] == 1

    after = shop.client.get(f"/api/works/{work['id']}").json()
    assert (after["owner_address"], after["sale_status"]) == (buyer["wallet_address"], "sold")
    # the ledger: 10 % platform fee, the rest to the creator, integer cents
    entries = {(e.entry_type, e.account_id): e.amount_cents for e in ledger()}
    assert entries == {("sale_creator", creator["id"]): 2250, ("sale_platform_fee", None): 250}
    earnings = shop.client.get("/api/me/earnings", headers=creator["headers"]).json()
    assert earnings["balance_cents"] == 2250
    # the return page tells the buyer
    page = shop.page(buyer, paid.headers["location"])
    assert "Delivered" in page.text
    # sold: nobody can check it out again
    again = shop.checkout(shop.register(role="buyer"), work["id"])
    assert again.status_code == 409 and "sold" in again.json()["detail"]


def test_buyer_can_receive_in_own_wallet(shop: Shop, anvil, contract_address):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    from tests.resale.wallet_helpers import WALLET, link

    own = WALLET.address.lower()
    bad = shop.checkout(buyer, work["id"], wallet_address="0x1234")
    assert bad.status_code == 422
    foreign = shop.checkout(buyer, work["id"], wallet_address=own)  # not linked yet: not the buyer's
    assert foreign.status_code == 422 and "linked" in foreign.text
    assert link(shop, buyer, WALLET).status_code == 201
    r = shop.checkout(buyer, work["id"], wallet_address=own)
    assert r.status_code == 201
    shop.hosted(r.json()["checkout_url"], "pay")
    done = shop.wait_purchase(buyer, r.json()["purchase_id"], "delivered")
    _, contract = token(anvil, contract_address)
    assert contract.functions.ownerOf(work["token_id"]).call() == Web3.to_checksum_address(own)
    assert done["wallet_address"] == Web3.to_checksum_address(own)


def test_second_buyer_gets_409_until_the_session_expires(shop: Shop):
    creator, first, second = shop.register(), shop.register(role="buyer"), shop.register(role="buyer")
    work = shop.minted_work(creator)
    r1 = shop.checkout(first, work["id"])
    assert r1.status_code == 201
    assert shop.checkout(first, work["id"]).json() == r1.json()  # asking again returns the same session
    r2 = shop.checkout(second, work["id"])
    assert r2.status_code == 409 and "reserved" in r2.json()["detail"]

    client = stripe.StripeClient(shop.live.double.api_key, base_addresses={"api": shop.live.double.api_base})
    client.v1.checkout.sessions.expire(purchases()[0].stripe_session_id)
    shop.wait_purchase(first, r1.json()["purchase_id"], "expired")
    assert shop.client.get(f"/api/works/{work['id']}").json()["sale_status"] == "available"
    r3 = shop.checkout(second, work["id"])
    assert r3.status_code == 201


def test_the_checkout_page_speaks_the_buyers_language(shop: Shop):
    """The work page opens the Checkout Session with the page's language as Stripe's `locale`; the API leaves it
    to the buyer's browser (`auto`)."""
    from tests.web.helpers import csrf_from

    creator, buyer, api_buyer = shop.register(), shop.register(role="buyer"), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=4500)
    other = shop.minted_work(creator, title="Kirchberg Glass")
    stripe_client = stripe.StripeClient(shop.live.double.api_key, base_addresses={"api": shop.live.double.api_base})
    token = buyer["headers"]["Authorization"].split()[1]
    with httpx.Client(base_url=shop.live.url, cookies={"mp_session": token}, timeout=30,
                      headers={"Accept-Language": "de-LU,de;q=0.9,fr;q=0.8"}) as browser:
        page = browser.get(f"/works/{work['id']}")
        assert "Für 45,00\xa0€ kaufen" in page.text
        bought = browser.post(f"/works/{work['id']}/buy",
                              data={"csrf_token": csrf_from(page.text), **BUY_FORM})
    assert bought.status_code == 303 and bought.headers["location"].startswith(shop.live.double.public_url)
    session_id = bought.headers["location"].rsplit("/", 1)[1]
    assert stripe_client.v1.checkout.sessions.retrieve(session_id).locale == "de"
    hosted = httpx.get(bought.headers["location"], timeout=10).text  # a browser sending no Accept-Language
    assert "45,00\xa0€ bezahlen" in hosted and ">Bezahlen</button>" in hosted

    r = shop.checkout(api_buyer, other["id"])
    assert r.status_code == 201
    api_session = next(p for p in purchases() if p.work_id == other["id"]).stripe_session_id
    assert stripe_client.v1.checkout.sessions.retrieve(api_session).locale == "auto"


def test_decline_then_cancel_then_expiry_releases_the_work(shop: Shop, anvil, contract_address):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    r = shop.checkout(buyer, work["id"])
    url, pid = r.json()["checkout_url"], r.json()["purchase_id"]

    declined = shop.hosted(url, "decline")
    assert declined.status_code in (200, 402)
    assert "declined" in declined.text.lower()
    assert shop.purchase(buyer, pid)["status"] == "pending"

    cancelled = shop.hosted(url, "cancel")
    assert cancelled.status_code == 303 and "cancelled=1" in cancelled.headers["location"]
    page = shop.page(buyer, cancelled.headers["location"])
    assert "Your card was declined. You can try again." in page.text  # declined, not cancelled: still open
    assert shop.purchase(buyer, pid)["status"] == "pending"

    httpx.post(f"{shop.live.double.api_base}/v1/test_helpers/checkout/sessions/{purchases()[0].stripe_session_id}"
               "/expire_now", headers={"Authorization": f"Bearer {shop.live.double.api_key}"})
    expired = shop.wait_purchase(buyer, pid, "expired")
    assert "expired" in expired["failure_reason"]
    _, contract = token(anvil, contract_address)
    assert contract.functions.ownerOf(work["token_id"]).call() == creator["wallet_address"]
    assert ledger() == []


def _signed(event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    return payload, sign_webhook_payload(payload, secret, timestamp=timestamp)


def _signed_raw(payload: bytes) -> tuple[bytes, str]:
    return payload, sign_webhook_payload(payload, WEBHOOK_SECRET)


def test_duplicated_and_reordered_webhooks_deliver_once(shop: Shop, anvil, contract_address):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    r = shop.checkout(buyer, work["id"])
    shop.hosted(r.json()["checkout_url"], "pay")
    shop.wait_purchase(buyer, r.json()["purchase_id"], "delivered")
    completed = shop.live.double.wait_for_event("checkout.session.completed", delivered=True)

    # Stripe redelivers the same event (twice), then a late `expired` for the same session arrives
    for _ in range(2):
        httpx.post(f"{shop.live.double.api_base}/_double/webhooks/duplicate/{completed['id']}")
    late = {**completed, "id": "evt_late_expired", "type": "checkout.session.expired",
            "data": {"object": {**completed["data"]["object"], "status": "expired"}}}
    payload, sig = _signed(late)
    resp = shop.client.post("/api/stripe/webhook", content=payload, headers={"Stripe-Signature": sig})
    assert resp.status_code == 200 and resp.json()["outcome"].startswith("no change")
    replay = shop.client.post("/api/stripe/webhook", content=payload, headers={"Stripe-Signature": sig})
    assert replay.json()["outcome"] == "duplicate"
    shop.live.double.wait_for_deliveries()
    time.sleep(0.3)

    assert shop.purchase(buyer, r.json()["purchase_id"])["status"] == "delivered"
    assert len(transfers(anvil, contract_address, work["token_id"])) == 2  # the mint and one delivery
    assert len(ledger()) == 2
    assert len([e for e in events() if e.id == completed["id"]]) == 1


def test_forged_and_stale_signatures_are_400_and_change_nothing(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    r = shop.checkout(buyer, work["id"])
    p = purchases()[0]
    forged_event = {"id": "evt_forged", "type": "checkout.session.completed", "object": "event",
                    "data": {"object": {"id": p.stripe_session_id, "object": "checkout.session",
                                        "client_reference_id": str(p.id), "payment_status": "paid",
                                        "amount_total": p.amount_cents, "currency": "eur",
                                        "payment_intent": "pi_forged"}}}
    for payload, sig in (
        _signed(forged_event, secret="whsec_attacker"),
        _signed(forged_event, timestamp=int(time.time()) - 3600),
        (json.dumps(forged_event).encode(), None),
        (b"not json", _signed(forged_event)[1]),
        _signed_raw(b"not json"),  # correctly signed, still not an event
        _signed_raw(b"[1, 2]"),
        _signed_raw(b'{"object": "event", "type": "checkout.session.completed"}'),  # no id
        _signed_raw(b"\xff\xfe"),
    ):
        headers = {"Stripe-Signature": sig} if sig else {}
        resp = shop.client.post("/api/stripe/webhook", content=payload, headers=headers)
        assert resp.status_code == 400, resp.text
        assert resp.json()["detail"]
    assert shop.purchase(buyer, r.json()["purchase_id"])["status"] == "pending"
    assert events() == []


def test_amount_mismatch_is_refused_and_refunded(shop: Shop, anvil, contract_address):
    from sqlalchemy import update
    from sqlmodel import Session

    from marketplace.core import db
    from marketplace.payments.models import Purchase

    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=5000)
    r = shop.checkout(buyer, work["id"])
    with Session(db.get_engine()) as s:  # the session charges 50.00; pretend we expected 60.00
        s.exec(update(Purchase).values(amount_cents=6000))
        s.commit()
    shop.hosted(r.json()["checkout_url"], "pay")
    refunded = shop.wait_purchase(buyer, r.json()["purchase_id"], "refunded")
    assert "Amount mismatch" in refunded["failure_reason"]
    assert refunded["refund_id"].startswith("re_")
    shop.live.double.wait_for_event("charge.refunded")
    _, contract = token(anvil, contract_address)
    assert contract.functions.ownerOf(work["token_id"]).call() == creator["wallet_address"]
    assert ledger() == []
    assert shop.client.get(f"/api/works/{work['id']}").json()["sale_status"] == "available"


def test_undeliverable_work_is_refunded_with_a_reason(shop: Shop, anvil, contract_address):
    from devtools.anvil import DEV_KEYS
    from marketplace.accounts.wallets import custodial_signer
    from marketplace.integrations.chain.client import ChainClient

    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    r = shop.checkout(buyer, work["id"])
    assert r.status_code == 201, r.text
    # meanwhile the token leaves the platform's custody (e.g. the creator withdrew it)
    chain = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0])
    seller = chain.signer_for(custodial_signer(shop.live.settings.wallet_secret.get_secret_value(),
                                               creator["id"]).key)
    chain.send(chain.prepare_value_transfer(to=seller.address, value_wei=10**17))
    elsewhere = "0x" + "77" * 20
    tx = chain.prepare_transfer(seller, to=elsewhere, token_id=work["token_id"])
    chain.send(tx, signer=seller)
    assert chain.wait_for_receipt(tx.tx_hash).status == 1

    shop.hosted(r.json()["checkout_url"], "pay")
    refunded = shop.wait_purchase(buyer, r.json()["purchase_id"], "refunded")
    assert "no longer held" in refunded["failure_reason"]
    refund = shop.live.double.wait_for_event("charge.refunded")["data"]["object"]
    assert refund["amount_refunded"] == work["price_cents"]
    assert ledger() == []


def test_refund_in_stripe_after_delivery_reverses_the_ledger(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, price_cents=1999)
    r = shop.checkout(buyer, work["id"])
    shop.hosted(r.json()["checkout_url"], "pay")
    shop.wait_purchase(buyer, r.json()["purchase_id"], "delivered")
    assert shop.client.get("/api/me/earnings", headers=creator["headers"]).json()["balance_cents"] == 1800
    client = stripe.StripeClient(shop.live.double.api_key, base_addresses={"api": shop.live.double.api_base})
    client.v1.refunds.create(params={"payment_intent": purchases()[0].stripe_payment_intent_id})
    shop.wait_purchase(buyer, r.json()["purchase_id"], "refunded")
    assert shop.client.get("/api/me/earnings", headers=creator["headers"]).json()["balance_cents"] == 0
    assert sorted(e.amount_cents for e in ledger()) == [-1800, -199, 199, 1800]


def test_async_payment_waits_then_delivers_or_fails(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    ok_work, bad_work = shop.minted_work(creator), shop.minted_work(creator, title="Second")
    double = shop.live.double
    auth = {"Authorization": f"Bearer {double.api_key}"}
    results = {}
    for work, outcome in ((ok_work, "succeeded"), (bad_work, "failed")):
        r = shop.checkout(buyer, work["id"])
        pid = r.json()["purchase_id"]
        session_id = r.json()["checkout_url"].rstrip("/").split("/")[-1]
        httpx.post(f"{double.public_url}/pay/{session_id}/pay?async=1", follow_redirects=False)
        double.wait_for_event("checkout.session.completed", delivered=True,
                              where=lambda e, s=session_id: e["data"]["object"]["id"] == s)
        assert shop.purchase(buyer, pid)["status"] == "pending"
        httpx.post(f"{double.api_base}/v1/test_helpers/checkout/sessions/{session_id}/async_result",
                   data={"outcome": outcome}, headers=auth)
        results[outcome] = pid
    shop.wait_purchase(buyer, results["succeeded"], "delivered")
    failed = shop.wait_purchase(buyer, results["failed"], "failed")
    assert failed["failure_reason"] == "The payment failed"
    assert shop.client.get(f"/api/works/{bad_work['id']}").json()["sale_status"] == "available"


def test_purchases_are_private_to_their_buyer(shop: Shop):
    creator, buyer, other = shop.register(), shop.register(role="buyer"), shop.register(role="buyer")
    work = shop.minted_work(creator)
    pid = shop.checkout(buyer, work["id"]).json()["purchase_id"]
    assert shop.client.get(f"/api/purchases/{pid}", headers=other["headers"]).status_code == 404  # no hint it exists
    assert shop.client.get(f"/api/purchases/{pid}").status_code == 401
    assert [p["id"] for p in shop.client.get("/api/purchases", headers=buyer["headers"]).json()] == [pid]


def test_unminted_and_own_works_cannot_be_bought(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    draft = shop.upload(creator).json()
    r = shop.checkout(buyer, draft["id"])
    assert r.status_code == 404  # a draft is private: the buyer cannot even tell it exists
    work = shop.minted_work(creator, title="Mine")
    assert shop.checkout(creator, work["id"]).status_code == 409
    assert shop.checkout(buyer, 424242).status_code == 404


def test_live_key_with_a_non_stripe_base_is_refused():
    from pydantic import ValidationError

    from marketplace.core.config import Settings

    with pytest.raises(ValidationError, match="live Stripe key"):
        Settings(_env_file=None, stripe_api_key="sk_live_" + "x" * 24, stripe_api_base="http://127.0.0.1:12111")


@pytest.mark.slow
def test_twenty_concurrent_checkouts_one_delivery(shop: Shop, anvil, contract_address, db_url):
    creator = shop.register()
    buyers = [shop.register(role="buyer") for _ in range(20)]
    work = shop.minted_work(creator)
    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda b: shop.checkout(b, work["id"]), buyers))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19, codes
    winner = next(b for b, r in zip(buyers, responses) if r.status_code == 201)
    shop.hosted(next(r for r in responses if r.status_code == 201).json()["checkout_url"], "pay")
    shop.wait_purchase(winner, purchases()[0].id, "delivered")
    assert len(purchases()) == 1
    assert len(transfers(anvil, contract_address, work["token_id"])) == 2


def test_refund_stripe_refuses_fails_the_purchase_once(shop: Shop):
    """A refund Stripe refuses for good (here: an unknown payment) is not retried forever: the purchase fails with
    the whole story and leaves the refund queue."""
    from sqlalchemy import update
    from sqlmodel import Session

    from marketplace.core import db
    from marketplace.payments.models import Purchase

    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    pid = shop.checkout(buyer, work["id"]).json()["purchase_id"]
    with Session(db.get_engine()) as s:
        s.exec(update(Purchase).values(stripe_payment_intent_id="pi_unknown_to_stripe",
                                       refund_reason="Test: refund owed"))
        s.commit()
    shop.live.services.delivery.wake()
    failed = shop.wait_purchase(buyer, pid, "failed")
    assert "refund failed" in failed["failure_reason"] and "Test: refund owed" in failed["failure_reason"]
    assert purchases()[0].refund_reason is None and purchases()[0].refund_id is None
    assert shop.live.services.delivery.refund_owed() == 0  # nothing left to ask Stripe


def test_buy_on_the_work_page_needs_the_licence_read_and_reserves_nothing_without(shop: Shop):
    """The work page shows the licence's summary and terms before Buy; the buyer ticks "I have read the licence"
    (required in the form, and checked by the server): without it, the page again with the message at the box and
    the work still available; with it, the checkout opens and the purchase records when the licence was accepted."""
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, license="personal-use")
    page = shop.page(buyer, f"/works/{work['id']}", **{"Accept-Language": "fr"}).text
    assert "Tant que vous détenez le jeton" in page  # the summary, in the page's language
    assert re.search(r'<input type="checkbox" name="accept_license" value="yes" id="accept-license" required>', page)
    assert f'href="/ipfs/{licences.get("personal-use").cid}"' in page

    refused = shop.form_post(buyer, f"/works/{work['id']}", f"/works/{work['id']}/buy")
    assert refused.status_code == 422
    assert re.search(r'aria-invalid="true" aria-describedby="accept-license-error"> I have read the licence</label>\s*'
                     r'<p class="field-error" id="accept-license-error">Tick the box to confirm you have read the '
                     r'licence\.</p>', refused.text)
    assert shop.client.get(f"/api/works/{work['id']}").json()["sale_status"] == "available" and purchases() == []

    bought = shop.form_post(buyer, f"/works/{work['id']}", f"/works/{work['id']}/buy", BUY_FORM)
    assert bought.status_code == 303 and bought.headers["location"].startswith(shop.live.double.public_url)
    (purchase,) = purchases()
    assert purchase.license_accepted_at is not None
    assert shop.purchase(buyer, purchase.id)["license_accepted_at"] is not None


def test_the_api_checkout_records_the_licence_only_when_the_client_says_it_was_accepted(shop: Shop):
    creator, buyer = shop.register(), shop.register(role="buyer")
    silent, accepted = shop.minted_work(creator), shop.minted_work(creator, title="Kirchberg Glass")
    first = shop.checkout(buyer, silent["id"], accept_license=False)  # a client that does not ask: not recorded
    second = shop.checkout(buyer, accepted["id"], accept_license=True)
    assert first.status_code == second.status_code == 201
    recorded = {p["work_id"]: p["license_accepted_at"] for p in shop.client.get(
        "/api/purchases", headers=buyer["headers"]).json()}
    assert recorded[silent["id"]] is None and recorded[accepted["id"]] is not None
