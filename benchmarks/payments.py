"""4. Card purchases: paid purchases delivered per second, and the latency from Stripe's webhook to the token owned.

The real path end to end: the app (create_app) served by uvicorn in this process on a free port; the project's
Stripe double (`python -m devtools.stripe_double`) in its own process, as Stripe is remote: its webhooks
reach the app over HTTP, four at a time; the app's own DeliveryWorker moves the tokens on the section's anvil;
SQLite is the benchmark's temp database.

Setup (not timed): the section's own fresh anvil (`--prune-history 64`, see `_own_anvil`), CreativeWorks deployed; one creator and N works written straight into the database
as minted, their tokens minted on chain with `mintBatch` to the creator's custodial wallet (derived from
WALLET_SECRET, as the service does); N buyers as database rows (no Argon2 per buyer); N checkouts through
`POST /api/works/{id}/checkout` (the app opens each Stripe Checkout Session on the double).

1. Throughput, like for like. A backlog: N purchases paid (Pay pressed, every webhook recorded) while the delivery
   worker is held; timed from releasing it to the last token delivered (the database, polled every 10 ms). Bare
   limit, same anvil, same run: N tokens moved by locally signed `transferBatch` transactions of the worker's batch
   size (DELIVERY_BATCH_SIZE) from one key to fresh addresses (calldata as the chain client writes it, send all,
   then collect the receipts as plain JSON-RPC), measured before and after, the faster one counts.
   Context: the pipeline, timed from releasing the held webhooks of N paid sessions to the last delivery (bound
   by the webhooks the app takes in), against the batches and against N single `safeTransferFrom`s (same
   method); and the same N sales spread over 20 sellers.
2. Latency, one purchase at a time: Pay, then poll `ownerOf` every ~2 ms until the buyer owns the token. "Webhook"
   is when the double started POSTing the `checkout.session.completed` event to the app (its delivery record's
   `started_at`; the app answers within `duration_ms`, after recording the payment). Bare: one raw mint round trip
   (sign, send, poll the receipt every ~2 ms) from the minter key on the same anvil; a raw transfer round trip as
   context (the delivery is a transfer).

The delivery worker is profiled during the throughput run: the JSON-RPC calls it makes per delivery (by method),
its SQL statements and their time, and where its wall time goes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps

import httpx
import uvicorn
from sqlalchemy import event, text
from sqlmodel import Session, col, select
from web3 import Web3

from benchmarks.common import (
    ADMIN_KEY,
    RAW_KEY,
    BenchStack,
    Figure,
    RawSender,
    Timers,
    contract,
    deploy_creative_works,
    start_subprocess,
)
from benchmarks.mint_rate import _digests, _lean_receipts, _raw_cid
from devtools.anvil import AnvilNode, anvil_binary
from devtools.procs import REPO_ROOT, pick_free_port, stop_process, wait_until
from marketplace.accounts import wallets
from marketplace.accounts.models import Account, Role
from marketplace.accounts.security import create_access_token
from marketplace.catalog.models import SaleStatus, Work, WorkStatus
from marketplace.core.config import Settings
from marketplace.core.db import get_engine
from marketplace.integrations.chain.client import ZERO_ADDRESS, make_web3, transfer_batch_calldata, transfer_gas
from marketplace.main import create_app
from marketplace.payments.models import Purchase, PurchaseStatus
from marketplace.payments.webhooks import HANDLED_EVENTS

SECTION = "payments"
GOAL = ">= 0.8"
LATENCY_GOAL = "<= 1.5"
WEBHOOK_SECRET = "whsec_bench_payments_0000000000"
TRANSFER_GAS = 120_000  # what the delivery worker gives a safeTransferFrom
MINT_GAS = 200_000  # what the chain client gives a single mint
MINT_BATCH = 50
PAY_THREADS = 4
CHECKOUT_THREADS = 8
DB_POLL_S = 0.01
OWNER_POLL_S = 0.002
RUN_TIMEOUT_S = 180.0
SPREAD_SELLERS = 20  # the context run: the same number of sales spread over this many sellers
_FAILED = (PurchaseStatus.refunded.value, PurchaseStatus.failed.value, PurchaseStatus.expired.value)


# ------------------------------------------------------------------------------------------------ the live app
class _Server:
    """uvicorn in a daemon thread on an already bound socket (so the port is known before the app exists)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self.app = None

    def start(self, app) -> None:
        self.app = app
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                                    timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="bench-app", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(15)
        self.sock.close()


