"""Resale end to end: a collector lists a token held in custody, another buyer pays by card (the Stripe double over
HTTP), the delivery worker moves the token from the seller's custody wallet to the buyer's on anvil, and the ledger
pays the seller, each creator's royalty by shares and the platform, to the cent (both databases)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from tests.catalog.crews import Team
from tests.payments.conftest import Shop
from tests.resale.helpers import (
    buy,
    entries,
    list_token,
    listing_row,
    owner_on_chain,
    pay,
    purchase_row,
    sell,
    send_outside,
    wait_listing,
)

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

OUTSIDE = "0x000000000000000000000000000000000000dEaD"


def co_created(shop: Shop, **fields) -> Team:
    """A work of two creators, 70/30, with a 7.5 % royalty (its receiver: the split of the two), minted."""
    team = Team(shop, **{"price_cents": 2500, "royalty_bps": 750, **fields})
    team.accepted([{"user_id": team.uploader["id"], "share_bps": 7000, "role": "photographer"},
                   {"user_id": team.composer["id"], "share_bps": 3000, "role": "composer"}])
    team.mint()
    return team


def test_a_resale_end_to_end_pays_seller_royalties_and_fee_to_the_cent(shop: Shop, anvil, contract_address):
    team = co_created(shop)
    work = team.get()
    seller, first = sell(shop, work["id"])
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == seller["wallet_address"]

    r = list_token(shop, seller, work["token_id"], 1003)
    assert r.status_code == 201, r.text
    listing = r.json()
    assert (listing["status"], listing["price_cents"], listing["seller_address"], listing["work_id"]) == (
        "active", 1003, seller["custodial_address"], work["id"])
    shown = shop.client.get("/api/listings", params={"work_id": work["id"]}).json()
    assert [x["id"] for x in shown["data"]] == [listing["id"]] and shown["count"] == 1

    buyer = shop.register(role="buyer", name="Jean Second")
    r = buy(shop, buyer, listing["id"])
    assert r.status_code == 201, r.text
    checkout = r.json()
    assert set(checkout) == {"purchase_id", "checkout_url"}
    pending = shop.purchase(buyer, checkout["purchase_id"])
    assert (pending["kind"], pending["listing_id"], pending["amount_cents"], pending["token_id"]) == (
        "resale", listing["id"], 1003, work["token_id"])
    assert pending["wallet_address"] == buyer["custodial_address"]
    pay(shop, checkout)
    done = shop.wait_purchase(buyer, checkout["purchase_id"], "delivered")

    # on chain: the token moved from the seller's custody wallet to the buyer's, once
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == buyer["custodial_address"]
    assert purchase_row(done["id"]).seller_address == seller["custodial_address"]
    sold = wait_listing(listing["id"], "sold")
    assert sold.sold_purchase_id == done["id"]
    # the ledger: royalty 1003 x 7.5 % = 75.225 -> 75 (royaltyInfo rounds down), 70/30 = 52.5 / 22.5 -> 53 / 22
    # (a tie: the uploader); fee 10 % = 100; the seller 1003 - 75 - 100 = 828
    assert entries(done["id"]) == {("resale_seller", seller["id"]): 828,
                                   ("royalty_creator", team.uploader["id"]): 53,
                                   ("royalty_creator", team.composer["id"]): 22,
                                   ("sale_platform_fee", None): 100}
    assert sum(entries(done["id"]).values()) == 1003
    # the first sale's booking is untouched: 2500 -> 2250 (70/30: 1575 / 675) and 250
    assert entries(first["id"]) == {("sale_creator", team.uploader["id"]): 1575,
                                    ("sale_creator", team.composer["id"]): 675, ("sale_platform_fee", None): 250}
    assert shop.client.get("/api/me/earnings", headers=seller["headers"]).json()["balance_cents"] == 828
    assert shop.client.get("/api/me/earnings",
                           headers=team.composer["headers"]).json()["balance_cents"] == 675 + 22
    # sold: no second checkout, and the token's history says resold, with its price
    assert buy(shop, shop.register(role="buyer"), listing["id"]).status_code == 409
    history = shop.client.get(f"/api/tokens/{work['token_id']}/history").json()
    assert [(h["kind"], h["price_cents"]) for h in history][-1] == ("resold", 1003)


def test_listing_errors(shop: Shop, anvil, contract_address):
    creator = shop.register(name="Anna")
    work = shop.minted_work(creator, price_cents=1500)
    seller, _ = sell(shop, work["id"])
    stranger = shop.register(role="buyer")
    token = work["token_id"]
    r = list_token(shop, stranger, token, 1000)
    assert r.status_code == 403 and "do not hold" in r.json()["detail"]
    assert list_token(shop, creator, token, 1000).status_code == 403  # sold: the creator holds it no more
    assert list_token(shop, seller, 424242, 1000).status_code == 404
    for bad in (0, -5, 100_000_001):
        assert list_token(shop, seller, token, bad).status_code == 422
    assert shop.client.post(f"/api/tokens/{token}/listings", json={"price_cents": 1000}).status_code == 401
    first = list_token(shop, seller, token, 1000)
    assert first.status_code == 201
    again = list_token(shop, seller, token, 1200)
    assert again.status_code == 409 and "listed already" in again.json()["detail"]
    # the seller cannot buy their own listing; someone else cannot withdraw it
    assert buy(shop, seller, first.json()["id"]).status_code == 409
    assert shop.client.delete(f"/api/listings/{first.json()['id']}", headers=stranger["headers"]).status_code == 403
    # no consent: 422, nothing reserved
    no_consent = shop.client.post(f"/api/listings/{first.json()['id']}/checkout", json={},
                                  headers=stranger["headers"])
    assert no_consent.status_code == 422
    r = shop.client.delete(f"/api/listings/{first.json()['id']}", headers=seller["headers"])
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert shop.client.delete(f"/api/listings/{first.json()['id']}", headers=seller["headers"]).status_code == 409
    assert buy(shop, stranger, first.json()["id"]).status_code == 409
    # listed again after the cancel; a token in the seller's own wallet (no key here) is refused with a reason
    assert list_token(shop, seller, token, 900).status_code == 201


def test_an_outside_transfer_withdraws_the_listing_and_a_checkout_gets_409(shop: Shop, anvil, contract_address):
    creator = shop.register()
    work = shop.minted_work(creator, price_cents=1500)
    seller, _ = sell(shop, work["id"])
    listing = list_token(shop, seller, work["token_id"], 2000).json()
    send_outside(shop, anvil, contract_address, seller, work["token_id"], OUTSIDE)
    withdrawn = wait_listing(listing["id"], "withdrawn")  # the indexer saw the transfer
    assert "custody" in withdrawn.withdrawn_reason
    r = buy(shop, shop.register(role="buyer"), listing["id"])
    assert r.status_code == 409 and "withdrawn" in r.json()["detail"]
    assert shop.client.delete(f"/api/listings/{listing['id']}", headers=seller["headers"]).status_code == 409
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == OUTSIDE


def test_the_seller_moving_the_token_mid_checkout_ends_refunded_and_nothing_sold(shop: Shop, anvil,
                                                                                contract_address):
    creator = shop.register()
    work = shop.minted_work(creator, price_cents=1500)
    seller, _ = sell(shop, work["id"])
    listing = list_token(shop, seller, work["token_id"], 2000).json()
    buyer = shop.register(role="buyer")
    checkout = buy(shop, buyer, listing["id"]).json()
    # the seller withdraws the token to an outside address while the buyer's checkout is open
    send_outside(shop, anvil, contract_address, seller, work["token_id"], OUTSIDE)
    pay(shop, checkout)
    refunded = shop.wait_purchase(buyer, checkout["purchase_id"], "refunded")
    assert refunded["refund_id"] and "custody" in refunded["failure_reason"]
    assert wait_listing(listing["id"], "withdrawn").sold_purchase_id is None
    assert entries(checkout["purchase_id"]) == {}  # nothing booked to the seller (nor anyone)
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == OUTSIDE
    assert shop.client.get("/api/me/earnings", headers=seller["headers"]).json()["balance_cents"] == 0
    assert purchase_row(checkout["purchase_id"]).delivery_tx_hash is None  # never sent


def test_an_edition_resale_moves_the_editions_own_token(shop: Shop, anvil, contract_address):
    creator = shop.register()
    work = shop.minted_work(creator, price_cents=1200, edition_size=3, royalty_bps=1000)
    seller, first = sell(shop, work["id"])
    _, second = sell(shop, work["id"])
    token = first["token_id"]
    assert token != second["token_id"] and first["edition_number"] == 1
    listing = list_token(shop, seller, token, 777)
    assert listing.status_code == 201, listing.text
    assert listing.json()["work_id"] == work["id"]
    buyer = shop.register(role="buyer")
    checkout = buy(shop, buyer, listing.json()["id"]).json()
    pay(shop, checkout)
    done = shop.wait_purchase(buyer, checkout["purchase_id"], "delivered")
    assert done["token_id"] == token
    assert owner_on_chain(anvil, contract_address, token) == buyer["custodial_address"]
    assert owner_on_chain(anvil, contract_address, second["token_id"]) != buyer["custodial_address"]
    # 777 x 10 % = 77 royalty to the one creator, 77 fee, 623 to the seller
    assert entries(done["id"]) == {("resale_seller", seller["id"]): 623, ("royalty_creator", creator["id"]): 77,
                                   ("sale_platform_fee", None): 77}
    # the work's edition counters count first sales only
    after = shop.client.get(f"/api/works/{work['id']}").json()
    assert (after["editions_sold"], after["editions_available"]) == (2, 1)


def test_a_refund_of_a_delivered_resale_reverses_its_entries(shop: Shop, anvil, contract_address):
    team = co_created(shop)
    work = team.get()
    seller, _ = sell(shop, work["id"])
    listing = list_token(shop, seller, work["token_id"], 1003).json()
    buyer = shop.register(role="buyer")
    checkout = buy(shop, buyer, listing["id"]).json()
    pay(shop, checkout)
    shop.wait_purchase(buyer, checkout["purchase_id"], "delivered")
    client = stripe.StripeClient(shop.live.double.api_key, base_addresses={"api": shop.live.double.api_base})
    client.v1.refunds.create(params={"payment_intent": purchase_row(checkout["purchase_id"]).stripe_payment_intent_id})
    shop.wait_purchase(buyer, checkout["purchase_id"], "refunded")
    booked = entries(checkout["purchase_id"])
    assert booked == {("resale_seller", seller["id"]): 828, ("royalty_creator", team.uploader["id"]): 53,
                      ("royalty_creator", team.composer["id"]): 22, ("sale_platform_fee", None): 100,
                      ("refund_seller", seller["id"]): -828, ("refund_royalty", team.uploader["id"]): -53,
                      ("refund_royalty", team.composer["id"]): -22, ("refund_platform_fee", None): -100}
    assert sum(booked.values()) == 0
    assert shop.client.get("/api/me/earnings", headers=seller["headers"]).json()["balance_cents"] == 0
    assert listing_row(listing["id"]).status == "sold"  # the token stays delivered; the money went back


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_twenty_buyers_race_for_one_listing(shop: Shop, anvil, contract_address, db_url):
    creator = shop.register()
    work = shop.minted_work(creator, price_cents=1500)
    seller, _ = sell(shop, work["id"])
    listing = list_token(shop, seller, work["token_id"], 2000).json()
    buyers = [shop.register(role="buyer") for _ in range(20)]
    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda b: buy(shop, b, listing["id"]), buyers))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19, codes
    assert all("reserved by another buyer" in r.json()["detail"] for r in responses if r.status_code == 409)
    winner, won = next((b, r) for b, r in zip(buyers, responses, strict=True) if r.status_code == 201)
    pay(shop, won.json())
    shop.wait_purchase(winner, won.json()["purchase_id"], "delivered")
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == winner["custodial_address"]
    assert wait_listing(listing["id"], "sold").sold_purchase_id == won.json()["purchase_id"]


def test_a_late_payment_for_a_cancelled_listing_sells_nothing(shop: Shop, anvil, contract_address):
    from tests.payments.test_checkout_return import send_event, session_id_of

    creator = shop.register()
    work = shop.minted_work(creator, price_cents=1500)
    seller, _ = sell(shop, work["id"])
    listing = list_token(shop, seller, work["token_id"], 2000).json()
    buyer = shop.register(role="buyer")
    pid = buy(shop, buyer, listing["id"]).json()["purchase_id"]
    # the buyer's checkout is open: the seller cannot cancel; the buyer cancels, then the seller does
    assert shop.client.delete(f"/api/listings/{listing['id']}", headers=seller["headers"]).status_code == 409
    assert shop.client.post(f"/api/purchases/{pid}/cancel", headers=buyer["headers"]).status_code == 200
    assert shop.client.delete(f"/api/listings/{listing['id']}", headers=seller["headers"]).status_code == 200
    # a payment completed at the very moment of the buyer's cancel arrives now
    late = {"id": "evt_late_resale", "object": "event", "type": "checkout.session.completed",
            "data": {"object": {"id": session_id_of(pid), "object": "checkout.session",
                                "client_reference_id": str(pid), "payment_status": "paid", "amount_total": 2000,
                                "currency": "eur", "payment_intent": "pi_paid_as_the_listing_was_cancelled"}}}
    assert send_event(shop, late)["outcome"] == "paid (late)"
    deadline = time.monotonic() + 30
    while purchase_row(pid).refund_reason is None and purchase_row(pid).status == "paid":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    row = purchase_row(pid)
    assert "listing was cancelled" in (row.failure_reason or "")
    assert row.delivery_tx_hash is None and entries(pid) == {}
    assert owner_on_chain(anvil, contract_address, work["token_id"]) == seller["custodial_address"]
    assert listing_row(listing["id"]).status == "cancelled"


def test_a_work_moderation_hid_has_no_listings_on_sale(shop: Shop, anvil, contract_address):
    """A hidden work is out of listings and cannot be bought: its resale listings too, until it is restored."""
    creator = shop.register()
    work = shop.minted_work(creator, price_cents=1500)
    seller, _ = sell(shop, work["id"])
    listing = list_token(shop, seller, work["token_id"], 2000).json()
    admin = shop.register_admin()
    hidden = shop.client.post(f"/api/admin/works/{work['id']}/hide", headers=admin["headers"],
                              json={"reason": "A notice of infringement."})
    assert hidden.status_code == 200, hidden.text
    listed = shop.client.get("/api/listings", params={"work_id": work["id"]}).json()
    assert listed["count"] == 0 and listed["data"] == []
    r = buy(shop, shop.register(role="buyer"), listing["id"])
    assert r.status_code == 409 and "hidden" in r.json()["detail"], r.text
    assert listing_row(listing["id"]).status == "active"  # the seller's listing waits for the decision
    assert shop.client.post(f"/api/admin/works/{work['id']}/restore", headers=admin["headers"],
                            json={"reason": "The notice was withdrawn."}).status_code == 200
    assert [item["id"] for item in shop.client.get("/api/listings", params={"work_id": work["id"]}).json()["data"]] \
        == [listing["id"]]
    assert buy(shop, shop.register(role="buyer"), listing["id"]).status_code == 201


def test_a_delivered_resale_tells_the_buyer_the_seller_and_the_creators_and_its_receipt_names_the_seller(
        shop: Shop, anvil, contract_address):
    """The buyer's receipt (mail and notice) names the collector who sold, and the authors with their royalty; the
    seller is told what is credited to them, each creator their royalty; once each."""
    team = co_created(shop, title="Kirchberg glass")
    work = team.get()
    seller, _first = sell(shop, work["id"], shop.register(role="buyer", name="Marie Collector"))
    listing = list_token(shop, seller, work["token_id"], 1003).json()
    buyer = shop.register(role="buyer", name="Jean Second")
    checkout = buy(shop, buyer, listing["id"]).json()
    pay(shop, checkout)
    shop.wait_purchase(buyer, checkout["purchase_id"], "delivered")

    def kinds(user: dict) -> list[dict]:
        return shop.client.get("/api/me/notices", headers=user["headers"]).json()["notices"]

    [receipt] = [n for n in kinds(buyer) if n["kind"] == "receipt"]
    assert receipt["link"] == f"/purchases/{checkout['purchase_id']}/receipt"
    assert "€10.03" in receipt["text"]
    [resold] = [n for n in kinds(seller) if n["kind"] == "resale"]
    assert "resold for €10.03" in resold["text"] and "€8.28 is credited to you" in resold["text"]
    assert resold["params"]["credit_cents"] == 828
    royalties = {}
    for creator in (team.uploader, team.composer):
        [notice] = [n for n in kinds(creator) if n["kind"] == "royalty"]
        royalties[creator["id"]] = notice["params"]["royalty_cents"]
        assert f"your royalty of €0.{notice['params']['royalty_cents']:02d}" in notice["text"]
    assert royalties == {team.uploader["id"]: 53, team.composer["id"]: 22}  # the ledger's entries, told
    assert len([n for n in kinds(seller) if n["kind"] == "receipt"]) == 1  # their own, of the first sale

    page = shop.client.get(f"/purchases/{checkout['purchase_id']}/receipt",
                           headers={"Cookie": f"mp_session={buyer['headers']['Authorization'].split()[1]}"})
    assert page.status_code == 200, page.text
    text = page.text
    assert "Marie Collector" in text and "Resale of a work by" in text
    assert "Anna Schmit, Luc Weber" in text
    assert "€0.75 is the authors&#39; royalty" in text
    assert "sells on behalf of the seller named above" in text
    french = shop.client.get(f"/purchases/{checkout['purchase_id']}/receipt", headers={
        "Cookie": f"mp_session={buyer['headers']['Authorization'].split()[1]}", "Accept-Language": "fr"}).text
    assert "Revente d&#39;une œuvre de" in french and "0,75" in french
