"""The chain watcher and the delivery worker: a delivery the chain lost is sent again (once), and a paid purchase
whose work went back to minting waits for it instead of being refunded."""

from __future__ import annotations

import time

import pytest
from sqlmodel import Session, select

from marketplace.core import db
from marketplace.minting import service as minting
from marketplace.minting.models import MintJob
from marketplace.minting.worker import MintWorker
from marketplace.payments.models import LedgerEntry, Purchase
from marketplace.services import build_delivery_worker
from tests.faults.chain_node import deployed_chain, own_node  # noqa: F401 - the `chain` fixture
from tests.faults.invariants import assert_consistent, transfer_logs, wait_until_settled
from tests.payments.conftest import Shop

pytestmark = [pytest.mark.chain, pytest.mark.ipfs, pytest.mark.slow]


node = own_node("watched")


def _purchase(purchase_id: int) -> Purchase:
    with Session(db.get_engine()) as session:
        return session.get(Purchase, purchase_id)


def _pay(shop: Shop, buyer: dict, work_id: int) -> int:
    r = shop.checkout(buyer, work_id)
    assert r.status_code == 201, r.text
    shop.hosted(r.json()["checkout_url"], "pay")
    return r.json()["purchase_id"]


def test_a_rewound_delivery_is_delivered_again_once(make_live, node, chain):
    shop = Shop(make_live(rpc_url=node.rpc_url, contract_address=chain.contract_address,
                          chain_watch_interval_s=0.1))
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    snapshot = node.rpc("evm_snapshot")  # the mint stays; what follows is forgotten
    purchase_id = _pay(shop, buyer, work["id"])
    first = shop.wait_purchase(buyer, purchase_id, "delivered")
    assert chain.owner_of(work["token_id"]) == buyer["wallet_address"]
    node.rpc("evm_revert", snapshot)
    assert chain.owner_of(work["token_id"]) != buyer["wallet_address"]  # back in the custody wallet

    def delivered_again() -> bool:
        purchase = _purchase(purchase_id)
        return purchase.status == "delivered" and purchase.delivery_block_number is not None \
            and chain.owner_of(work["token_id"]) == buyer["wallet_address"]

    wait_until_settled(timeout=30, also=delivered_again)
    assert_consistent(chain, health=lambda: shop.client.get("/api/health").status_code)
    again = shop.purchase(buyer, purchase_id)
    assert again["status"] == "delivered" and again["refund_id"] is None
    assert chain.get_receipt(again["delivery_tx_hash"]).status == 1
    arrivals = [t for t in transfer_logs(chain, work["token_id"]) if t[1] == buyer["wallet_address"]]
    assert len(arrivals) == 1  # on this chain, the token reached the buyer once
    with Session(db.get_engine()) as session:
        assert sorted(e.amount_cents for e in session.exec(select(LedgerEntry)).all()) == [250, 2250]
    assert first["delivered_at"] != again["delivered_at"]
    assert shop.client.get("/api/chain").json()["rewinds"] >= 1


def test_a_paid_purchase_waits_while_its_work_is_minted_again(make_live, node, chain):
    shop = Shop(make_live(rpc_url=node.rpc_url, contract_address=chain.contract_address,
                          run_delivery_worker=False, run_mint_worker=False))
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.upload(creator).json()
    shop.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])
    snapshot = node.rpc("evm_snapshot")
    MintWorker(chain=chain, receipt_timeout_s=10).run_once()
    work = shop.wait_for_status(work["id"], "minted")
    purchase_id = _pay(shop, buyer, work["id"])
    shop.wait_purchase(buyer, purchase_id, "paid")
    node.rpc("evm_revert", snapshot)  # the token is gone; the database does not know yet

    deliverer = build_delivery_worker(shop.live.services)
    deliverer.chain.resync_signers()
    for _ in range(3):  # the transfer of a token that does not exist reverts; the retry finds no token
        deliverer.run_once()
        time.sleep(1.1)  # past the hold
    held = _purchase(purchase_id)
    assert held.status == "paid" and held.refund_reason is None, held.failure_reason
    assert held.last_error.startswith("The work's token is not on chain")

    with Session(db.get_engine()) as session:  # what the watcher does: the work back to minting
        job = session.exec(select(MintJob)).one()
        assert minting.return_to_minting(session, job_id=job.id, work_id=work["id"], tx_hash=job.tx_hash,
                                         reason="test")
        session.commit()
    time.sleep(1.1)
    deliverer.run_once()
    held = _purchase(purchase_id)
    assert held.status == "paid" and held.refund_reason is None and held.claimed_by is None
    assert held.last_error.startswith("Waiting for the work to be minted again")
    assert shop.live.double.state.store.refunds == {}

    chain.resync_signers()  # (the watcher does this on a rewind)
    MintWorker(chain=chain, receipt_timeout_s=10).run_once()
    shop.wait_for_status(work["id"], "minted")
    time.sleep(1.1)
    deliverer.run_once()
    done = shop.wait_purchase(buyer, purchase_id, "delivered", timeout=10)
    assert chain.owner_of(work["token_id"]) == buyer["wallet_address"] == done["wallet_address"]
    assert len([t for t in transfer_logs(chain, work["token_id"]) if t[0] == "0x" + "00" * 20]) == 1


def test_a_rewound_edition_mint_is_minted_to_the_buyer_again_once(make_live, node, chain):
    """An edition's delivery is its token's mint: a chain that forgets it sends the purchase back to delivery,
    and the same token (its id the edition's metadata digest) is minted to the buyer again, once."""
    shop = Shop(make_live(rpc_url=node.rpc_url, contract_address=chain.contract_address,
                          chain_watch_interval_s=0.1))
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator, edition_size=5)
    snapshot = node.rpc("evm_snapshot")
    purchase_id = _pay(shop, buyer, work["id"])
    first = shop.wait_purchase(buyer, purchase_id, "delivered")
    token_id = first["token_id"]
    assert first["edition_number"] == 1 and chain.owner_of(token_id) == buyer["wallet_address"]
    node.rpc("evm_revert", snapshot)
    assert chain.owner_of(token_id) is None  # the edition's token is gone with its mint

    def minted_again() -> bool:
        purchase = _purchase(purchase_id)
        return purchase.status == "delivered" and purchase.delivery_block_number is not None \
            and chain.owner_of(token_id) == buyer["wallet_address"]

    wait_until_settled(timeout=30, also=minted_again)
    assert_consistent(chain, health=lambda: shop.client.get("/api/health").status_code)
    again = shop.purchase(buyer, purchase_id)
    assert (again["token_id"], again["edition_number"], again["refund_id"]) == (token_id, 1, None)
    assert transfer_logs(chain, token_id) == [("0x" + "00" * 20, buyer["wallet_address"])]
    with Session(db.get_engine()) as session:
        assert sorted(e.amount_cents for e in session.exec(select(LedgerEntry)).all()) == [250, 2250]
    after = shop.client.get(f"/api/works/{work['id']}").json()
    assert (after["editions_sold"], after["editions_available"]) == (1, 4)