class _DoubleProcess:
    """The Stripe double in its own process, driven over HTTP (its hosted page and its `/_double/` controls).

    Stripe is a remote service: in this process the double's webhook signing and sending would take the app's
    interpreter lock and be counted as the app's time."""

    api_key = "sk_test_bench_payments_0000000000"  # the double takes any key with the test prefix

    def __init__(self, stack: BenchStack, *, webhook_url: str, cleanup: ExitStack) -> None:
        port = pick_free_port()
        self.api_base = self.public_url = f"http://127.0.0.1:{port}"
        log_path = stack.tmp / "logs" / "stripe-double-payments.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # like a production endpoint: subscribed to the events the app handles; Stripe delivers concurrently
        args = [sys.executable, "-m", "devtools.stripe_double", "--port", str(port),
                "--webhook-url", webhook_url, "--webhook-secret", WEBHOOK_SECRET,
                "--enabled-events", ",".join(HANDLED_EVENTS), "--retry-initial-delay", "0.2",
                "--retry-max-delay", "1", "--max-attempts", "6", "--delivery-workers", "4", "--log-level", "warning"]
        self.proc = start_subprocess(args, env=dict(os.environ), log_path=log_path, cwd=REPO_ROOT)
        cleanup.callback(self.stop)
        self.client = httpx.Client(base_url=self.api_base, timeout=60)

        def ready() -> bool:
            try:
                return self.client.get("/_double/health").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=30, what="the Stripe double", proc=self.proc, log=log_path)

    def control(self, path: str) -> dict:
        r = self.client.post(f"/_double/{path}")
        r.raise_for_status()
        return r.json()

    def events(self, type: str | None = None) -> list[dict]:
        """Each event with its webhook delivery record: `[{"event": ..., "delivery": ...}]`, oldest first."""
        r = self.client.get("/_double/events", params={"type": type} if type else None)
        r.raise_for_status()
        return r.json()["data"]

    def delivered_attempt(self, type: str, session_id: str, timeout: float = 10.0) -> dict:
        """The acknowledged webhook attempt of the `type` event of a Checkout Session."""
        deadline = time.monotonic() + timeout
        while True:
            for item in self.events(type):
                delivery = item["delivery"] or {}
                if item["event"]["data"]["object"]["id"] == session_id and delivery.get("delivered"):
                    return next(a for a in delivery["attempts"] if a["ok"])
            if time.monotonic() > deadline:
                raise RuntimeError(f"no delivered {type} webhook for {session_id} within {timeout} s")
            time.sleep(0.02)

    def stop(self) -> None:
        self.client.close()
        stop_process(self.proc)


# ------------------------------------------------------------------------------------------------ setup
def _own_anvil(stack: BenchStack, cleanup: ExitStack) -> BenchStack:
    """This section's own anvil, keeping the last 64 states in memory (`--prune-history 64`).

    The shared stack's anvil runs with a bare `--prune-history` (no past state at all): there an `eth_call` on
    `latest` right after a transaction races the block being mined and fails now and then with
    `BlockOutOfRangeError: block height is N but requested was N-1` (~2 % of reads after a send). The delivery
    worker does not survive that error well (see the report), so on that anvil this section measures a two-minute
    claim lease rather than the delivery path. Service and bare limit both run on this anvil."""
    port = pick_free_port()
    log_path = stack.tmp / "logs" / "anvil-payments.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), "--chain-id", "31337",
            "--prune-history", "64"]
    node = AnvilNode(port=port, proc=start_subprocess(args, env=dict(os.environ), log_path=log_path, cwd=REPO_ROOT),
                     log_path=log_path)
    cleanup.callback(node.stop)

    def ready() -> bool:
        try:
            return make_web3(node.rpc_url, timeout_s=1).eth.chain_id == 31337
        except Exception:  # noqa: BLE001 - not listening yet
            return False

    wait_until(ready, timeout=30, what="anvil (payments)", proc=node.proc, log=log_path)
    return dataclasses.replace(stack, anvil=node, w3=make_web3(node.rpc_url, timeout_s=60))


class _LogCount(logging.Handler):
    """Warnings and errors the delivery worker logs during the section (a failed iteration shows up here)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.records.append(text[:300])


@dataclass
class _Sale:
    work_id: int
    token_id: int
    buyer_id: int
    wallet: str
    purchase_id: int = 0
    session_id: str = ""


def _creator(secret: str, tag: str) -> tuple[int, str]:
    with Session(get_engine()) as session:
        account = Account(email=f"bench-pay-creator-{tag}@example.lu", display_name="Bench Seller",
                          role=Role.creator, password_hash="not-used")
        session.add(account)
        session.flush()
        account.custodial_address = wallets.custodial_address(secret, account.id)
        session.add(account)
        session.commit()
        return account.id, account.custodial_address


def _buyers(secret: str, n: int, tag: str) -> list[tuple[int, str]]:
    with Session(get_engine()) as session:
        accounts = [Account(email=f"bench-pay-buyer-{tag}-{i}@example.lu", display_name=f"Bench Buyer {i}",
                            role=Role.buyer, password_hash="not-used") for i in range(n)]
        session.add_all(accounts)
        session.flush()
        for a in accounts:
            a.custodial_address = wallets.custodial_address(secret, a.id)
        session.add_all(accounts)
        session.commit()
        return [(a.id, a.custodial_address) for a in accounts]


def _works(creator_id: int, owner: str, contract_address: str, chain_id: int, digests: list[bytes],
           tag: str) -> list[int]:
    """Works as the mint worker leaves them once confirmed: minted, listed, owned by the creator's wallet."""
    now = datetime.now(UTC)
    with Session(get_engine()) as session:
        works = [
            Work(title=f"Bench sale {tag} {i}", description="", discipline="digital-art", license="CC0-1.0",
                 price_cents=2500, royalty_bps=500, creator_id=creator_id, status=WorkStatus.minted,
                 sale_status=SaleStatus.available, media_cid=_raw_cid(d), media_mime="image/png", media_kind="image",
                 media_size=1, media_sha256=d.hex(), metadata_cid=_raw_cid(d), token_id=str(int.from_bytes(d, "big")),
                 contract_address=contract_address, chain_id=chain_id, owner_address=owner, minted_at=now)
            for i, d in enumerate(digests)
        ]
        session.add_all(works)
        session.flush()
        ids = [w.id for w in works]
        session.commit()
    return ids


