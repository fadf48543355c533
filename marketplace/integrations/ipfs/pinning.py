"""The IPFS Pinning Service API (the one Pinata, Filebase and Kubo's `ipfs pin remote` speak): what this node adds
is also pinned by a pinning service, so production media are replicated beyond our own node.

- PinningService: the wire client (POST /pins, GET /pins?cid=, GET /pins/{requestid}; `Authorization: Bearer`).
- RemotePinner: after every add, the CID is queued here and pinned remotely by one background thread, with
  retries and backoff; an upload never waits for the service, and a service that is away or refuses is reported
  (a warning per failed attempt, an error when it gives up, the metrics) while the content stays on our node.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import requests
from prometheus_client import Counter, Gauge

from marketplace.core.observability import REGISTRY

log = logging.getLogger(__name__)

PIN_STATUSES = ("queued", "pinning", "pinned", "failed")
REMOTE_PINS = Counter("marketplace_remote_pins", "CIDs the pinning service reported pinned", registry=REGISTRY)
REMOTE_PIN_FAILURES = Counter("marketplace_remote_pin_failures",
                              "Failed attempts to pin a CID at the pinning service (each retried until the last)",
                              ["final"], registry=REGISTRY)
REMOTE_PIN_PENDING = Gauge("marketplace_remote_pin_pending", "CIDs waiting to be pinned at the pinning service",
                           registry=REGISTRY)


class PinningServiceError(Exception):
    pass


@dataclass(frozen=True)
class PinStatus:
    requestid: str
    status: str  # one of PIN_STATUSES
    cid: str

    @classmethod
    def from_json(cls, body: dict) -> PinStatus:
        status = body.get("status")
        if status not in PIN_STATUSES or not isinstance(body.get("requestid"), str):
            raise PinningServiceError(f"not a PinStatus: {str(body)[:200]}")
        return cls(requestid=body["requestid"], status=status, cid=str((body.get("pin") or {}).get("cid", "")))


class PinningService:
    """One pinning service endpoint (IPFS_PINNING_SERVICE_URL, with IPFS_PINNING_SERVICE_TOKEN)."""

    def __init__(self, url: str, token: str, *, timeout_s: float = 10.0, origins: list[str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.origins = origins or []
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"

    def _request(self, method: str, path: str, **kwargs) -> dict:
        try:
            r = self._session.request(method, f"{self.url}{path}", timeout=self.timeout_s, **kwargs)
        except requests.RequestException as exc:
            raise PinningServiceError(f"pinning service unreachable: {type(exc).__name__}") from exc
        if r.status_code >= 400:
            try:
                reason = r.json()["error"]["reason"]
            except (ValueError, KeyError, TypeError):
                reason = r.reason
            raise PinningServiceError(f"pinning service answered {r.status_code}: {reason}")
        try:
            return r.json()
        except ValueError as exc:
            raise PinningServiceError("pinning service answered no JSON") from exc

    def add(self, cid: str, *, name: str | None = None) -> PinStatus:
        body: dict = {"cid": cid}
        if name:
            body["name"] = name[:255]
        if self.origins:
            body["origins"] = self.origins
        return PinStatus.from_json(self._request("POST", "/pins", json=body))

    def find(self, cid: str) -> PinStatus | None:
        """The service's most recent pin request of `cid` (any status), or None."""
        body = self._request("GET", "/pins", params={"cid": cid, "status": ",".join(PIN_STATUSES), "limit": 1})
        results = body.get("results") or []
        return PinStatus.from_json(results[0]) if results else None

    def get(self, requestid: str) -> PinStatus:
        return PinStatus.from_json(self._request("GET", f"/pins/{requestid}"))


class RemotePinner:
    """Pins every queued CID at the service, in one daemon thread: POST /pins unless the service already has it,
    then follows queued/pinning to pinned; `failed` or an error is retried after a backoff doubling from
    `backoff_s`, `max_attempts` times, then given up on (logged as an error)."""

    def __init__(self, service: PinningService, *, max_attempts: int = 8, backoff_s: float = 1.0,
                 poll_s: float = 1.0, max_backoff_s: float = 300.0) -> None:
        self.service = service
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.poll_s = poll_s
        self.max_backoff_s = max_backoff_s
        self._queue: deque[tuple[float, str, int, str | None]] = deque()  # (not before, cid, attempts, requestid)
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = False
        self.pinned: set[str] = set()
        self.given_up: set[str] = set()

    def submit(self, cid: str) -> None:
        with self._cond:
            if cid in self.pinned or any(item[1] == cid for item in self._queue):
                return
            self._queue.append((0.0, cid, 0, None))
            REMOTE_PIN_PENDING.inc()
            self._cond.notify()
        self._start()

    def pending(self) -> list[str]:
        with self._cond:
            return [item[1] for item in self._queue]

    def _start(self) -> None:
        with self._cond:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(target=self._loop, name="remote-pinner", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5)

    def _next(self) -> tuple[float, str, int, str | None] | None:
        with self._cond:
            while not self._stop:
                now = time.monotonic()
                ready = [item for item in self._queue if item[0] <= now]
                if ready:
                    self._queue.remove(ready[0])
                    return ready[0]
                wait = min((item[0] for item in self._queue), default=now + 60) - now
                self._cond.wait(max(0.01, wait))
        return None

    def _loop(self) -> None:
        while (item := self._next()) is not None:
            _, cid, attempts, requestid = item
            try:
                status = self._advance(cid, requestid)
            except PinningServiceError as exc:
                self._retry(cid, attempts + 1, None, str(exc))
                continue
            if status.status == "pinned":
                self.pinned.add(cid)
                REMOTE_PINS.inc()
                REMOTE_PIN_PENDING.dec()
                log.info("%s pinned at the pinning service (request %s)", cid, status.requestid)
            elif status.status == "failed":
                self._retry(cid, attempts + 1, None, "the pinning service reported the pin failed")
            else:  # queued / pinning: look again soon (not an attempt)
                self._requeue(time.monotonic() + self.poll_s, cid, attempts, status.requestid)

    def _advance(self, cid: str, requestid: str | None) -> PinStatus:
        if requestid is not None:
            return self.service.get(requestid)
        existing = self.service.find(cid)
        if existing is not None and existing.status != "failed":
            return existing
        return self.service.add(cid)

    def _retry(self, cid: str, attempts: int, requestid: str | None, why: str) -> None:
        final = attempts >= self.max_attempts
        REMOTE_PIN_FAILURES.labels("true" if final else "false").inc()
        if final:
            self.given_up.add(cid)
            REMOTE_PIN_PENDING.dec()
            log.error("giving up pinning %s at the pinning service after %d attempts: %s (it stays pinned on our "
                      "node)", cid, attempts, why)
            return
        delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempts - 1))
        log.warning("pinning %s at the pinning service failed (attempt %d of %d, next in %gs): %s", cid, attempts,
                    self.max_attempts, delay, why)
        self._requeue(time.monotonic() + delay, cid, attempts, requestid)

    def _requeue(self, not_before: float, cid: str, attempts: int, requestid: str | None) -> None:
        with self._cond:
            self._queue.append((not_before, cid, attempts, requestid))
            self._cond.notify()
