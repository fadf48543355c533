"""A polling background worker in a thread: run_once() until stopped, sleeping when idle, woken on demand."""

from __future__ import annotations

import logging
import threading

from marketplace.exceptions import ServiceUnavailable

log = logging.getLogger(__name__)


class BackgroundWorker:
    """Subclasses implement run_once() -> how much work moved (0 = idle: sleep poll_interval_s or until wake())."""

    name: str = "worker"
    poll_interval_s: float = 0.2

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
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
