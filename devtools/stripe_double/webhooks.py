"""Webhook delivery, the way Stripe does it: signed POSTs from background workers, retried with backoff.

Signature: `Stripe-Signature: t=<unix ts>,v1=<hex HMAC-SHA256 of "<ts>.<raw body>" keyed with the secret>`,
re-signed at every attempt. A 2xx answer is a success; anything else (3xx included, as on Stripe), a timeout or a
connection error is a failure and is retried after `initial_delay * 2**(n-1)` seconds (capped at `max_delay`)
until `max_attempts` attempts. Deliveries are at least once and unordered, like Stripe's.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload`."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


@dataclass
class Attempt:
    number: int  # 1, 2, ... within its chain
    kind: str  # "automatic", "redeliver" or "duplicate"
    url: str
    started_at: float
    duration_ms: int
    status: int | None  # HTTP status, None on a connection error or timeout
    error: str | None
    response_body: str
    ok: bool


@dataclass
class Delivery:
    event_id: str
    type: str
    payload: bytes
    state: str = "pending"  # pending | retrying | delivered | failed | not_sent (no endpoint / type not enabled)
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: float | None = None
    queued: int = 0  # jobs in the queue for this event
    connect: bool = False  # a Connect event (it names a connected `account`)

    @property
    def delivered(self) -> bool:
        return any(a.ok for a in self.attempts)

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "delivered": self.delivered, "next_attempt_at": self.next_attempt_at,
                "attempts": [asdict(a) for a in self.attempts]}


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    event_id: str = field(compare=False)
    kind: str = field(compare=False)
    number: int = field(compare=False)
    retry: bool = field(compare=False)


class WebhookDispatcher:
    def __init__(
        self,
        *,
        url: str | None,
        secret: str,
        enabled_events: list[str] | None = None,
        initial_delay: float = 0.5,
        max_delay: float = 30.0,
        max_attempts: int = 8,
        timeout: float = 5.0,
        workers: int = 1,
        connect_url: str | None = None,
        connect_secret: str | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        # Stripe sends Connect events (those with `account`) to the platform's Connect endpoints, each with its own
        # secret; without a Connect endpoint here, they go to `url` like the others.
        self.connect_url = connect_url
        self.connect_secret = connect_secret
        self.enabled_events = list(enabled_events or ["*"])
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.workers = workers
        self.paused = False
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._seq = itertools.count()
        self._deliveries: dict[str, Delivery] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._in_flight = 0
        # No proxies (a proxy from the environment must not swallow localhost deliveries), no redirects.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            self._stopping = False
        for i in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"stripe-double-webhooks-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 1)
        self._threads.clear()

    def reset(self) -> None:
        with self._cond:
            self._queue.clear()
            self._deliveries.clear()
            self.paused = False
            self._cond.notify_all()

    # -- events in ----------------------------------------------------------------------------------------------

    def enqueue(self, event: dict[str, Any]) -> None:
        """Record the event and, when an endpoint listens for its type, queue its first delivery."""
        with self._cond:
            connect = bool(event.get("account"))
            wanted = self._target(connect)[0] is not None and self._enabled(event["type"])
            event["pending_webhooks"] = 1 if wanted else 0
            payload = json.dumps(event, indent=2).encode()
            delivery = Delivery(event_id=event["id"], type=event["type"], payload=payload,
                                state="pending" if wanted else "not_sent", connect=connect)
            self._deliveries[event["id"]] = delivery
            if wanted:
                self._push(delivery, kind="automatic", number=1, retry=True, delay=0.0)

    def _target(self, connect: bool) -> tuple[str | None, str]:
        """The endpoint and signing secret for an event (a Connect event's own, when one is set)."""
        if connect and self.connect_url:
            return self.connect_url, self.connect_secret or self.secret
        return self.url, self.secret

    def _enabled(self, event_type: str) -> bool:
        return any(p == "*" or p == event_type or (p.endswith(".*") and event_type.startswith(p[:-1]))
                   for p in self.enabled_events)

    def pending_webhooks(self, event_id: str) -> int:
        """Stripe's `pending_webhooks`: endpoints that have not yet acknowledged the event (0 or 1 here)."""
        with self._cond:
            delivery = self._deliveries.get(event_id)
            return 0 if delivery is None or delivery.state == "not_sent" or delivery.delivered else 1

    # -- test controls ------------------------------------------------------------------------------------------

    def configure(self, *, url: str | None = None, enabled_events: list[str] | None = None,
                  connect_url: str | None = None, connect_secret: str | None = None) -> None:
        with self._cond:
            if url is not None:
                self.url = url or None
            if connect_url is not None:
                self.connect_url = connect_url or None
            if connect_secret is not None:
                self.connect_secret = connect_secret or None
            if enabled_events is not None:
                self.enabled_events = list(enabled_events) or ["*"]

    def redeliver(self, event_id: str) -> bool:
        """Like "Resend" in Stripe's dashboard: a new delivery chain (with retries) for an event."""
        with self._cond:
            delivery = self._deliveries.get(event_id)
            if delivery is None or self._target(delivery.connect)[0] is None:
                return False
            if delivery.state == "not_sent":
                delivery.state = "pending"
            self._push(delivery, kind="redeliver", number=1, retry=True, delay=0.0)
            return True

    def duplicate(self, event_id: str, copies: int = 1) -> bool:
        """Send extra copies now (one attempt each), as Stripe's at-least-once delivery sometimes does."""
        with self._cond:
            delivery = self._deliveries.get(event_id)
            if delivery is None or self._target(delivery.connect)[0] is None:
                return False
            for _ in range(max(1, copies)):
                self._push(delivery, kind="duplicate", number=1, retry=False, delay=0.0)
            return True

    def pause(self) -> None:
        with self._cond:
            self.paused = True

    def resume(self, order: str = "fifo") -> None:
        """Resume; everything queued becomes due now, in `order`: fifo, reverse or shuffle (to test that the
        receiver copes with events arriving out of order)."""
        if order not in ("fifo", "reverse", "shuffle"):
            raise ValueError("order must be fifo, reverse or shuffle")
        with self._cond:
            jobs = sorted(self._queue, key=lambda j: j.seq)
            if order == "reverse":
                jobs.reverse()
            elif order == "shuffle":
                random.shuffle(jobs)
            now = time.monotonic()
            self._queue = [_Job(now, next(self._seq), j.event_id, j.kind, j.number, j.retry) for j in jobs]
            heapq.heapify(self._queue)
            for delivery in self._deliveries.values():
                if delivery.next_attempt_at is not None:
                    delivery.next_attempt_at = time.time()
            self.paused = False
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (retries scheduled later count as queued)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def deliveries(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            return {event_id: d.to_dict() for event_id, d in self._deliveries.items()}

    def delivery(self, event_id: str) -> dict[str, Any] | None:
        with self._cond:
            d = self._deliveries.get(event_id)
            return d.to_dict() if d else None

    def settings(self) -> dict[str, Any]:
        with self._cond:
            return {"url": self.url, "connect_url": self.connect_url,
                    "enabled_events": self.enabled_events, "paused": self.paused,
                    "initial_delay": self.initial_delay, "max_delay": self.max_delay,
                    "max_attempts": self.max_attempts, "timeout": self.timeout, "workers": self.workers,
                    "queued": len(self._queue), "in_flight": self._in_flight}

    # -- the workers --------------------------------------------------------------------------------------------

    def _push(self, delivery: Delivery, *, kind: str, number: int, retry: bool, delay: float) -> None:
        heapq.heappush(self._queue, _Job(time.monotonic() + delay, next(self._seq), delivery.event_id, kind,
                                         number, retry))
        delivery.queued += 1
        delivery.next_attempt_at = time.time() + delay
        self._cond.notify()

    def _work(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    now = time.monotonic()
                    if not self.paused and self._queue and self._queue[0].due <= now:
                        job = heapq.heappop(self._queue)
                        break
                    wait = None if self.paused or not self._queue else self._queue[0].due - now
                    self._cond.wait(wait)
                delivery = self._deliveries.get(job.event_id)
                if delivery is None:  # reset meanwhile
                    continue
                delivery.queued -= 1
                (url, secret), payload = self._target(delivery.connect), delivery.payload
                self._in_flight += 1
            attempt = self._post(url, payload, job, secret) if url else None
            with self._cond:
                self._in_flight -= 1
                if self._deliveries.get(job.event_id) is delivery and attempt is not None:
                    self._record(delivery, job, attempt)
                self._cond.notify_all()

    def _record(self, delivery: Delivery, job: _Job, attempt: Attempt) -> None:
        delivery.attempts.append(attempt)
        if attempt.ok:
            delivery.state = "delivered"
        elif job.retry and job.number < self.max_attempts:
            delay = min(self.initial_delay * 2 ** (job.number - 1), self.max_delay)
            if not delivery.delivered:
                delivery.state = "retrying"
            self._push(delivery, kind=job.kind, number=job.number + 1, retry=True, delay=delay)
            return
        elif not delivery.delivered and delivery.queued == 0:
            delivery.state = "failed"
        if delivery.queued == 0:
            delivery.next_attempt_at = None

    def _post(self, url: str, payload: bytes, job: _Job, secret: str) -> Attempt:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Accept": "*/*; q=0.5, application/xml",
            "Cache-Control": "no-cache",
            "Stripe-Signature": sign(payload, secret),
        }
        request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
        started, t0 = time.time(), time.monotonic()
        status: int | None = None
        error: str | None = None
        body = b""
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
                body = response.read(4096)
        except urllib.error.HTTPError as exc:
            status = exc.code
            try:
                body = exc.read(4096)
            except Exception:  # noqa: BLE001 - the body is informational only
                body = b""
        except Exception as exc:  # noqa: BLE001 - connection refused, timeout, reset: all are failed attempts
            error = f"{type(exc).__name__}: {exc}"
        return Attempt(
            number=job.number, kind=job.kind, url=url, started_at=started,
            duration_ms=int((time.monotonic() - t0) * 1000), status=status, error=error,
            response_body=body.decode("utf-8", "replace")[:1000], ok=status is not None and 200 <= status < 300)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - Stripe does not follow them
        return None