def _mint_on_chain(stack: BenchStack, address: str, to_digests: list[tuple[str, bytes]]) -> None:
    cw = contract(stack.w3, address, "CreativeWorks")
    sender = RawSender(stack.w3, ADMIN_KEY)
    hashes = []
    for i in range(0, len(to_digests), MINT_BATCH):
        reqs = [(to, d, to, 500) for to, d in to_digests[i:i + MINT_BATCH]]
        raw, tx_hash = sender.sign(cw.address, cw.encode_abi("mintBatch", args=[reqs]), 80_000 + 110_000 * len(reqs))
        sender.send(raw)
        hashes.append(tx_hash)
    if not all(r["status"] == 1 for r in sender.receipts(hashes)):
        raise RuntimeError("setup: a mintBatch reverted")


CHECKOUT_BODY = {"accept_immediate_supply": True, "accept_license": True}  # what every checkout must say


def _checkouts(app_url: str, secret: str, sales: list[_Sale]) -> None:
    """One checkout per sale through the API (the app opens the Checkout Session on the double)."""
    with httpx.Client(base_url=app_url, timeout=60) as client:
        def one(sale: _Sale) -> None:
            token = create_access_token(account_id=sale.buyer_id, secret=secret, minutes=60)
            r = client.post(f"/api/works/{sale.work_id}/checkout", headers={"Authorization": f"Bearer {token}"},
                            json=CHECKOUT_BODY)
            if r.status_code != 201:
                raise RuntimeError(f"checkout of work {sale.work_id}: {r.status_code} {r.text[:300]}")
            body = r.json()
            sale.purchase_id = body["purchase_id"]
            sale.session_id = body["checkout_url"].rstrip("/").rsplit("/", 1)[-1]

        with ThreadPoolExecutor(CHECKOUT_THREADS) as pool:
            list(pool.map(one, sales))


def _pay(client: httpx.Client, session_id: str) -> None:
    r = client.post(f"/pay/{session_id}/pay", follow_redirects=False)
    if r.status_code != 303:
        raise RuntimeError(f"Pay on session {session_id}: {r.status_code} {r.text[:300]}")


_COUNT = text("SELECT sum(status = 'delivered'), sum(status IN ('refunded', 'failed', 'expired') "
              "OR refund_reason IS NOT NULL) FROM purchase WHERE id BETWEEN :lo AND :hi")


def _count_delivered(ids: list[int]) -> tuple[int, int]:
    """(delivered, failed) among purchases lo..hi: the throughput run polls this every 10 ms, in the process it
    measures, so it is one plain indexed statement (an ORM `IN (300 ids)` cost several ms of the app's GIL).
    The ids of one run are contiguous: the section's purchases are created in one go, nothing else makes any."""
    lo, hi = min(ids), max(ids)
    if hi - lo + 1 != len(ids):
        raise RuntimeError("the purchases to watch are not contiguous ids")
    with get_engine().connect() as conn:
        delivered, bad = conn.execute(_COUNT, {"lo": lo, "hi": hi}).one()
    return int(delivered or 0), int(bad or 0)


