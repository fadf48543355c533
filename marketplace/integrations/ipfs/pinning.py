"""The IPFS Pinning Service API (the one Pinata, Filebase and Kubo's `ipfs pin remote` speak): what this node adds
is also pinned by a pinning service, so production media are replicated beyond our own node.

- PinningService: the wire client (POST /pins, GET /pins?cid=, GET /pins/{requestid}; `Authorization: Bearer`).
- RemotePinner: after every add (and pin), the CID is queued and pinned remotely by a background thread, with
  retries and backoff; an upload never waits for the service, and a service that is away or refuses is reported
  (a warning per failed attempt, an error when it gives up, the metrics) while the content stays on our node. An
  unpin here removes the service's pins of that CID too.
- The queue is a table (`remote_pin`, one row per CID, this module its only writer), so it survives a restart and
  is shared by every process: each row is claimed with a lease before it is worked on, and at start every CID the
  catalogue stores that the table does not know is queued (so enabling a pinning service later replicates what
  was there before, and a CID added in the moment before a crash is not lost).
- A pin the service keeps `queued` or `pinning` is looked at again after a wait that doubles (capped), and given up
  on as failed after `max_wait_s` (reported), so nothing is polled forever.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from prometheus_client import Counter, Gauge
from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from marketplace.core.db import get_engine, utcnow
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

    def find_all(self, cid: str) -> list[PinStatus]:
        """Every pin request of `cid` the service holds (any status)."""
        body = self._request("GET", "/pins", params={"cid": cid, "status": ",".join(PIN_STATUSES), "limit": 1000})
        return [PinStatus.from_json(item) for item in body.get("results") or []]

    def remove(self, requestid: str) -> None:
        """DELETE /pins/{requestid} (202); a request the service no longer has is already removed."""
        try:
            r = self._session.delete(f"{self.url}/pins/{requestid}", timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise PinningServiceError(f"pinning service unreachable: {type(exc).__name__}") from exc
        if r.status_code >= 400 and r.status_code != 404:
            raise PinningServiceError(f"pinning service answered {r.status_code} to removing a pin")


class PinState:
    """A remote_pin row's state: what is wanted of the service (pin or unpin) and how far it got."""

    queued = "queued"  # to pin: not yet pinned at the service (asked or about to be)
    pinned = "pinned"
    failed = "failed"  # given up on (the content stays on our node); a new add queues it again
    unpinning = "unpinning"  # to remove from the service
    removed = "removed"


ACTIVE = (PinState.queued, PinState.unpinning)
GAUGE_EVERY_S = 5.0  # how often a busy queue refreshes marketplace_remote_pin_pending


