"""A PostgreSQL connection killed mid-request (`pg_terminate_backend` from another connection), on the real app
served by uvicorn with its workers and the Stripe double.

To hit the moment exactly, another connection holds a row lock the request's transaction needs; once the app's
backend waits on it (pg_stat_activity says so), that backend is terminated. Then the request answers 503
`database_unavailable` (its transaction rolled back: nothing half-written) and the next requests work (pool_pre_ping
replaces dead connections). A storm of terminations while requests run checks the same at random moments: every
request answers, with a success or a 503, never a 500 or a hang."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from marketplace.catalog.models import Work
from marketplace.minting.models import MintJob
from marketplace.payments.models import Purchase, StripeEvent
from tests.faults.invariants import assert_consistent, wait_until_settled
from tests.faults.proxy import HoldingProxy, http_call, rpc_method
from tests.payments.conftest import Shop, rows
from tests.plugins.db_fixtures import PG_ADMIN_URL

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.slow, pytest.mark.postgres,
              pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                                      indirect=True)]


def _dbname(db_url: str) -> str:
    return db_url.rsplit("/", 1)[1]


class RowLock:
    """`SELECT ... FOR NO KEY UPDATE` held by a connection of the test's own until released (an UPDATE of the row
    waits for it; a foreign key check on it does not)."""

    def __init__(self, db_url: str, table: str, row_id: int) -> None:
        self.conn = psycopg.connect(db_url)
        self.conn.execute(f"SELECT id FROM {table} WHERE id = %s FOR NO KEY UPDATE", (row_id,))  # noqa: S608

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


def terminate_when_waiting(db_url: str, statement_prefix: str, *, timeout: float = 20.0) -> int:
    """Wait until an app backend is blocked on a lock in a statement starting with `statement_prefix`, then
    terminate it (the connection dies inside its transaction). Returns the pid."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        while True:
            pids = [pid for (pid,) in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                "AND query ILIKE %s", (_dbname(db_url), statement_prefix + "%")).fetchall()]
            if pids:
                assert admin.execute("SELECT pg_terminate_backend(%s)", (pids[0],)).fetchone()[0]
                return pids[0]
            assert time.monotonic() < deadline, f"no backend waited in {statement_prefix!r}"
            time.sleep(0.01)


def test_connection_killed_inside_the_checkout_transaction(make_live, db_url, chain):
    shop = Shop(make_live())
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)

    # the checkout inserts the reservation, then marks the work reserved: that UPDATE waits on our lock
    lock = RowLock(db_url, "work", work["id"])
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(shop.checkout, buyer, work["id"])
            terminate_when_waiting(db_url, "UPDATE work")
            r = pending.result(timeout=30)
    finally:
        lock.release()
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "database_unavailable"
    assert rows(Purchase) == []  # the reservation died with its transaction
    assert shop.client.get(f"/api/works/{work['id']}").json()["sale_status"] == "available"

    # the next request gets a fresh connection and the sale goes through
    again = shop.checkout(buyer, work["id"])
    assert again.status_code == 201, again.text
    shop.hosted(again.json()["checkout_url"], "pay")
    shop.wait_purchase(buyer, again.json()["purchase_id"], "delivered")
    wait_until_settled()
    assert_consistent(chain, health=lambda: shop.client.get("/api/health").status_code)


def test_connection_killed_while_recording_the_checkout_session(make_live, stripe_double, db_url, chain):
    """The reservation is committed, Stripe opened the session, and the connection dies while the session is
    recorded on the purchase: the buyer's next checkout gets that same session, not a 409 against themself."""
    stripe = HoldingProxy(stripe_double.api_base).start()
    try:
        shop = Shop(make_live(stripe_api_base=stripe.url))
        creator, buyer = shop.register(), shop.register(role="buyer")
        work = shop.minted_work(creator)
        held = stripe.hold(http_call("POST", "/v1/checkout/sessions"))
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(shop.checkout, buyer, work["id"])
            assert held.hit.wait(20), "the checkout never reached Stripe"
            reserved, = rows(Purchase)
            lock = RowLock(db_url, "purchase", reserved.id)
            try:
                held.let_through()
                terminate_when_waiting(db_url, "UPDATE purchase")
                r = pending.result(timeout=30)
            finally:
                lock.release()
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "database_unavailable"

        again = shop.checkout(buyer, work["id"])
        assert again.status_code == 201, again.text
        assert again.json()["purchase_id"] == reserved.id
        assert len(stripe_double.state.store.sessions) == 1  # the same session (idempotency key), not a second
        shop.hosted(again.json()["checkout_url"], "pay")
        shop.wait_purchase(buyer, reserved.id, "delivered")
    finally:
        stripe.stop()
    wait_until_settled()
    assert_consistent(chain, health=lambda: shop.client.get("/api/health").status_code)


