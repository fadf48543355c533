"""Sales delivered together: a seller's first sales in one transferBatch from its custody wallet, which then approves
the platform as operator, so later sales of any sellers share one transaction; one bad sale cannot hold the others
back."""

from __future__ import annotations

import pytest
from web3 import Web3

from marketplace.integrations.chain.client import TRANSFER_TOPIC
from marketplace.services import build_delivery_worker
from tests.payments.conftest import Shop, ledger, purchases
from tests.payments.test_checkout import token
from tests.resale.wallet_helpers import link_directly

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

# init code returning a one-byte runtime (STOP): a contract with no onERC721Received, which refuses safe transfers
_NOT_A_RECEIVER = "0x6001600c60003960016000f300"


def _paid(shop: Shop, buyer: dict, work: dict, **body) -> int:
    r = shop.checkout(buyer, work["id"], **body)
    assert r.status_code == 201, r.text
    assert shop.hosted(r.json()["checkout_url"], "pay").status_code == 303
    shop.wait_purchase(buyer, r.json()["purchase_id"], "paid")
    return r.json()["purchase_id"]


def test_sales_share_a_transaction_per_seller_then_across_sellers(make_live, anvil, contract_address):
    shop = Shop(make_live(run_delivery_worker=False))  # the sales pile up paid, then one worker pass
    anna, luc = shop.register(name="Anna"), shop.register(name="Luc")
    works = [shop.minted_work(anna, price_cents=1000 + i) for i in range(3)] + [shop.minted_work(luc)]
    buyers = [shop.register(role="buyer") for _ in works]
    own_wallet = Web3.to_checksum_address("0x" + "42" * 20)
    link_directly(buyers[0]["id"], own_wallet)
    ids = [_paid(shop, buyers[0], works[0], wallet_address=own_wallet)]
    ids += [_paid(shop, b, w) for b, w in zip(buyers[1:], works[1:], strict=True)]

    w3, contract = token(anvil, contract_address)
    sent_before = w3.eth.get_transaction_count(anna["wallet_address"])  # the chain outlives the database
    worker = build_delivery_worker(shop.live.services)
    assert worker.deliver_batch() == 4

    done = [shop.purchase(b, i) for b, i in zip(buyers, ids, strict=True)]
    assert [d["status"] for d in done] == ["delivered"] * 4
    wallets = [own_wallet] + [b["wallet_address"] for b in buyers[1:]]
    assert [contract.functions.ownerOf(w["token_id"]).call() for w in works] == wallets
    # Anna's three sales went in one transaction from her custody wallet, Luc's in another
    anna_tx = {d["delivery_tx_hash"] for d in done[:3]}
    assert len(anna_tx) == 1 and done[3]["delivery_tx_hash"] not in anna_tx
    receipt = w3.eth.get_transaction_receipt(anna_tx.pop())
    moved = [(Web3.to_checksum_address(log["topics"][1][-20:]), Web3.to_checksum_address(log["topics"][2][-20:]),
              int.from_bytes(log["topics"][3], "big"))
             for log in receipt["logs"] if log["topics"][0].to_0x_hex() == TRANSFER_TOPIC]
    assert moved == [(anna["wallet_address"], wallets[i], works[i]["token_id"]) for i in range(3)]
    # her delivery, then (once) her approval of the platform as operator of her custody wallet
    assert w3.eth.get_transaction_count(anna["wallet_address"]) == sent_before + 2
    platform = shop.live.services.chain.signer.address
    assert contract.functions.isApprovedForAll(anna["wallet_address"], platform).call()
    assert contract.functions.isApprovedForAll(luc["wallet_address"], platform).call()
    # each sale booked once, at its own price
    creator_entries = sorted((e.account_id, e.amount_cents) for e in ledger() if e.entry_type == "sale_creator")
    assert creator_entries == sorted([(anna["id"], 900), (anna["id"], 901), (anna["id"], 902),
                                      (luc["id"], works[3]["price_cents"] * 9 // 10)])
    assert all(p.delivery_attempts == 1 for p in purchases())

    # their next sales: one transaction for both sellers, signed and paid by the platform
    more = [shop.minted_work(anna), shop.minted_work(luc), shop.minted_work(anna)]
    more_buyers = [shop.register(role="buyer") for _ in more]
    more_ids = [_paid(shop, b, w) for b, w in zip(more_buyers, more, strict=True)]
    anna_sent = w3.eth.get_transaction_count(anna["wallet_address"])
    assert worker.deliver_batch() == 3
    again = [shop.purchase(b, i) for b, i in zip(more_buyers, more_ids, strict=True)]
    assert [a["status"] for a in again] == ["delivered"] * 3
    assert len({a["delivery_tx_hash"] for a in again}) == 1
    tx = w3.eth.get_transaction(again[0]["delivery_tx_hash"])
    assert tx["from"] == platform
    assert [contract.functions.ownerOf(w["token_id"]).call() for w in more] == \
        [b["wallet_address"] for b in more_buyers]
    assert w3.eth.get_transaction_count(anna["wallet_address"]) == anna_sent  # her wallet signed nothing
    assert len([e for e in ledger() if e.entry_type == "sale_creator"]) == 7


@pytest.mark.parametrize("signed_by", ["custody wallet", "platform operator"])
def test_a_sale_that_breaks_the_batch_is_retried_alone_and_refunded(make_live, anvil, contract_address, signed_by):
    # driven step by step: the retries are claimable at once (no backoff)
    shop = Shop(make_live(run_delivery_worker=False, delivery_max_attempts=2, job_retry_backoff_s=0))
    anna = shop.register(name="Anna")
    worker = build_delivery_worker(shop.live.services)
    w3, contract = token(anvil, contract_address)
    earlier = 0
    if signed_by == "platform operator":  # a first sale: her wallet approves the operator after delivering it
        _paid(shop, shop.register(role="buyer"), shop.minted_work(anna))
        worker.run_once()
        assert contract.functions.isApprovedForAll(anna["wallet_address"],
                                                   shop.live.services.chain.signer.address).call()
        earlier = 1
    works = [shop.minted_work(anna) for _ in range(3)]
    buyers = [shop.register(role="buyer") for _ in works]
    deployed = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[5], "data": _NOT_A_RECEIVER}))
    refuses_tokens = deployed["contractAddress"]
    link_directly(buyers[1]["id"], refuses_tokens)
    ids = [_paid(shop, buyers[0], works[0]), _paid(shop, buyers[1], works[1], wallet_address=refuses_tokens),
           _paid(shop, buyers[2], works[2])]

    worker.run_once()  # one transferBatch for the three: the contract refuses its token, so it all reverts
    first = [p for p in purchases() if p.id in ids]
    assert {p.status for p in first} == {"paid"} and len({p.delivery_tx_hash for p in first}) <= 1
    assert all(contract.functions.ownerOf(w["token_id"]).call() == anna["wallet_address"] for w in works)
    assert all("reverted" in (p.last_error or "") for p in first), [p.last_error for p in first]

    worker.run_once()  # each alone now: two go through, the refusing wallet's sale is refunded
    good = [shop.purchase(buyers[i], ids[i]) for i in (0, 2)]
    assert [g["status"] for g in good] == ["delivered", "delivered"]
    assert good[0]["delivery_tx_hash"] != good[1]["delivery_tx_hash"]
    assert contract.functions.ownerOf(works[0]["token_id"]).call() == buyers[0]["wallet_address"]
    assert contract.functions.ownerOf(works[2]["token_id"]).call() == buyers[2]["wallet_address"]
    bad = shop.purchase(buyers[1], ids[1])
    assert bad["status"] == "refunded" and "after 2 attempts" in bad["failure_reason"]
    assert contract.functions.ownerOf(works[1]["token_id"]).call() == anna["wallet_address"]
    refund = shop.live.double.wait_for_event("charge.refunded")["data"]["object"]
    assert refund["amount_refunded"] == works[1]["price_cents"]
    assert len([e for e in ledger() if e.entry_type == "sale_creator"]) == 2 + earlier
    assert shop.client.get(f"/api/works/{works[1]['id']}").json()["sale_status"] == "available"
