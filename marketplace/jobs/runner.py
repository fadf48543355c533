"""A polling background worker in a thread: run_once() until stopped, sleeping when idle, woken on demand.

Domain services wake the workers of a kind by name (`wake("mint")` after a mint request): they never hold the
worker objects, which the composition root (marketplace.services) builds and starts."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from marketplace.core.exceptions import ServiceUnavailable
from marketplace.jobs.lease import Backoff

log = logging.getLogger(__name__)

_running: dict[str, set["BackgroundWorker"]] = {}
_running_lock = threading.Lock()


def wake(kind: str) -> None:
    """Wake this process's running workers of `kind` (none running: nothing happens, the work waits in its table
    for whichever process's worker polls next)."""
    with _running_lock:
        workers = list(_running.get(kind, ()))
    for worker in workers:
        worker.wake()


@contextmanager
def nonce_freed_on_error(signer) -> Iterator[None]:
    """Around the write-ahead of a signed transaction: when recording it fails (say, the database connection
    died), it is never sent, so its nonce is free again; else every later transaction of the key would wait behind
    the gap forever."""
    try:
        yield
    except BaseException:
        signer.resync()
        raise


class BackgroundWorker:
    """Subclasses implement run_once() -> how much work moved (0 = idle: sleep poll_interval_s or until wake())."""

    kind = "worker"

    def __init__(
        self,
        *,
        batch_size: int = 50,
        max_attempts: int = 5,
        poll_interval_s: float = 0.2,
        lease_s: float = 120.0,
        stale_submit_s: float = 15.0,
        receipt_timeout_s: float = 60.0,
        retry_backoff_s: float = 0.0,
        name: str | None = None,
    ) -> None:
        """The settings every chain worker shares: how much it claims, how long a claim (lease) holds, when a
        submitted transaction counts as lost (stale_submit), how long to wait for a receipt."""
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.poll_interval_s = poll_interval_s
        self.lease = timedelta(seconds=lease_s)
        self.stale_submit = timedelta(seconds=stale_submit_s)
        self.receipt_timeout_s = receipt_timeout_s
        self.backoff = Backoff(base_s=retry_backoff_s)  # a failed attempt's job waits this long before the next
        self.name = name or f"{self.kind}-{os.getpid()}-{id(self):x}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()
            with _running_lock:
                _running.setdefault(self.kind, set()).add(self)

    def stop(self, timeout: float = 10.0) -> None:
        with _running_lock:
            _running.get(self.kind, set()).discard(self)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except ServiceUnavailable as exc:
                log.warning("%s: %s", self.name, exc.message)
                busy = 0
            except Exception:  # keep the worker alive; the database rows keep the truth
                log.exception("%s: iteration failed", self.name)
                busy = 0
            if not busy:
                self._wake.wait(self.poll_interval_s)
                self._wake.clear()
