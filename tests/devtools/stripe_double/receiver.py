"""A tiny webhook receiver for the tests: records every request and answers with scripted status codes."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    """POST /webhook records Stripe events; any GET (a success_url or cancel_url landing) answers 200.

    `statuses` is a script of answers for POSTs (e.g. [500, 500] then 200 forever); `delay` slows every POST.
    """

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(receiver.delay)
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(Received("POST", self.path, dict(self.headers), body, status))
                self._answer(status, b'{"received": true}' if status < 300 else b'{"error": "scripted"}')

            def do_GET(self) -> None:  # noqa: N802
                with receiver._lock:
                    receiver.requests.append(Received("GET", self.path, dict(self.headers), b"", 200))
                self._answer(200, b"landing page")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base_url}/webhook"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def posts(self, type: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and (type is None or r.event["type"] == type)]

    def wait_for(self, type: str, *, count: int = 1, ok: bool = True, timeout: float = 5.0) -> list[Received]:
        """Wait until `count` deliveries of `type` arrived (answered 2xx when `ok`)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.posts(type) if not ok or r.status < 300]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [r.event["type"] for r in self.posts()]
                raise AssertionError(f"expected {count} x {type} within {timeout} s; received {seen}")
            time.sleep(0.01)
