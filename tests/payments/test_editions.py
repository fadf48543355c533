"""Works of several editions: the edition size on upload, one reservation per edition (exactly edition_size of any
number of concurrent checkouts, the rest a clear 409 "Sold out"), an expired checkout freeing its edition, and a
sale that mints the edition's own numbered token to the buyer and books it like any sale."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe
from sqlmodel import Session

from marketplace.core import db
from marketplace.integrations.ipfs.client import raw_cid_from_digest
from marketplace.payments.models import Purchase
from tests.payments.conftest import Shop, ledger, purchases
from tests.payments.test_checkout import token, transfers

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def _listed(shop: Shop, creator: dict, size: int, **fields) -> dict:
    work = shop.minted_work(creator, edition_size=size, **fields)
    assert (work["edition_size"], work["editions_sold"], work["editions_available"]) == (size, 0, size)
    assert work["token_id"] is None  # listed: each edition gets its own token when sold
    return work


def test_edition_size_defaults_to_one_and_is_bounded(shop: Shop):
    creator = shop.register()
    unique = shop.upload(creator).json()
    assert (unique["edition_size"], unique["editions_sold"], unique["editions_available"]) == (1, 0, 1)
    for size in (0, 1001):
        r = shop.upload(creator, edition_size=size)
        assert r.status_code == 422, r.text
        (error,) = [e for e in r.json()["detail"] if e["loc"] == ["body", "edition_size"]]
        assert "greater than or equal to 1" in error["msg"] or "less than or equal to 1000" in error["msg"]
    draft = shop.upload(creator, edition_size=1000).json()
    assert shop.client.get(f"/api/works/{draft['id']}", headers=creator["headers"]).json()["edition_size"] == 1000


@pytest.mark.slow
def test_fifty_concurrent_checkouts_of_ten_editions_reserve_exactly_ten(shop: Shop, db_url):
    creator = shop.register()
    buyers = [shop.register(role="buyer") for _ in range(50)]
    work = _listed(shop, creator, 10)
    with ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(lambda b: shop.checkout(b, work["id"]), buyers))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 10 + [409] * 40, codes
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["detail"].startswith("Sold out: all 10 editions of this work are sold or reserved")
    held = sorted(p.edition_number for p in purchases())
    assert held == list(range(1, 11))
    after = shop.client.get(f"/api/works/{work['id']}").json()
    assert (after["editions_sold"], after["editions_available"], after["sale_status"]) == (0, 0, "reserved")


def test_an_expired_reservation_frees_its_edition(shop: Shop):
    creator = shop.register()
    first, second, third = (shop.register(role="buyer") for _ in range(3))
    work = _listed(shop, creator, 2)
    r1, r2 = shop.checkout(first, work["id"]), shop.checkout(second, work["id"])
    assert r1.status_code == r2.status_code == 201
    assert [shop.purchase(b, r.json()["purchase_id"])["edition_number"] for b, r in ((first, r1), (second, r2))] \
        == [1, 2]
    assert shop.checkout(first, work["id"]).json()["purchase_id"] == r1.json()["purchase_id"]  # the same checkout
    sold_out = shop.checkout(third, work["id"])
    assert sold_out.status_code == 409 and sold_out.json()["detail"].startswith("Sold out")
    assert shop.client.get(f"/api/works/{work['id']}").json()["editions_available"] == 0

    client = stripe.StripeClient(shop.live.double.api_key, base_addresses={"api": shop.live.double.api_base})
    with Session(db.get_engine()) as session:
        client.v1.checkout.sessions.expire(session.get(Purchase, r1.json()["purchase_id"]).stripe_session_id)
    shop.wait_purchase(first, r1.json()["purchase_id"], "expired")
    assert shop.client.get(f"/api/works/{work['id']}").json()["editions_available"] == 1
    again = shop.checkout(third, work["id"])
    assert again.status_code == 201, again.text
    assert shop.purchase(third, again.json()["purchase_id"])["edition_number"] == 1


def _indexed_history(shop: Shop, token_id: int) -> list[dict]:
    deadline = time.monotonic() + 20
    while True:
        r = shop.client.get(f"/api/tokens/{token_id}/history")
        if r.status_code == 200 and r.json():
            return r.json()
        assert time.monotonic() < deadline, r.text
        time.sleep(0.1)


def test_an_edition_sale_mints_its_numbered_token_to_the_buyer(shop: Shop, anvil, contract_address, ipfs_client):
    creator = shop.register(name="Anna")
    buyer, other = shop.register(role="buyer"), shop.register(role="buyer")
    work = _listed(shop, creator, 3, price_cents=2500, royalty_bps=500)
    r = shop.checkout(buyer, work["id"])
    assert r.status_code == 201, r.text
    shop.hosted(r.json()["checkout_url"], "pay")
    done = shop.wait_purchase(buyer, r.json()["purchase_id"], "delivered")

    assert done["edition_number"] == 1 and done["token_id"]
    w3, contract = token(anvil, contract_address)
    assert contract.functions.ownerOf(done["token_id"]).call() == buyer["wallet_address"]
    assert w3.eth.get_transaction_receipt(done["delivery_tx_hash"])["status"] == 1
    [(minted)] = transfers(anvil, contract_address, done["token_id"])
    assert minted["args"]["from"] == "0x" + "00" * 20 and minted["args"]["to"] == buyer["wallet_address"]
    cid = raw_cid_from_digest(done["token_id"].to_bytes(32, "big"))
    assert contract.functions.tokenURI(done["token_id"]).call() == f"ipfs://{cid}"
    metadata = json.loads(ipfs_client.cat_bytes(cid))
    assert (metadata["properties"]["edition_number"], metadata["properties"]["edition_size"]) == (1, 3)
    assert metadata["properties"]["work_id"] == work["id"] and metadata["name"] == f"{work['title']} (1/3)"
    receiver, amount = contract.functions.royaltyInfo(done["token_id"], 10_000).call()
    assert (receiver, amount) == (creator["wallet_address"], 500)

    entries = {(e.entry_type, e.account_id): e.amount_cents for e in ledger()}
    assert entries == {("sale_creator", creator["id"]): 2250, ("sale_platform_fee", None): 250}
    after = shop.client.get(f"/api/works/{work['id']}").json()
    assert (after["editions_sold"], after["editions_available"], after["sale_status"]) == (1, 2, "available")
    assert after["owner_address"] is None  # the work itself has no token
    history = _indexed_history(shop, done["token_id"])  # the edition token's provenance, from the chain index
    assert [(h["kind"], h["to_address"], h["tx_hash"], h["price_cents"], h["currency"]) for h in history] == [
        ("minted", buyer["wallet_address"], done["delivery_tx_hash"], 2500, "EUR")]
    served = shop.client.get(f"/ipfs/{cid}")  # the token URI's gateway link (the certificate shows it)
    assert served.status_code == 200, served.text
    assert served.headers["content-type"].startswith("application/json") and served.json() == metadata
    nxt = shop.checkout(other, work["id"])
    assert nxt.status_code == 201 and shop.purchase(other, nxt.json()["purchase_id"])["edition_number"] == 2


def test_pages_show_the_editions_and_the_sold_out_state(shop: Shop):
    creator = shop.register(name="Anna")
    first, second = shop.register(role="buyer"), shop.register(role="buyer")
    work = _listed(shop, creator, 2, title="Schueberfouer")
    page = shop.page(first, f"/works/{work['id']}").text
    assert "Edition of 2" in page and "2 of 2 available" in page and "Buy for" in page
    fr = shop.page(first, f"/works/{work['id']}", **{"Accept-Language": "fr"}).text
    assert "Édition de 2" in fr and "2 sur 2 disponibles" in fr

    sold = []
    for buyer in (first, second):
        r = shop.checkout(buyer, work["id"])
        shop.hosted(r.json()["checkout_url"], "pay")
        sold.append(shop.wait_purchase(buyer, r.json()["purchase_id"], "delivered"))
    assert [p["edition_number"] for p in sold] == [1, 2]

    viewer = shop.register(role="buyer")
    page = shop.page(viewer, f"/works/{work['id']}").text
    assert 'id="sold-out"' in page and "Sold out" in page and "Buy for" not in page
    de = shop.page(viewer, f"/works/{work['id']}", **{"Accept-Language": "de"}).text
    assert "Ausverkauft" in de
    gallery = shop.page(viewer, "/").text
    card = gallery[gallery.index("Schueberfouer"):][:1500]
    assert "Edition of 2" in card and "Sold out" in card
    creator_page = shop.page(viewer, f"/creators/{creator['id']}").text
    assert "Sold out" in creator_page
    assert "Sold out" in shop.page(creator, "/studio").text
    purchase_page = shop.page(first, f"/purchases/{sold[0]['id']}").text
    assert "Edition 1 of 2" in purchase_page
    certificate = shop.page(viewer, f"/tokens/{sold[1]['token_id']}")
    assert certificate.status_code == 200 and "Edition 2 of 2" in certificate.text
    assert second["wallet_address"] in certificate.text
    _indexed_history(shop, sold[1]["token_id"])  # the index has read the edition's mint
    collection = shop.page(second, "/collection").text  # the buyer's edition is in their collection, numbered
    owned = collection[collection.index('id="owned"'):]
    assert "Schueberfouer" in owned and "Edition 2 of 2" in owned
    assert f"/tokens/0x{sold[1]['token_id']:064x}" in owned
    assert "Edition 1 of 2" not in owned  # the other buyer's edition is theirs
    mine = shop.page(second, f"/works/{work['id']}").text  # the work page names the holder's edition, linked
    held = mine[mine.index('id="you-own-editions"'):][:600]
    assert "You own this edition:" in held and "Edition 2 of 2" in held and "Edition 1 of 2" not in held
    assert f"/tokens/0x{sold[1]['token_id']:064x}" in held
    assert 'id="you-own-editions"' not in page  # a viewer who holds none is told nothing
