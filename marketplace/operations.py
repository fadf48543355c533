"""What operators watch: the request context middleware (request id, access log, request metrics), the readiness
checks behind /readyz, and the metrics read at scrape time (queue depth and failed jobs per job kind from the
tables, the platform signer's balance and its low-balance alarm). main wires them; no FastAPI here."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text

from marketplace.core import db
from marketplace.core.observability import (
    HTTP_LATENCY,
    HTTP_REQUESTS,
    SIGNER_LOW_BALANCE_ALARMS,
    redact,
)
from marketplace.integrations.adapters import Adapters
from marketplace.mail.models import MailOutbox, MailStatus
from marketplace.minting.models import MintJob, MintJobStatus
from marketplace.payments.models import Purchase, PurchaseStatus, TokenWithdrawal, WithdrawalStatus
from marketplace.payouts.models import Payout, PayoutStatus

log = logging.getLogger(__name__)
access_log = structlog.get_logger("marketplace.access")

READY_PARTS = ("database", "ipfs", "chain", "stripe")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# the checks' own threads: a hung dependency holds one of these, never the server's shared pool
_checks_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")


# --- the request context -----------------------------------------------------------------------------------------
def _route_template(scope: dict) -> str:
    """The matched route's template (/api/works/{work_id}), never the raw path: bounded label values."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path or "/"
    return "unmatched"


class RequestContext:
    """Pure ASGI, outermost: a request id (the client's X-Request-ID when it is a sane token, else a new one) bound
    to every log line of the request and echoed in the response; one access log line and the request metrics."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        request_id = request_id or uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-request-id", request_id.encode("latin-1"))]}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = _route_template(scope)
                method = scope.get("method", "")
                HTTP_REQUESTS.labels(method, route, str(status)).inc()
                HTTP_LATENCY.labels(method, route).observe(elapsed)
                access_log.info("request", method=method, path=scope.get("path", ""), route=route, status=status,
                                duration_ms=round(elapsed * 1000, 1))


# --- readiness ---------------------------------------------------------------------------------------------------
def _check_database(_adapters: Adapters) -> None:
    with db.get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def _check_ipfs(adapters: Adapters) -> None:
    adapters.ipfs.version()


def _check_chain(adapters: Adapters) -> None:
    chain = adapters.chain_or_raise()
    chain_id = chain.ping()
    expected = adapters.settings.chain_id
    if expected is not None and chain_id != expected:
        raise RuntimeError(f"the node is on chain {chain_id}, CHAIN_ID is {expected}")


def _check_stripe(adapters: Adapters) -> None:
    adapters.gateway.ping()


CHECKS: dict[str, Callable[[Adapters], None]] = {
    "database": _check_database, "ipfs": _check_ipfs, "chain": _check_chain, "stripe": _check_stripe}


def _error_text(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return redact(str(message))[:300]


async def readiness(adapters: Adapters, *, timeout_s: float) -> dict[str, str]:
    """Each part `ok` or its error, checked at once in the checks' own threads, each within timeout_s."""
    loop = asyncio.get_running_loop()

    async def one(name: str) -> tuple[str, str]:
        try:
            await asyncio.wait_for(loop.run_in_executor(_checks_pool, CHECKS[name], adapters), timeout_s)
        except TimeoutError:
            return name, f"no answer within {timeout_s:g} s"
        except Exception as exc:  # noqa: BLE001 (whatever a dependency raises is its readiness answer)
            return name, _error_text(exc)
        return name, "ok"

    return dict(await asyncio.gather(*(one(name) for name in READY_PARTS)))


# --- metrics read at scrape time ---------------------------------------------------------------------------------
# per job kind: (table, the statuses still to do, the statuses that failed for good, an extra condition on failed)
_QUEUES: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {
    "mint": (MintJob, (MintJobStatus.pending.value, MintJobStatus.submitted.value), (MintJobStatus.failed.value,)),
    "delivery": (Purchase, (PurchaseStatus.paid.value,), ()),
    "payout": (Payout, (PayoutStatus.pending.value, PayoutStatus.sending.value), (PayoutStatus.failed.value,)),
    "mail": (MailOutbox, (MailStatus.queued.value,), (MailStatus.failed.value,)),
    "withdrawal": (TokenWithdrawal, (WithdrawalStatus.pending.value,), (WithdrawalStatus.failed.value,)),
}