class RemotePin(SQLModel, table=True):
    __tablename__ = "remote_pin"

    cid: str = Field(primary_key=True, max_length=100)
    state: str = Field(default=PinState.queued, max_length=16, index=True)
    requestid: str | None = Field(default=None, max_length=200)
    attempts: int = 0  # failed attempts since the last request (the retry budget)
    polls: int = 0  # looks at a queued/pinning request (the wait between looks doubles)
    not_before: datetime = Field(default_factory=utcnow, index=True)
    requested_at: datetime = Field(default_factory=utcnow)  # when the current pin/unpin was asked for
    last_error: str | None = Field(default=None, max_length=500)
    claimed_by: str | None = Field(default=None, max_length=40)
    claimed_until: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class RemotePinner:
    """Pins every queued CID at the service: POST /pins unless the service already has it, then follows
    queued/pinning to pinned; `failed` or an error is retried after a backoff doubling from `backoff_s`,
    `max_attempts` times, then given up on (logged as an error). Unpins remove every pin request of the CID.

    submit()/unpin() only note the CID in memory (the callers may hold a database write of their own); the
    background thread writes it to the table at once, then works the table's due rows, one claimed at a time."""

    def __init__(self, service: PinningService, *, max_attempts: int = 8, backoff_s: float = 1.0,
                 poll_s: float = 1.0, max_backoff_s: float = 300.0, max_wait_s: float = 86400.0,
                 lease_s: float = 60.0, engine: Callable[[], Engine] = get_engine,
                 stored_cids: Callable[[], Iterable[str]] | None = None) -> None:
        self.service = service
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.poll_s = poll_s
        self.max_backoff_s = max_backoff_s
        self.max_wait_s = max_wait_s
        self.lease_s = lease_s
        self._engine = engine
        self.stored_cids = stored_cids  # the catalogue's CIDs, queued at start when the table lacks them
        self.me = uuid.uuid4().hex
        self._incoming: dict[str, str] = {}  # cid -> queued | unpinning, not yet in the table
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = False
        self._gauge_at = 0.0  # when the pending gauge was last set (monotonic)

    # --- what the IPFS client calls ------------------------------------------------------------------

    def submit(self, cid: str) -> None:
        self._note(cid, PinState.queued)

    def unpin(self, cid: str) -> None:
        self._note(cid, PinState.unpinning)

    def _note(self, cid: str, state: str) -> None:
        with self._cond:
            self._incoming[cid] = state
            self._cond.notify()
        self.start()

    # --- what operators and tests read ----------------------------------------------------------------

    def _cids(self, *states: str) -> set[str]:
        with Session(self._engine()) as session:
            return set(session.exec(select(RemotePin.cid).where(RemotePin.state.in_(states))).all())

    def pending(self) -> list[str]:
        with self._cond:
            incoming = list(self._incoming)
        return sorted(self._cids(*ACTIVE) | set(incoming))

    @property
    def pinned(self) -> set[str]:
        return self._cids(PinState.pinned)

    @property
    def given_up(self) -> set[str]:
        return self._cids(PinState.failed)

    # --- the thread ------------------------------------------------------------------------------------

    def start(self) -> None:
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

    def _loop(self) -> None:
        try:
            self._backfill()
        except Exception:  # the queue still works; the next start tries again
            log.exception("could not queue the catalogue's CIDs for the pinning service")
        while True:
            with self._cond:
                if self._stop:
                    return
            try:
                self._flush()
                row = self._claim()
                if row is not None:
                    self._work(row)
                    if time.monotonic() - self._gauge_at >= GAUGE_EVERY_S:  # a long backlog: now and then
                        self._idle_wait()
                    continue
                wait = self._idle_wait()
            except Exception:  # a database hiccup: look again in a moment, never die
                log.exception("the remote pin queue failed; trying again")
                wait = 5.0
            with self._cond:
                if not self._incoming and not self._stop:
                    self._cond.wait(wait)

    def _backfill(self) -> None:
        if self.stored_cids is None:
            return
        wanted = set(self.stored_cids())
        if not wanted:
            return
        with Session(self._engine()) as session:
            known = set(session.exec(select(RemotePin.cid)).all())
            for cid in sorted(wanted - known):
                session.add(RemotePin(cid=cid))
            session.commit()
        if wanted - known:
            log.info("queued %d stored CIDs for the pinning service", len(wanted - known))

    def _flush(self) -> None:
        """Write the noted CIDs to the table: a new pin or unpin (re)starts the row's work."""
        with self._cond:
            incoming, self._incoming = self._incoming, {}
        if not incoming:
            return
        try:
            with Session(self._engine()) as session:
                rows = {row.cid: row for row in session.exec(
                    select(RemotePin).where(RemotePin.cid.in_(list(incoming)))).all()}
                now = utcnow()
                for cid, state in incoming.items():
                    row = rows.get(cid)
                    if row is None:
                        session.add(RemotePin(cid=cid, state=state))
                        continue
                    if state == PinState.queued and row.state in (PinState.queued, PinState.pinned):
                        continue  # already pinned there, or on its way
                    if state == PinState.unpinning and row.state in (PinState.unpinning, PinState.removed):
                        continue
                    row.state, row.attempts, row.polls, row.last_error = state, 0, 0, None
                    row.requestid = row.claimed_by = row.claimed_until = None  # a look in flight settles nothing
                    row.not_before = row.requested_at = row.updated_at = now
                    session.add(row)
                session.commit()
        except Exception:
            with self._cond:  # not lost: noted again, newer notes win
                self._incoming = {**incoming, **self._incoming}
            raise

    def _idle_wait(self) -> float:
        """Nothing due now: how long until the next row is (and the pending gauge, from the same look)."""
        with Session(self._engine()) as session:
            pending, due = session.exec(select(func.count(), func.min(RemotePin.not_before))
                                        .where(RemotePin.state.in_(ACTIVE))).one()
        REMOTE_PIN_PENDING.set(pending)
        self._gauge_at = time.monotonic()
        if due is None:
            return 30.0  # nothing to do here; another process's rows are found on the next look
        return max(0.01, min(30.0, (due - utcnow()).total_seconds()))

    def _claim(self) -> RemotePin | None:
        """Take the lease of the oldest due row (a guarded UPDATE: another process's claim makes it a no-op); the
        row as taken."""
        now = utcnow()
        free = or_(RemotePin.claimed_until.is_(None), RemotePin.claimed_until < now)
        with Session(self._engine()) as session:
            candidates = session.exec(select(RemotePin.cid).where(
                RemotePin.state.in_(ACTIVE), RemotePin.not_before <= now, free)
                .order_by(RemotePin.not_before).limit(5)).all()
            for cid in candidates:
                taken = session.execute(update(RemotePin).where(
                    RemotePin.cid == cid, RemotePin.state.in_(ACTIVE), free)
                    .values(claimed_by=self.me, claimed_until=now + timedelta(seconds=self.lease_s))
                    .returning(*RemotePin.__table__.c)).first()
                session.commit()
                if taken is not None:
                    return RemotePin(**taken._mapping)
        return None

    def _settle(self, cid: str, **values) -> None:
        """Write the outcome of one look and let the lease go (only while this process holds it)."""
        with Session(self._engine()) as session:
            session.execute(update(RemotePin).where(RemotePin.cid == cid, RemotePin.claimed_by == self.me)
                            .values(**values, claimed_by=None, claimed_until=None, updated_at=utcnow()))
            session.commit()

    def _work(self, row: RemotePin) -> None:
        cid = row.cid
        try:
            if row.state == PinState.unpinning:
                for status in self.service.find_all(cid):
                    self.service.remove(status.requestid)
                self._settle(cid, state=PinState.removed, requestid=None, last_error=None)
                log.info("%s removed from the pinning service", cid)
                return
            status = self._advance(cid, row.requestid)
        except PinningServiceError as exc:
            self._retry(row, str(exc))
            return
        if status.status == "pinned":
            self._settle(cid, state=PinState.pinned, requestid=status.requestid, last_error=None)
            REMOTE_PINS.inc()
            log.info("%s pinned at the pinning service (request %s)", cid, status.requestid)
        elif status.status == "failed":
            self._retry(row, "the pinning service reported the pin failed")
        else:  # queued / pinning: look again later (not an attempt), within the time a pin may take
            waited = (utcnow() - row.requested_at).total_seconds()
            if waited >= self.max_wait_s:
                self._give_up(row, f"still {status.status} at the pinning service after {waited:.0f} s")
                return
            delay = min(self.max_backoff_s, self.poll_s * 2 ** min(row.polls, 30))
            self._settle(cid, requestid=status.requestid, polls=row.polls + 1,
                         not_before=utcnow() + timedelta(seconds=delay))

    def _advance(self, cid: str, requestid: str | None) -> PinStatus:
        if requestid is not None:
            return self.service.get(requestid)
        existing = self.service.find(cid)
        if existing is not None and existing.status != "failed":
            return existing
        return self.service.add(cid)

    def _retry(self, row: RemotePin, why: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.max_attempts:
            self._give_up(row, why, attempts=attempts)
            return
        REMOTE_PIN_FAILURES.labels("false").inc()
        delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempts - 1))
        what = "removing" if row.state == PinState.unpinning else "pinning"
        log.warning("%s %s at the pinning service failed (attempt %d of %d, next in %gs): %s", what, row.cid,
                    attempts, self.max_attempts, delay, why)
        self._settle(row.cid, attempts=attempts, requestid=None, last_error=why[:500],
                     not_before=utcnow() + timedelta(seconds=delay))

    def _give_up(self, row: RemotePin, why: str, *, attempts: int | None = None) -> None:
        REMOTE_PIN_FAILURES.labels("true").inc()
        attempts = row.attempts if attempts is None else attempts
        if row.state == PinState.unpinning:
            log.error("giving up removing %s from the pinning service after %d attempts: %s (it may stay pinned "
                      "there)", row.cid, attempts, why)
            self._settle(row.cid, state=PinState.removed, attempts=attempts, last_error=why[:500])
        else:
            log.error("giving up pinning %s at the pinning service after %d attempts: %s (it stays pinned on our "
                      "node)", row.cid, attempts, why)
            self._settle(row.cid, state=PinState.failed, attempts=attempts, last_error=why[:500])
