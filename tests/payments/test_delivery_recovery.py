"""A crash between payment and delivery: the next process delivers, exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlmodel import Session, select
from web3 import Web3

from marketplace import db
from marketplace.accounts.wallets import custodial_address
from marketplace.chain.client import ChainClient
from marketplace.devstack.anvil import DEV_KEYS
from marketplace.payments.models import Purchase
from marketplace.services import build_delivery_worker, build_services
from tests.payments.conftest import Shop, ledger
from tests.payments.test_checkout import transfers
from tests.plugins.live_fixtures import WEBHOOK_SECRET

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def _purchase() -> Purchase:
    with Session(db.get_engine()) as session:
        return session.exec(select(Purchase)).one()


def test_paid_purchase_is_delivered_by_the_next_process(make_live, anvil, contract_address):
    first = Shop(make_live(run_delivery_worker=False))
    creator, buyer = first.register(), first.register(role="buyer")
    work = first.minted_work(creator)
    r = first.checkout(buyer, work["id"])
    first.hosted(r.json()["checkout_url"], "pay")
    first.wait_purchase(buyer, r.json()["purchase_id"], "paid")
    time.sleep(0.5)
    assert first.purchase(buyer, r.json()["purchase_id"])["status"] == "paid"  # nobody delivers in this process
    first.live.server.stop()  # the process goes away between payment and delivery

    second = Shop(make_live())  # a restart: its delivery worker resumes
    done = second.wait_purchase(buyer, r.json()["purchase_id"], "delivered")
    assert done["wallet_address"] == buyer["wallet_address"]
    assert len(transfers(anvil, contract_address, work["token_id"])) == 2
    assert len(ledger()) == 2


@pytest.mark.slow
def test_worker_killed_with_delivery_in_flight_delivers_once(make_live, anvil, contract_address, rpc, db_url,
                                                             tmp_path):
    shop = Shop(make_live(run_delivery_worker=False))
    settings = shop.live.settings
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    # gas money for the creator's custody wallet up front (the top-up would wait for a block)
    seller = custodial_address(settings.wallet_secret.get_secret_value(), creator["id"])
    funder = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0])
    funder.send(funder.prepare_value_transfer(to=seller, value_wei=10**17))
    r = shop.checkout(buyer, work["id"])
    shop.hosted(r.json()["checkout_url"], "pay")
    shop.wait_purchase(buyer, r.json()["purchase_id"], "paid")

    env = {**os.environ, "ENV": "test", "DATABASE_URL": db_url, "RPC_URL": anvil.rpc_url,
           "IPFS_API_URL": settings.ipfs_api_url, "CONTRACT_ADDRESS": contract_address,
           "STRIPE_API_BASE": settings.stripe_api_base, "STRIPE_API_KEY": settings.stripe_api_key.get_secret_value(),
           "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "DATA_DIR": str(tmp_path / "worker"),
           "MINT_POLL_INTERVAL_S": "0.05"}
    rpc("evm_setAutomine", False)
    proc = subprocess.Popen([sys.executable, "-m", "marketplace.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while _purchase().delivery_tx_hash is None or rpc("eth_getTransactionByHash",
                                                          _purchase().delivery_tx_hash) is None:
            assert time.monotonic() < deadline, "the worker never sent the delivery"
            assert proc.poll() is None, "the worker exited"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        in_flight = _purchase().delivery_tx_hash  # in the mempool, not mined
        assert rpc("eth_getTransactionReceipt", in_flight) is None
        rpc("evm_mine")
    finally:
        rpc("evm_setAutomine", True)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
    sent_before = w3.eth.get_transaction_count(seller)
    worker = build_delivery_worker(build_services(settings))
    worker.stale_submit = worker.stale_submit * 0
    worker.run_once()
    done = shop.wait_purchase(buyer, r.json()["purchase_id"], "delivered", timeout=10)
    assert done["delivery_tx_hash"] == in_flight
    assert w3.eth.get_transaction_count(seller) == sent_before  # nothing sent again
    assert len(transfers(anvil, contract_address, work["token_id"])) == 2
    assert len(ledger()) == 2