def test_connection_killed_inside_the_webhook_transaction(make_live, db_url, chain):
    shop = Shop(make_live())
    creator, buyer = shop.register(), shop.register(role="buyer")
    work = shop.minted_work(creator)
    r = shop.checkout(buyer, work["id"])
    purchase_id = r.json()["purchase_id"]

    # checkout.session.completed moves the purchase to paid: that UPDATE waits on our lock, and dies
    lock = RowLock(db_url, "purchase", purchase_id)
    try:
        shop.hosted(r.json()["checkout_url"], "pay")
        terminate_when_waiting(db_url, "UPDATE purchase")
        event = shop.live.double.wait_for_event("checkout.session.completed")
        deadline = time.monotonic() + 20
        while not (shop.live.double.delivery(event["id"]) or {}).get("attempts"):
            assert time.monotonic() < deadline, "the webhook attempt never finished"
            time.sleep(0.02)
        first = shop.live.double.delivery(event["id"])["attempts"][0]
        assert first["status"] == 503, first
        assert '"database_unavailable"' in first["response_body"]
        assert rows(StripeEvent) == []  # the event is not recorded: it was not applied
        assert shop.purchase(buyer, purchase_id)["status"] == "pending"
    finally:
        lock.release()

    # the double retries and the purchase is paid, then delivered, once
    done = shop.wait_purchase(buyer, purchase_id, "delivered")
    assert done["wallet_address"] == buyer["wallet_address"]
    attempts = shop.live.double.delivery(event["id"])["attempts"]
    assert [a["ok"] for a in attempts][-1] is True
    assert [e.id for e in rows(StripeEvent) if e.type == "checkout.session.completed"] == [event["id"]]
    wait_until_settled()
    assert_consistent(chain, health=lambda: shop.client.get("/api/health").status_code)


@pytest.mark.parametrize("step", ["mint", "delivery"])
def test_connection_killed_while_a_worker_writes_its_transaction_ahead(step, make_live, anvil, db_url, chain):
    """A worker's connection dies while it claims and records a transaction (write-ahead): nothing is sent, no
    nonce is left behind as a gap (every later transaction of that key would wait behind it forever), and the
    next round mints or delivers once. (The mint worker claims, signs and writes ahead in one transaction: the
    connection dies at its claim.)"""
    node = HoldingProxy(anvil.rpc_url).start()
    try:
        shop = Shop(make_live(rpc_url=node.url, worker_lease_s=1.0))
        creator = shop.register()
        if step == "mint":
            work = shop.upload(creator).json()
            held = node.hold(rpc_method("eth_getTransactionCount"))  # the mint's nonce: after the claim
            assert shop.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
            table, row_id = "mint_job", None
        else:
            buyer = shop.register(role="buyer")
            work = shop.minted_work(creator)
            r = shop.checkout(buyer, work["id"])
            held = node.hold(rpc_method("eth_getTransactionCount"))  # the delivery's first nonce: after the claim
            shop.hosted(r.json()["checkout_url"], "pay")
            table, row_id = "purchase", r.json()["purchase_id"]
        assert held.hit.wait(20), "the worker never signed"
        row_id = row_id or rows(MintJob)[0].id
        lock = RowLock(db_url, table, row_id)
        try:
            held.let_through()
            terminate_when_waiting(db_url, f"UPDATE {table}")
        finally:
            lock.release()

        if step == "mint":
            shop.wait_for_status(work["id"], "minted", timeout=60)
        else:
            shop.wait_purchase(buyer, row_id, "delivered", timeout=60)
    finally:
        node.stop()
    wait_until_settled()
    assert_consistent(chain, health=lambda: shop.client.get("/api/health").status_code)


def test_backends_terminated_in_a_loop_while_requests_run(make_live, db_url, chain):
    shop = Shop(make_live(rate_limit_checkout="10000/minute"))  # the storm's buyers check out in a loop
    creator, buyers = shop.register(), [shop.register(role="buyer") for _ in range(2)]
    works = [shop.minted_work(creator, title=f"Storm {i}") for i in range(2)]

    stop = threading.Event()
    killed = []

    def storm():
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            while not stop.is_set():
                pids = [pid for (pid,) in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
                    (_dbname(db_url),)).fetchall()]
                for pid in pids:
                    if admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]:
                        killed.append(pid)
                time.sleep(0.005)

    statuses: list[int] = []

    def call(fn, *args, **kwargs):
        r = fn(*args, **kwargs)  # httpx raises on a hang (30 s timeout): never one here
        statuses.append(r.status_code)
        return r

    killer = threading.Thread(target=storm, daemon=True)
    killer.start()
    try:
        checkouts = {}
        deadline = time.monotonic() + 3
        i = 0
        while time.monotonic() < deadline:
            i += 1
            call(shop.client.get, "/api/works")
            call(shop.client.get, f"/api/works/{works[i % 2]['id']}")
            call(shop.client.get, "/api/me", headers=buyers[i % 2]["headers"])
            call(shop.client.post, "/api/auth/token",
                 data={"username": buyers[0]["email"], "password": buyers[0]["password"]})
            for buyer, work in zip(buyers, works, strict=True):
                if work["id"] not in checkouts:
                    r = call(shop.checkout, buyer, work["id"])
                    if r.status_code == 201:
                        checkouts[work["id"]] = (buyer, r.json())
                        call(shop.hosted, r.json()["checkout_url"], "pay")
    finally:
        stop.set()
        killer.join(10)
    assert killed, "no backend was terminated"
    unexpected = [s for s in statuses if s >= 500 and s != 503 or s in (401, 404)]
    assert not unexpected, f"answers other than a success or a 503: {sorted(set(statuses))}"

    # afterwards every reservation can be finished and paid, and everything settles
    for buyer, work in zip(buyers, works, strict=True):
        if work["id"] not in checkouts:
            r = shop.checkout(buyer, work["id"])
            assert r.status_code == 201, r.text
            checkouts[work["id"]] = (buyer, r.json())
            shop.hosted(r.json()["checkout_url"], "pay")
    for buyer, body in checkouts.values():
        shop.wait_purchase(buyer, body["purchase_id"], "delivered", timeout=60)
    assert {w.status for w in rows(Work)} == {"minted"}
    wait_until_settled(timeout=60)
    assert_consistent(chain, health=lambda: shop.client.get("/api/health").status_code)