def job_counts() -> tuple[dict[str, int], dict[str, int]]:
    """(queue depth, failed) per job kind, read from the tables now. A delivery that failed for good is a
    purchase that was paid, tried, and refunded or failed."""
    depth: dict[str, int] = {}
    failed: dict[str, int] = {}
    with db.get_engine().connect() as conn:
        for kind, (model, todo, gone) in _QUEUES.items():
            table = model.__table__
            depth[kind] = conn.execute(select(func.count()).select_from(table)
                                       .where(table.c.status.in_(todo))).scalar_one()
            if kind == "delivery":
                where = (table.c.status.in_((PurchaseStatus.refunded.value, PurchaseStatus.failed.value))
                         & (table.c.delivery_attempts > 0))
            else:
                where = table.c.status.in_(gone)
            failed[kind] = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
    return depth, failed


class SignerBalance:
    """The platform signer's balance, read at most every `max_age_s`; below `low_wei` it is an alarm: a warning in
    the log (at most once per `alarm_every_s`), the low gauge at 1 and the alarms counter up."""

    def __init__(self, adapters: Adapters, *, low_wei: int, max_age_s: float = 10.0, alarm_every_s: float = 300.0):
        self.adapters = adapters
        self.low_wei = low_wei
        self.max_age_s = max_age_s
        self.alarm_every_s = alarm_every_s
        self._lock = threading.Lock()
        self._read_at = 0.0
        self._alarm_at: float | None = None
        self.wei: int | None = None

    def read(self) -> int | None:
        chain = self.adapters.chain
        if chain is None:
            return None
        with self._lock:
            now = time.monotonic()
            if self.wei is None or now - self._read_at >= self.max_age_s:
                self.wei = chain.eth_balance(chain.signer.address)
                self._read_at = now
                if self.wei < self.low_wei:
                    SIGNER_LOW_BALANCE_ALARMS.inc()
                    if self._alarm_at is None or now - self._alarm_at >= self.alarm_every_s:
                        self._alarm_at = now
                        log.warning("signer balance low: %s has %d wei, below SIGNER_LOW_BALANCE_WEI %d",
                                    chain.signer.address, self.wei, self.low_wei,
                                    extra={"alarm": "signer_low_balance", "signer": chain.signer.address,
                                           "balance_wei": self.wei, "threshold_wei": self.low_wei})
            return self.wei


class ScrapeCollector(Collector):
    """The gauges read when Prometheus scrapes: every process reads the same tables, so any API replica answers
    the same queue depths."""

    def __init__(self, adapters: Adapters, balance: SignerBalance) -> None:
        self.adapters = adapters
        self.balance = balance

    def describe(self) -> Iterable:
        return []

    def collect(self) -> Iterable:
        depth = GaugeMetricFamily("marketplace_queue_depth", "Jobs waiting or in flight, by job kind",
                                  labels=["kind"])
        failed = GaugeMetricFamily("marketplace_jobs_failed", "Jobs that failed for good, by job kind",
                                   labels=["kind"])
        try:
            depths, failures = job_counts()
        except Exception as exc:  # noqa: BLE001 (a scrape answers without the part it could not read)
            log.warning("metrics: the job tables could not be read: %s", exc)
        else:
            for kind in _QUEUES:
                depth.add_metric([kind], depths[kind])
                failed.add_metric([kind], failures[kind])
        yield depth
        yield failed
        balance = GaugeMetricFamily("marketplace_signer_balance_wei", "The platform signer's balance in wei")
        low = GaugeMetricFamily("marketplace_signer_balance_low",
                                "1 when the platform signer's balance is below SIGNER_LOW_BALANCE_WEI")
        try:
            wei = self.balance.read()
        except Exception as exc:  # noqa: BLE001 (a scrape answers without the part it could not read)
            log.warning("metrics: the signer's balance could not be read: %s", _error_text(exc))
            wei = None
        if wei is not None:
            balance.add_metric([], float(wei))
            low.add_metric([], 1.0 if wei < self.balance.low_wei else 0.0)
        yield balance
        yield low
