"""The fault matrix, chain part: the chain node killed (SIGKILL) and restarted from its state file during minting,
during delivery and right after confirmation, against the real app (uvicorn, the Stripe double, IPFS, both databases)
and a chain node of the test's own. After each, the invariants of tests/faults/invariants.py hold.

The node dumps its state only on a clean stop here (its periodic dump is an hour apart), so what a kill loses is
exactly what happened since the last clean restart: the test decides what the chain forgets."""

from __future__ import annotations

import time

import pytest
from sqlmodel import Session, select

from marketplace.accounts.wallets import custodial_address
from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.minting.models import MintJob
from marketplace.payments.models import LedgerEntry, Purchase
from tests.faults.chain_node import RestartableChain
from tests.faults.invariants import assert_consistent, transfer_logs, wait_until_settled
from tests.payments.conftest import Shop

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.slow]


@pytest.fixture
def own_chain(tmp_path):
    """A node with a state file, the contract deployed and dumped (a clean stop), started again from the dump."""
    chain = RestartableChain(tmp_path / "chain", state_interval_s=3600).start()
    try:
        chain.deploy()
        chain.restart()
        yield chain
    finally:
        chain.kill()


def _shop(make_live, chain: RestartableChain) -> Shop:
    return Shop(make_live(rpc_url=chain.rpc_url, contract_address=chain.contract_address,
                          chain_watch_interval_s=0.1))


def _row(model, row_id):
    with Session(db.get_engine()) as session:
        return session.get(model, row_id)


def _rows(model) -> list:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(model)).all())


def _wait(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.05)


def _health(shop: Shop):
    return lambda: shop.client.get("/api/health").status_code


def _pay(shop: Shop, buyer: dict, work_id: int) -> int:
    r = shop.checkout(buyer, work_id)
    assert r.status_code == 201, r.text
    assert shop.hosted(r.json()["checkout_url"], "pay").status_code in (200, 303)
    return r.json()["purchase_id"]


def test_chain_killed_with_a_mint_in_its_mempool_mints_once(make_live, own_chain):
    shop = _shop(make_live, own_chain)
    creator = shop.register()
    work = shop.upload(creator).json()
    own_chain.rpc("evm_setAutomine", False)
    assert shop.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202

    def sent() -> bool:
        job = _rows(MintJob)[0]
        return job.status == "submitted" and own_chain.rpc("eth_getTransactionByHash", job.tx_hash) is not None

    _wait(sent, "the mint transaction in the node's mempool")
    lost_tx = _rows(MintJob)[0].tx_hash
    own_chain.kill()  # the mempool dies with it
    own_chain.start()  # automining again, from the dump (which has the contract, not the mint)
    assert own_chain.rpc("eth_getTransactionByHash", lost_tx) is None

    wait_until_settled(timeout=60)
    chain = own_chain.client()
    assert_consistent(chain, health=_health(shop))
    minted = shop.client.get(f"/api/works/{work['id']}").json()
    assert minted["status"] == "minted"
    assert chain.owner_of(minted["token_id"]) == creator["wallet_address"]
    assert len(transfer_logs(chain, minted["token_id"])) == 1  # minted once
    assert chain.get_receipt(minted["mint_tx_hash"]).status == 1  # (the same nonce re-signed: maybe the same hash)