def _problem(ids: list[int]) -> str:
    with Session(get_engine()) as session:
        rows = session.exec(select(Purchase).where(col(Purchase.id).in_(ids), Purchase.status != "delivered")
                            .limit(3)).all()
    return "; ".join(f"#{p.id} {p.status} ({p.last_error or p.failure_reason or p.refund_reason})" for p in rows)


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# ------------------------------------------------------------------------------------------------ profiling
class _Profile:
    """What the delivery worker does: its methods' wall time, its JSON-RPC calls, its SQL statements.

    Only calls made on the worker's own thread count (the webhook handler and the benchmark share the engine)."""

    def __init__(self, worker) -> None:
        self.worker = worker
        self.timers = Timers(thread=worker.name)
        self.rpc = Timers(thread=worker.name)
        self.sql = Timers(thread=worker.name)
        self._undo: list = []

    def install(self) -> None:
        w, chain = self.worker, self.worker.chain
        for name in ("run_once", "reconcile_submitted", "deliver_batch", "refund_owed", "_claim", "_start_delivery",
                     "_settle_many", "_settle", "_retry_or_refund", "_seller_signer"):
            self.timers.wrap(w, name, f"worker.{name}")
        self.timers.wrap(w.custody, "ensure_gas", "worker.custody.ensure_gas")
        for name in ("owner_of", "fees", "eth_balance", "prepare_transfer_batch", "prepare_value_transfer", "send",
                     "wait_for_receipt", "find_transfer", "get_receipt"):
            self.timers.wrap(chain, name, f"chain.{name}")
        provider = chain.w3.provider
        make_request = provider.make_request
        rpc = self.rpc

        @wraps(make_request)
        def counted(method, params):
            if not rpc.counts_here():
                return make_request(method, params)
            t0 = time.perf_counter()
            try:
                return make_request(method, params)
            finally:
                rpc.add(str(method), time.perf_counter() - t0)

        provider.make_request = counted
        provider._request_func_cache = (None, None)  # web3 caches the middleware chain around make_request

        def undo_rpc():
            provider.__dict__.pop("make_request", None)
            provider._request_func_cache = (None, None)

        self._undo.append(undo_rpc)

        engine = get_engine()
        sql = self.sql

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["bench_t0"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            t0 = conn.info.pop("bench_t0", None)
            if t0 is not None and sql.counts_here():
                sql.add(statement.split(None, 1)[0].upper(), time.perf_counter() - t0)

        def commit(conn):
            if sql.counts_here():
                sql.add("COMMIT (count only)", 0.0)

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        event.listen(engine, "commit", commit)
        self._undo.append(lambda: (event.remove(engine, "before_cursor_execute", before),
                                   event.remove(engine, "after_cursor_execute", after),
                                   event.remove(engine, "commit", commit)))

    def uninstall(self) -> None:
        """Detach from the shared engine (the worker, its chain client and the app are thrown away anyway)."""
        while self._undo:
            self._undo.pop()()

    def reset(self) -> None:
        for t in (self.timers, self.rpc, self.sql):
            t.total.clear()
            t.calls.clear()

    def summary(self, deliveries: int) -> dict:
        rpc_calls = sum(self.rpc.calls.values())
        rpc_s = sum(self.rpc.total.values())
        sql_n = sum(n for k, n in self.sql.calls.items() if not k.startswith("COMMIT"))
        sql_s = sum(self.sql.total.values())
        t = self.timers.seconds
        busy = t("worker.run_once")
        return {
            "deliveries": deliveries,
            "worker_busy_s": round(busy, 3),
            "rpc_calls": rpc_calls,
            "rpc_calls_per_delivery": round(rpc_calls / deliveries, 2),
            "rpc_seconds": round(rpc_s, 3),
            "rpc_by_method": {k: {"calls": self.rpc.calls[k], "per_delivery": round(self.rpc.calls[k] / deliveries, 2),
                                  "ms_each": round(1000 * v / self.rpc.calls[k], 3)}
                              for k, v in sorted(self.rpc.total.items(), key=lambda kv: -kv[1])},
            "sql_statements": sql_n,
            "sql_statements_per_delivery": round(sql_n / deliveries, 2),
            "sql_commits_per_delivery": round(self.sql.calls.get("COMMIT (count only)", 0) / deliveries, 2),
            "sql_seconds": round(sql_s, 3),
            "sql_by_kind": {k: {"count": self.sql.calls[k], "seconds": round(v, 4)}
                            for k, v in sorted(self.sql.total.items())},
            "time_in": self.timers.as_json(),
            "topups": self.timers.calls.get("chain.prepare_value_transfer", 0),
        }


# ------------------------------------------------------------------------------------------------ measurements
def _run_service(double: _DoubleProcess, sales: list[_Sale], profile: _Profile, log) -> dict:
    """The buyers press Pay while the webhook endpoint is paused (not timed: that is the double's own hosted page);
    then the webhooks flow and the clock runs from the first webhook to the last token delivered."""
    ids = [s.purchase_id for s in sales]
    n = len(sales)
    double.control("webhooks/pause")
    c0 = time.perf_counter()
    with httpx.Client(base_url=double.public_url, timeout=60) as client, ThreadPoolExecutor(PAY_THREADS) as pool:
        for f in [pool.submit(_pay, client, s.session_id) for s in sales]:
            f.result()  # a failed Pay is a broken part
    clicks_done = time.perf_counter() - c0
    profile.reset()
    wall0 = datetime.now(UTC)
    t0 = time.perf_counter()
    double.control("webhooks/resume")
    while True:
        delivered, bad = _count_delivered(ids)
        if delivered == n:
            break
        if bad:
            raise RuntimeError(f"payments: {bad} purchase(s) failed: {_problem(ids)}")
        if time.perf_counter() - t0 > RUN_TIMEOUT_S:
            raise RuntimeError(f"payments: {delivered}/{n} delivered after {RUN_TIMEOUT_S} s: {_problem(ids)}")
        time.sleep(DB_POLL_S)
    elapsed = time.perf_counter() - t0
    with Session(get_engine()) as session:
        rows = session.exec(select(Purchase.paid_at, Purchase.delivered_at, Purchase.delivery_tx_hash)
                            .where(col(Purchase.id).in_(ids))).all()
    paid = sorted((_utc(p) - wall0).total_seconds() for p, _, _ in rows)
    done = sorted((_utc(d) - wall0).total_seconds() for _, d, _ in rows)
    lag = [(_utc(d) - _utc(p)).total_seconds() for p, d, _ in rows]
    return {
        "n": n, "seconds": elapsed, "per_s": n / elapsed, "pay_clicks_done_s": round(clicks_done, 3),
        "last_paid_s": round(paid[-1], 3), "last_delivered_s": round(done[-1], 3),
        "paid_to_delivered_ms": {"p50": round(1000 * statistics.median(lag), 1),
                                 "max": round(1000 * max(lag), 1)},
        "transactions": len({h for _, _, h in rows}),
        "worker": profile.summary(n),
    }


def _run_raw(stack: BenchStack, address: str, tokens: list[int], recipients: list[str]) -> dict:
    cw = contract(stack.w3, address, "CreativeWorks")
    sender = RawSender(stack.w3, RAW_KEY)
    t0 = time.perf_counter()
    hashes = []
    for token, to in zip(tokens, recipients, strict=True):
        raw, tx_hash = sender.sign(cw.address, cw.encode_abi("safeTransferFrom", args=[sender.address, to, token]),
                                   TRANSFER_GAS)
        sender.send(raw)
        hashes.append(tx_hash)
    receipts = sender.receipts(hashes)
    elapsed = time.perf_counter() - t0
    ok = sum(r["status"] == 1 for r in receipts)
    if ok != len(tokens):
        raise RuntimeError(f"raw transfers: {ok}/{len(tokens)} succeeded")
    return {"n": len(tokens), "seconds": elapsed, "per_s": len(tokens) / elapsed}


_PAID = text("SELECT count(*) FROM purchase WHERE id BETWEEN :lo AND :hi AND status = 'paid'")


def _run_backlog(double: _DoubleProcess, sales: list[_Sale], profile: _Profile, worker, log) -> dict:
    """Delivery alone, like for like with raw transferBatch transactions: the delivery worker is held (its run_once
    waits on a gate) while the buyers press Pay and every webhook is recorded, so N purchases wait `paid`; then
    the clock runs from opening the gate to the last token delivered (the database, polled every 10 ms)."""
    ids = [s.purchase_id for s in sales]
    n = len(sales)
    lo, hi = min(ids), max(ids)
    gate = threading.Event()
    timed_run_once = worker.run_once  # as the profile wrapped it

    def gated() -> int:
        gate.wait()
        return timed_run_once()

    worker.run_once = gated
    try:
        with httpx.Client(base_url=double.public_url, timeout=60) as client, ThreadPoolExecutor(PAY_THREADS) as pool:
            for f in [pool.submit(_pay, client, s.session_id) for s in sales]:
                f.result()
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while True:
            with get_engine().connect() as conn:
                paid = conn.execute(_PAID, {"lo": lo, "hi": hi}).scalar_one()
            if paid == n:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"backlog: {paid}/{n} purchases paid after {RUN_TIMEOUT_S} s")
            time.sleep(DB_POLL_S)
        profile.reset()
        t0 = time.perf_counter()
        gate.set()
        worker.wake()
        while True:
            delivered, bad = _count_delivered(ids)
            if delivered == n:
                break
            if bad:
                raise RuntimeError(f"backlog: {bad} purchase(s) failed: {_problem(ids)}")
            if time.perf_counter() - t0 > RUN_TIMEOUT_S:
                raise RuntimeError(f"backlog: {delivered}/{n} delivered after {RUN_TIMEOUT_S} s: {_problem(ids)}")
            time.sleep(DB_POLL_S)
        elapsed = time.perf_counter() - t0
        idle_by = time.monotonic() + 5  # let the worker finish its iteration, so its profile is complete
        while not profile.timers.calls.get("worker.run_once") and time.monotonic() < idle_by:
            time.sleep(DB_POLL_S)
    finally:
        worker.run_once = timed_run_once
        gate.set()
    with Session(get_engine()) as session:
        hashes = session.exec(select(Purchase.delivery_tx_hash).where(col(Purchase.id).in_(ids))).all()
    return {"n": n, "seconds": elapsed, "per_s": n / elapsed, "transactions": len(set(hashes)),
            "worker": profile.summary(n)}


