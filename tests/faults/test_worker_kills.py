"""The worker killed in each state: a real `marketplace worker` process is SIGKILLed at an exact step of minting or
delivery, then a new worker recovers. One row per state:

- mint: claimed (the claim written, nothing signed), hash written but not sent, sent but not mined;
- delivery: claimed, hash written but not sent, sent but not mined, refund owed but not yet refunded.

No hook in the product freezes the worker: its RPC and Stripe traffic goes through a real HTTP proxy (tests/faults/
proxy.py) that holds the one request marking the step (the first nonce read, the send, the refund), or anvil with
automine off keeps the sent transaction in the mempool. The test waits for the database to show the state, kills
the process, and lets a fresh worker recover. After each: the work minted once, the purchase delivered once (or
refunded once), nothing sent again that was already on its way, and the invariants of tests/faults/invariants.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select
from web3 import Web3

from devtools.anvil import DEV_KEYS
from marketplace.accounts.wallets import custodial_address
from marketplace.core import db
from marketplace.integrations.chain.client import ChainClient
from marketplace.minting.models import MintJob
from marketplace.payments.models import Purchase
from marketplace.services import build_delivery_worker, build_mint_worker, build_services
from tests.faults.invariants import assert_consistent, assert_refunds_match, transfer_logs, wait_until_settled
from tests.faults.proxy import HoldingProxy, http_call, rpc_method
from tests.payments.conftest import Shop
from tests.plugins.live_fixtures import WEBHOOK_SECRET

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.slow]


def _job() -> MintJob:
    with Session(db.get_engine()) as session:
        return session.exec(select(MintJob)).one()


def _purchase() -> Purchase:
    with Session(db.get_engine()) as session:
        return session.exec(select(Purchase)).one()


def _rejected(body: bytes) -> tuple[int, bytes]:
    """The node refusing a transaction, as anvil words it."""
    return 200, json.dumps({"jsonrpc": "2.0", "id": json.loads(body)["id"], "error": {
        "code": -32003, "message": "insufficient funds for gas * price + value"}}).encode()


@dataclass(frozen=True)
class State:
    id: str
    kind: str  # "mint" or "delivery"
    reached: Callable[[Callable], bool]  # (rpc) -> the database (and node) show the state
    hold: str | None = None  # which request the proxy holds: "nonce", "send", "refund"
    automine_off: bool = False  # the sent transaction waits in the mempool
    env: tuple[tuple[str, str], ...] = ()


def _mint_claimed(rpc) -> bool:
    """Held at the signer's nonce read, on the way to the claim. The mint worker claims, signs and writes ahead in one
    database transaction (nonce and fees are read first), so a claimed-but-unwritten job is never durable: the
    kill finds it pending, unsent, and a lease-free recovery mints it once."""
    job = _job()
    return job.status == "pending" and job.tx_hash is None


def _mint_written(rpc) -> bool:
    job = _job()
    return job.status == "submitted" and job.tx_hash is not None \
        and rpc("eth_getTransactionByHash", job.tx_hash) is None


def _mint_sent(rpc) -> bool:
    job = _job()
    return job.status == "submitted" and job.tx_hash is not None \
        and rpc("eth_getTransactionByHash", job.tx_hash) is not None


def _delivery_claimed(rpc) -> bool:
    p = _purchase()
    return p.claimed_by is not None and p.status == "paid" and p.delivery_tx_hash is None


def _delivery_written(rpc) -> bool:
    p = _purchase()
    return p.delivery_tx_hash is not None and rpc("eth_getTransactionByHash", p.delivery_tx_hash) is None


def _delivery_sent(rpc) -> bool:
    p = _purchase()
    return p.delivery_tx_hash is not None and rpc("eth_getTransactionByHash", p.delivery_tx_hash) is not None


def _refund_owed(rpc) -> bool:
    p = _purchase()
    return p.status == "paid" and p.refund_reason is not None and p.refund_id is None


STATES = [
    State("mint-claimed", "mint", _mint_claimed, hold="nonce"),
    State("mint-hash-written-not-sent", "mint", _mint_written, hold="send"),
    State("mint-sent-not-mined", "mint", _mint_sent, automine_off=True),
    State("delivery-claimed", "delivery", _delivery_claimed, hold="nonce"),
    State("delivery-hash-written-not-sent", "delivery", _delivery_written, hold="send"),
    State("delivery-sent-not-mined", "delivery", _delivery_sent, automine_off=True),
    # the node refuses the one delivery attempt allowed, so a refund is owed; Stripe makes it, the answer is lost
    State("delivery-refund-owed-not-refunded", "delivery", _refund_owed, hold="refund",
          env=(("DELIVERY_MAX_ATTEMPTS", "1"),)),
]


# On SQLite: what is tested is the worker's recovery from the chain and Stripe, the same on both databases
# (several workers claiming on PostgreSQL: tests/minting/test_minting_workers.py, tests/payments/test_delivery_claims.py).
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("state", STATES, ids=lambda s: s.id)
def test_worker_killed(state: State, make_live, stripe_double, anvil, contract_address, chain, rpc, db_url,
                       tmp_path):
    shop = Shop(make_live(run_mint_worker=state.kind == "delivery", run_delivery_worker=False))
    settings = shop.live.settings
    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
    creator = shop.register()
    if state.kind == "mint":
        work = shop.upload(creator).json()
        assert shop.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
        sender = chain.signer.address
    else:
        buyer = shop.register(role="buyer")
        work = shop.minted_work(creator)
        # gas money for the creator's custody wallet up front, so the worker's first transaction is the delivery
        sender = custodial_address(settings.wallet_secret.get_secret_value(), creator["id"])
        funder = ChainClient(rpc_url=anvil.rpc_url, contract_address=contract_address, minter_key=DEV_KEYS[0])
        funder.send(funder.prepare_value_transfer(to=sender, value_wei=10**17))
        r = shop.checkout(buyer, work["id"])
        shop.hosted(r.json()["checkout_url"], "pay")
        shop.wait_purchase(buyer, r.json()["purchase_id"], "paid")

    node = HoldingProxy(anvil.rpc_url).start()
    stripe = HoldingProxy(stripe_double.api_base).start()
    holds = []
    if state.hold == "nonce":
        holds.append(node.hold(rpc_method("eth_getTransactionCount")))
    elif state.hold == "send":
        holds.append(node.hold(rpc_method("eth_sendRawTransaction")))
    elif state.hold == "refund":
        node.hold(rpc_method("eth_sendRawTransaction"), answer=_rejected)
        holds.append(stripe.hold(http_call("POST", "/v1/refunds"), after_upstream=True))
    env = {**os.environ, "ENV": "test", "DATABASE_URL": db_url, "RPC_URL": node.url,
           "IPFS_API_URL": settings.ipfs_api_url, "CONTRACT_ADDRESS": contract_address,
           "STRIPE_API_BASE": stripe.url, "STRIPE_API_KEY": settings.stripe_api_key.get_secret_value(),
           "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_MAX_NETWORK_RETRIES": "0",
           "DATA_DIR": str(tmp_path / "worker"), "MINT_POLL_INTERVAL_S": "0.05", "WORKER_LEASE_S": "1",
           **dict(state.env)}
    if state.automine_off:
        rpc("evm_setAutomine", False)
    if state.hold == "refund":  # Stripe's charge.refunded comes late: the recovering worker finds the refund owed
        stripe_double.state.webhooks.pause()
    proc = subprocess.Popen([sys.executable, "-m", "marketplace.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not (all(h.hit.is_set() for h in holds) and state.reached(rpc)):
            assert time.monotonic() < deadline, f"the worker never reached {state.id}"
            assert proc.poll() is None, "the worker exited"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert state.reached(rpc)  # still there after the kill: nothing moved since
        in_flight = _job().tx_hash if state.kind == "mint" else _purchase().delivery_tx_hash
        if state.automine_off:
            assert rpc("eth_getTransactionReceipt", in_flight) is None  # in the mempool, not mined
            rpc("evm_mine")
    finally:
        if state.automine_off:
            rpc("evm_setAutomine", True)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        node.stop()
        stripe.stop()
    if state.hold == "refund":
        refunds = list(stripe_double.state.store.refunds.values())
        assert len(refunds) == 1  # Stripe refunded; the worker died before it heard
    sent_before = w3.eth.get_transaction_count(sender)

    # a fresh worker (straight to the node and Stripe) recovers
    recovery = build_services(settings.model_copy(update={"worker_stale_submit_s": 0.0}))
    workers = [build_mint_worker(recovery), build_delivery_worker(recovery)]
    for worker in workers:
        worker.start()
    try:
        if state.kind == "mint":
            body = shop.wait_for_status(work["id"], "minted", timeout=60)
        else:
            final = "refunded" if state.hold == "refund" else "delivered"
            body = shop.wait_purchase(buyer, r.json()["purchase_id"], final, timeout=60)
        wait_until_settled(timeout=60)
    finally:
        for worker in workers:
            worker.stop()
    stripe_double.state.webhooks.resume()
    assert stripe_double.wait_for_deliveries(10)

    sent_after = w3.eth.get_transaction_count(sender)
    if state.automine_off:  # the transaction in flight was found and settled, nothing sent again
        assert (body["mint_tx_hash"] if state.kind == "mint" else body["delivery_tx_hash"]) == in_flight
        assert sent_after == sent_before
    elif state.hold == "refund":
        assert len(stripe_double.state.store.refunds) == 1  # refunded once (the same idempotency key)
        assert sent_after == sent_before
    elif state.kind == "mint":  # nothing had reached the node: exactly one mint transaction now
        assert sent_after == sent_before + 1
    token_id = int(_job().metadata_digest, 16) if state.kind == "mint" else work["token_id"]
    assert len(transfer_logs(chain, token_id)) == (1 if state.kind == "mint" or state.hold == "refund" else 2)
    assert_consistent(chain, health=lambda: shop.client.get("/api/health").status_code)
    assert_refunds_match(stripe_double)