def test_chain_killed_with_a_delivery_in_its_mempool_delivers_once(make_live, own_chain):
    shop = _shop(make_live, own_chain)
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    # gas money for the creator's custody wallet up front (with automine off, the top-up would wait for a block)
    custody = custodial_address(shop.live.settings.wallet_secret.get_secret_value(), creator["id"])
    funder = own_chain.client()
    funder.wait_for_receipt(funder.send(funder.prepare_value_transfer(to=custody, value_wei=10**17)), timeout_s=10)
    own_chain.restart()  # a clean stop: the dump holds the mint and the gas money
    chain = own_chain.client()
    assert chain.owner_of(work["token_id"]) == custody

    own_chain.rpc("evm_setAutomine", False)
    purchase_id = _pay(shop, buyer, work["id"])

    def sent() -> bool:
        tx = _row(Purchase, purchase_id).delivery_tx_hash
        return tx is not None and own_chain.rpc("eth_getTransactionByHash", tx) is not None

    # (this waited in vain, now and then, when anvil came back with another genesis block: devtools/anvil.py
    # keep_one_genesis; the watcher then rightly refused to deliver on "another chain")
    _wait(sent, "the delivery transaction in the node's mempool", timeout=60.0)
    lost_tx = _row(Purchase, purchase_id).delivery_tx_hash
    own_chain.kill()
    own_chain.start()
    assert own_chain.rpc("eth_getTransactionByHash", lost_tx) is None

    wait_until_settled(timeout=60)
    assert_consistent(chain, health=_health(shop))
    done = shop.purchase(buyer, purchase_id)
    assert done["status"] == "delivered", done["failure_reason"]
    assert chain.owner_of(work["token_id"]) == buyer["wallet_address"]
    assert chain.get_receipt(done["delivery_tx_hash"]).status == 1
    assert sorted(e.amount_cents for e in _rows(LedgerEntry)) == [250, 2250]  # booked once


def test_chain_restarted_from_a_dump_older_than_a_confirmed_mint_and_delivery_redoes_them(make_live, own_chain):
    """The defect: kill -9 right after mints and a delivery were confirmed; the node comes back from a dump that
    predates them. Before the chain watcher the API went on saying `minted` for tokens that did not exist, and a
    buyer who paid meanwhile was refunded."""
    shop = _shop(make_live, own_chain)
    creator, buyer, second_buyer, latecomer = (shop.register(), shop.register(role="buyer"),
                                               shop.register(role="buyer"), shop.register(role="buyer"))
    sold = shop.minted_work(creator, title="Sold before the crash")
    kept = shop.minted_work(creator, title="Bought while the chain is down")
    first = _pay(shop, buyer, sold["id"])
    shop.wait_purchase(buyer, first, "delivered")
    chain = own_chain.client()
    assert chain.owner_of(sold["token_id"]) == buyer["wallet_address"]

    own_chain.kill()  # right after: the dump on disk has the contract, not the mints nor the delivery
    second = _pay(shop, second_buyer, kept["id"])  # Stripe and the app still work while the chain is down
    shop.wait_purchase(second_buyer, second, "paid")
    own_chain.start()
    assert chain.owner_of(sold["token_id"]) is None  # the chain forgot them

    def redone() -> bool:
        works = {w.id: w.status for w in _rows(Work)}
        return works == {sold["id"]: "minted", kept["id"]: "minted"} and \
            {p.status for p in _rows(Purchase)} == {"delivered"}

    wait_until_settled(timeout=60, also=redone)
    assert_consistent(chain, health=_health(shop))
    for work, owner in ((sold, buyer), (kept, second_buyer)):
        body = shop.client.get(f"/api/works/{work['id']}").json()
        assert body["status"] == "minted"
        assert chain.get_receipt(body["mint_tx_hash"]).status == 1  # minted again, on this chain
        assert chain.owner_of(work["token_id"]) == owner["wallet_address"] == body["owner_address"]
        mints = [t for t in transfer_logs(chain, work["token_id"]) if t[0] == "0x" + "00" * 20]
        assert len(mints) == 1
    assert shop.purchase(buyer, first)["status"] == "delivered"
    assert shop.purchase(second_buyer, second)["status"] == "delivered"  # not refunded
    assert shop.live.double.state.store.refunds == {}  # nobody's money went back
    assert len(_rows(LedgerEntry)) == 4  # each sale booked once
    again = shop.checkout(latecomer, sold["id"])
    assert again.status_code == 409, again.text  # sold, not for sale again

    info = shop.client.get("/api/chain").json()
    assert info["status"] == "ok" and info["rewinds"] >= 1 and info["last_rewind"]