def _run_raw_batches(stack: BenchStack, address: str, tokens: list[int], recipients: list[str], batch: int) -> dict:
    """The bare limit of batched delivery: `transferBatch`es of `batch` tokens signed by their owner (the raw key)
    to fresh addresses, calldata as the chain client writes it, send all, then collect the receipts as plain
    JSON-RPC."""
    sender = RawSender(stack.w3, RAW_KEY)
    moves = list(zip(tokens, recipients, strict=True))
    t0 = time.perf_counter()
    hashes = []
    for i in range(0, len(moves), batch):
        group = moves[i:i + batch]
        data = transfer_batch_calldata([(sender.address, to, token) for token, to in group])
        raw, tx_hash = sender.sign(Web3.to_checksum_address(address), "0x" + data.hex(), transfer_gas(len(group)))
        sender.send(raw)
        hashes.append(tx_hash)
    receipts = _lean_receipts(stack.w3, hashes)
    elapsed = time.perf_counter() - t0
    ok = sum(int(r["status"], 16) == 1 for r in receipts)
    if ok != len(hashes):
        raise RuntimeError(f"raw transferBatch: {ok}/{len(hashes)} succeeded")
    return {"n": len(tokens), "batch_size": batch, "seconds": elapsed, "per_s": len(tokens) / elapsed,
            "transactions": len(hashes)}


class _Rpc:
    """Bare JSON-RPC over one keep-alive connection: polling costs ~1 ms of Python, not web3's ~9 ms per
    contract call, so the poller steals little of the GIL from the app it measures (same process)."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)
        self._id = 0

    def call(self, method: str, params: list):
        self._id += 1
        body = self.client.post("", json={"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}).json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    def owner_of(self, contract_address: str, token_id: int) -> str | None:
        data = _OWNER_OF + token_id.to_bytes(32, "big").hex()
        self._id += 1
        body = self.client.post("", json={"jsonrpc": "2.0", "id": self._id, "method": "eth_call",
                                          "params": [{"to": contract_address, "data": data}, "latest"]}).json()
        result = body.get("result")
        return Web3.to_checksum_address("0x" + result[-40:]) if result and len(result) >= 66 else None

    def wait_receipt(self, tx_hash: str, timeout_s: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            receipt = self.call("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return receipt
            if time.monotonic() > deadline:
                raise RuntimeError(f"no receipt for {tx_hash}")
            time.sleep(OWNER_POLL_S)

    def close(self) -> None:
        self.client.close()


_OWNER_OF = "0x" + Web3.keccak(text="ownerOf(uint256)")[:4].hex()


def _raw_round_trips(stack: BenchStack, key: str, calls: list[tuple[str, str, int]], what: str) -> list[float]:
    """One raw transaction at a time (to, data, gas): sign, send, poll the receipt every ~2 ms; ms each."""
    sender = RawSender(stack.w3, key)
    rpc = _Rpc(stack.rpc_url)
    out = []
    try:
        for to, data, gas in calls:
            t0 = time.perf_counter()
            raw, tx_hash = sender.sign(to, data, gas)
            sender.send(raw)
            receipt = rpc.wait_receipt(tx_hash)
            out.append(1000 * (time.perf_counter() - t0))
            if int(receipt["status"], 16) != 1:
                raise RuntimeError(f"raw {what} {tx_hash} reverted")
    finally:
        rpc.close()
    return out


def _raw_latency(stack: BenchStack, address: str, tokens: list[int], recipients: list[str]) -> list[float]:
    """Raw safeTransferFrom round trips from the raw key (which holds the tokens)."""
    cw = contract(stack.w3, address, "CreativeWorks")
    me = RawSender(stack.w3, RAW_KEY).address
    return _raw_round_trips(stack, RAW_KEY, [
        (cw.address, cw.encode_abi("safeTransferFrom", args=[me, to, token]), TRANSFER_GAS)
        for token, to in zip(tokens, recipients, strict=True)], "transfer")


def _raw_mint_latency(stack: BenchStack, address: str, digests: list[bytes]) -> list[float]:
    """Raw mint round trips from the minter key, each to a fresh owner, no royalty."""
    cw = contract(stack.w3, address, "CreativeWorks")
    return _raw_round_trips(stack, ADMIN_KEY, [
        (cw.address, cw.encode_abi("mint", args=[Web3.to_checksum_address("0x" + os.urandom(20).hex()), d,
                                                 ZERO_ADDRESS, 0]), MINT_GAS)
        for d in digests], "mint")


def _service_latency(stack: BenchStack, address: str, double: _DoubleProcess, sales: list[_Sale]) -> dict:
    """One purchase at a time: Pay, then poll ownerOf every ~2 ms until the buyer owns the token."""
    from_webhook, from_ack, from_click = [], [], []
    rpc = _Rpc(stack.rpc_url)
    with httpx.Client(base_url=double.public_url, timeout=60) as client:
        for sale in sales:
            t_click = time.time()
            _pay(client, sale.session_id)
            deadline = time.monotonic() + 30
            while rpc.owner_of(address, sale.token_id) != sale.wallet:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"latency: token of purchase {sale.purchase_id} not delivered in 30 s: "
                                       f"{_problem([sale.purchase_id])}")
                time.sleep(OWNER_POLL_S)
            t_owned = time.time()
            attempt = double.delivered_attempt("checkout.session.completed", sale.session_id)
            from_webhook.append(1000 * (t_owned - attempt["started_at"]))
            from_ack.append(1000 * (t_owned - attempt["started_at"]) - attempt["duration_ms"])
            from_click.append(1000 * (t_owned - t_click))
            # one at a time: let the worker settle this one (database) before the next Pay
            deadline = time.monotonic() + 30
            while _count_delivered([sale.purchase_id])[0] != 1:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"latency: purchase {sale.purchase_id} not settled: {_problem([sale.purchase_id])}")
                time.sleep(DB_POLL_S)
    rpc.close()
    return {"webhook_to_owned_ms": from_webhook, "ack_to_owned_ms": from_ack, "click_to_owned_ms": from_click}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def _stats(values: list[float]) -> dict:
    return {"p50": round(_pct(values, 50), 2), "p95": round(_pct(values, 95), 2), "min": round(min(values), 2),
            "max": round(max(values), 2), "samples": [round(v, 2) for v in values]}


# ------------------------------------------------------------------------------------------------ the section
def run(stack: BenchStack, *, quick: bool, log=print) -> tuple[list[Figure], dict]:
    n = 40 if quick else 300
    n_lat = 10 if quick else 30
    tag = os.urandom(4).hex()

    with ExitStack() as cleanup:
        t_setup = time.perf_counter()
        stack = _own_anvil(stack, cleanup)
        address = deploy_creative_works(stack.rpc_url)
        chain_id = stack.w3.eth.chain_id
        raw_address = RawSender(stack.w3, RAW_KEY).address
        worker_log = _LogCount()
        delivery_logger = logging.getLogger("marketplace.payments.delivery")
        delivery_logger.addHandler(worker_log)
        cleanup.callback(delivery_logger.removeHandler, worker_log)
        server = _Server()
        cleanup.callback(server.stop)
        double = _DoubleProcess(stack, webhook_url=f"{server.url}/api/stripe/webhook", cleanup=cleanup)
        settings = Settings(
            _env_file=None, env="test", data_dir=stack.tmp / "payments", database_url=stack.db_url,
            rpc_url=stack.rpc_url, ipfs_api_url=stack.ipfs.api_addr, contract_address=address,
            public_base_url=server.url, run_mint_worker=False, run_delivery_worker=True,
            stripe_api_base=double.api_base, stripe_api_key=double.api_key, stripe_webhook_secret=WEBHOOK_SECRET,
            rate_limit_checkout_address="1000000/minute",  # every checkout comes from this one address
        )
        wallet_secret = settings.wallet_secret.get_secret_value()
        auth_secret = settings.auth_secret.get_secret_value()

        # the goods: works minted to the creator's custodial wallet; tokens for the raw sender
        creator_id, creator_wallet = _creator(wallet_secret, tag)
        sellers = [_creator(wallet_secret, f"{tag}-{k}") for k in range(SPREAD_SELLERS)]
        service_digests = _digests(n + n_lat)
        spread_digests = _digests(n)
        raw_digests = _digests(2 * n + n_lat)
        backlog_digests = _digests(n)
        raw_batch_digests = _digests(2 * n)
        spread_owner = [sellers[i % SPREAD_SELLERS] for i in range(n)]  # round robin: every batch mixes sellers
        _mint_on_chain(stack, address, [(creator_wallet, d) for d in service_digests + backlog_digests]
                       + [(wallet, d) for (_, wallet), d in zip(spread_owner, spread_digests, strict=True)]
                       + [(raw_address, d) for d in raw_digests + raw_batch_digests])
        work_ids = _works(creator_id, creator_wallet, address, chain_id, service_digests, tag)
        backlog_work_ids = _works(creator_id, creator_wallet, address, chain_id, backlog_digests, f"{tag}-backlog")
        spread_work = {}
        for k, (seller_id, wallet) in enumerate(sellers):
            mine = [i for i in range(n) if i % SPREAD_SELLERS == k]
            ids = _works(seller_id, wallet, address, chain_id, [spread_digests[i] for i in mine], f"{tag}-{k}")
            spread_work.update(zip(mine, ids, strict=True))
        buyers = _buyers(wallet_secret, 3 * n + n_lat, tag)
        sales = [_Sale(work_id=w, token_id=int.from_bytes(d, "big"), buyer_id=b, wallet=wallet)
                 for w, d, (b, wallet) in zip(work_ids, service_digests, buyers[:n + n_lat], strict=True)]
        spread = [_Sale(work_id=spread_work[i], token_id=int.from_bytes(d, "big"), buyer_id=b, wallet=wallet)
                  for i, (d, (b, wallet)) in enumerate(zip(spread_digests, buyers[n + n_lat:2 * n + n_lat],
                                                           strict=True))]
        backlog = [_Sale(work_id=w, token_id=int.from_bytes(d, "big"), buyer_id=b, wallet=wallet)
                   for w, d, (b, wallet) in zip(backlog_work_ids, backlog_digests, buyers[2 * n + n_lat:], strict=True)]
        raw_tokens = [int.from_bytes(d, "big") for d in raw_digests]
        raw_recipients = [Web3.to_checksum_address("0x" + os.urandom(20).hex()) for _ in raw_tokens]
        raw_batch_tokens = [int.from_bytes(d, "big") for d in raw_batch_digests]
        raw_batch_recipients = [Web3.to_checksum_address("0x" + os.urandom(20).hex()) for _ in raw_batch_tokens]
        delivery_batch = settings.delivery_batch_size

        server.start(create_app(settings))
        services = server.app.state.services
        if services.delivery is None:
            raise RuntimeError("the app started without its delivery worker")
        profile = _Profile(services.delivery)
        profile.install()
        cleanup.callback(profile.uninstall)
        for group in (sales[:n], spread, backlog, sales[n:]):  # one after the other: each run's ids are contiguous
            _checkouts(server.url, auth_secret, group)
        setup_s = time.perf_counter() - t_setup
        log(f"  setup: {3 * n + n_lat} works minted and checked out, "
            f"{len(raw_tokens) + len(raw_batch_tokens)} raw tokens, "
            f"in {setup_s:.1f} s")

        # 1. throughput: raw, service, raw again (the faster raw run counts)
        raw_runs = [_run_raw(stack, address, raw_tokens[:n], raw_recipients[:n])]
        log(f"  raw safeTransferFrom txs: {n} in {raw_runs[0]['seconds']:.2f} s = {raw_runs[0]['per_s']:.0f}/s")
        service = _run_service(double, sales[:n], profile, log)
        service["webhooks"] = _webhook_stats(double)
        service["worker_warnings"] = {"count": len(worker_log.records), "first": worker_log.records[:5]}
        if worker_log.records:
            log(f"  delivery worker logged {len(worker_log.records)} warning(s)/error(s), first: "
                f"{worker_log.records[0]}")
        w = service["worker"]
        log(f"  paid purchases -> delivered: {n} in {service['seconds']:.2f} s = {service['per_s']:.1f}/s "
            f"(Pay clicks before the clock: {service['pay_clicks_done_s']:.2f} s; last paid {service['last_paid_s']:.2f} s, "
            f"last delivered {service['last_delivered_s']:.2f} s; {w['rpc_calls_per_delivery']:.1f} RPC calls and "
            f"{w['sql_statements_per_delivery']:.1f} SQL statements per delivery)")
        raw_runs.append(_run_raw(stack, address, raw_tokens[n:2 * n], raw_recipients[n:2 * n]))
        log(f"  raw safeTransferFrom txs (again): {n} in {raw_runs[1]['seconds']:.2f} s = {raw_runs[1]['per_s']:.0f}/s")
        raw = max(raw_runs, key=lambda r: r["per_s"])
        spread_run = _run_service(double, spread, profile, log)
        log(f"  the same over {SPREAD_SELLERS} sellers (round robin): {n} in {spread_run['seconds']:.2f} s = "
            f"{spread_run['per_s']:.1f}/s in {spread_run['transactions']} transactions")
        # delivery alone, like for like: a backlog of paid purchases against raw transferBatch txs of the same size
        raw_batch_runs = [_run_raw_batches(stack, address, raw_batch_tokens[:n], raw_batch_recipients[:n],
                                           delivery_batch)]
        backlog_run = _run_backlog(double, backlog, profile, services.delivery, log)
        raw_batch_runs.append(_run_raw_batches(stack, address, raw_batch_tokens[n:], raw_batch_recipients[n:],
                                               delivery_batch))
        raw_batch = max(raw_batch_runs, key=lambda r: r["per_s"])
        log(f"  backlog of {n} paid purchases -> delivered: {backlog_run['seconds']:.2f} s = "
            f"{backlog_run['per_s']:.0f}/s in {backlog_run['transactions']} transactions; raw transferBatch("
            f"{delivery_batch}) txs: " + ", ".join(f"{r['per_s']:.0f}/s" for r in raw_batch_runs))

        # 2. latency, one purchase at a time
        profile.reset()
        lat = _service_latency(stack, address, double, sales[n:])
        lat_worker = profile.summary(n_lat)
        raw_lat = _raw_latency(stack, address, raw_tokens[2 * n:], raw_recipients[2 * n:])
        mint_lat = _raw_mint_latency(stack, address, _digests(n_lat))
        s_hook, s_click, s_raw = _stats(lat["webhook_to_owned_ms"]), _stats(lat["click_to_owned_ms"]), _stats(raw_lat)
        s_mint = _stats(mint_lat)
        log(f"  latency webhook -> owned: p50 {s_hook['p50']:.1f} ms, p95 {s_hook['p95']:.1f} ms; Pay click -> owned "
            f"p50 {s_click['p50']:.1f} ms; raw mint round trip p50 {s_mint['p50']:.1f} ms, p95 {s_mint['p95']:.1f} ms; "
            f"raw transfer round trip p50 {s_raw['p50']:.1f} ms, p95 {s_raw['p95']:.1f} ms")

    figures = [
        Figure(SECTION, f"paid purchases delivered/s vs raw transferBatch({delivery_batch}) txs (like for like)",
               backlog_run["per_s"], raw_batch["per_s"], unit="/s", goal=GOAL,
               note=f"n={n} paid purchases of one seller waiting, delivery worker released; "
                    f"{backlog_run['transactions']} delivery txs, {raw_batch['transactions']} raw; raw best of 2"),
        Figure(SECTION, f"webhooks -> delivered/s vs raw transferBatch({delivery_batch}) txs", service["per_s"],
               raw_batch["per_s"], unit="/s",
               note=f"context: n={n} sales paid (Pay pressed, webhooks held), then webhooks released -> all "
                    "delivered; bound by the webhooks the app takes in"),
        Figure(SECTION, "webhooks -> delivered/s vs raw safeTransferFrom txs/s", service["per_s"], raw["per_s"],
               unit="/s", note="context: single raw transfers, best of 2"),
        Figure(SECTION, f"same, sales spread over {SPREAD_SELLERS} sellers, vs raw safeTransferFrom txs/s",
               spread_run["per_s"], raw["per_s"], unit="/s",
               note=f"context: each seller's first sales from its own wallet (+ gas top-up, operator approval), "
                    f"later ones in the platform's shared transactions; {spread_run['transactions']} delivery txs "
                    f"for {n}"),
        Figure(SECTION, "latency p50, webhook -> token owned vs raw mint round trip", s_hook["p50"],
               s_mint["p50"], unit="ms", goal=LATENCY_GOAL, note=f"{n_lat} sequential purchases; {n_lat} raw mints"),
        Figure(SECTION, "latency p95, webhook -> token owned vs raw mint round trip", s_hook["p95"],
               s_mint["p95"], unit="ms"),
        Figure(SECTION, "latency p50, webhook -> token owned vs raw transfer round trip", s_hook["p50"],
               s_raw["p50"], unit="ms", note="context: the delivery is a transfer"),
        Figure(SECTION, "latency p50, Pay click -> token owned vs raw mint round trip", s_click["p50"],
               s_mint["p50"], unit="ms", note="context: a Pay makes 4 events on the double, 1 is sent (enabled events)"),
    ]
    details = {
        "n": n, "latency_samples": n_lat, "setup_seconds": round(setup_s, 2),
        "service": service, "raw_transfers": raw_runs, "backlog": backlog_run, "raw_transfer_batches": raw_batch_runs,
        "spread_over_sellers": {"sellers": SPREAD_SELLERS, **spread_run},
        "latency_worker": lat_worker,
        "latency": {"webhook_to_owned_ms": s_hook, "ack_to_owned_ms": _stats(lat["ack_to_owned_ms"]),
                    "click_to_owned_ms": s_click, "raw_round_trip_ms": s_raw, "raw_mint_round_trip_ms": s_mint,
                    "webhook_time": "the double's delivery attempt started_at for checkout.session.completed "
                                    "(ack = started_at + duration_ms, after the app recorded the payment)"},
    }
    return figures, details


def _webhook_stats(double: _DoubleProcess) -> dict:
    """How the double's webhook deliveries went: attempts, failures, the app's response time."""
    deliveries = [item["delivery"] for item in double.events() if item["delivery"]]
    attempts = [a for d in deliveries for a in d["attempts"]]
    durations = [a["duration_ms"] for a in attempts]
    return {"events": len(deliveries), "attempts": len(attempts), "failed_attempts": sum(not a["ok"] for a in attempts),
            "response_ms": {"mean": round(statistics.fmean(durations), 2) if durations else None,
                            "p95": round(_pct(durations, 95), 2) if durations else None},
            "busy_s": round(sum(durations) / 1000, 3)}
