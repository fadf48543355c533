"""A small IPFS Pinning Service API (the spec Pinata, Filebase and `ipfs pin remote` speak) for tests and `make
run`: POST /pins, GET /pins (cid, status, limit filters), GET /pins/{requestid}, DELETE /pins/{requestid}, bearer
token auth, the spec's JSON shapes (PinStatus, PinResults, Failure) and status progression queued -> pinning ->
pinned, one step per read of the request (a real service takes its time). When given the address of an IPFS node,
it pins there the CID it was asked for (as a real service fetches it from the network), so `pinned` means the
content was found.

    double = PinningDouble(token="secret").start()   # double.url
    double.fail_next(3)                              # the next 3 requests answer 500
    double.pinned()                                  # the CIDs pinned so far
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from devtools.procs import pick_free_port

STATUSES = ("queued", "pinning", "pinned", "failed")


class PinningDouble:
    def __init__(self, *, token: str = "pinning-double-token", ipfs_api_addr: str | None = None,
                 port: int | None = None) -> None:
        self.token = token
        self.port = port or pick_free_port()
        self.ipfs_api_addr = ipfs_api_addr
        self._pins: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._fail = 0
        self.stall = False  # True: every pin stays `queued` (a service that never gets to it)
        self.requests: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PinningDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:
                double._handle(self, "GET")

            def do_POST(self) -> None:
                double._handle(self, "POST")

            def do_DELETE(self) -> None:
                double._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="pinning-double").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._fail = count

    def pinned(self) -> set[str]:
        with self._lock:
            return {pin["pin"]["cid"] for pin in self._pins.values() if pin["status"] == "pinned"}

    # --- the wire ----------------------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(handler.path)
        self.requests.append((method, url.path))
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return _send(handler, 401, _failure("UNAUTHORIZED", "Access token is missing or invalid"))
        with self._lock:
            if self._fail > 0:
                self._fail -= 1
                return _send(handler, 500, _failure("INTERNAL_SERVER_ERROR", "a failure the test asked for"))
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = [p for p in url.path.split("/") if p]
        if parts == ["pins"] and method == "POST":
            return self._add(handler, body)
        if parts == ["pins"] and method == "GET":
            return self._list(handler, parse_qs(url.query))
        if len(parts) == 2 and parts[0] == "pins":
            with self._lock:
                pin = self._pins.get(parts[1])
            if pin is None:
                return _send(handler, 404, _failure("NOT_FOUND", "The specified resource was not found"))
            if method == "GET":
                return _send(handler, 200, self._progress(pin))
            if method == "DELETE":
                with self._lock:
                    self._pins.pop(parts[1], None)
                return _send(handler, 202, None)
        return _send(handler, 404, _failure("NOT_FOUND", "The specified resource was not found"))

    def _add(self, handler, body: bytes) -> None:
        try:
            request = json.loads(body)
            cid = request["cid"]
            assert isinstance(cid, str) and cid
        except (ValueError, KeyError, AssertionError):
            return _send(handler, 400, _failure("BAD_REQUEST", "a Pin object with a cid is required"))
        pin = {"requestid": uuid.uuid4().hex, "status": "queued", "created": _now(),
               "pin": {"cid": cid, **({"name": request["name"]} if request.get("name") else {})},
               "delegates": ["/dns4/pinning-double.local/tcp/4001/p2p/QmDouble"], "info": {}}
        with self._lock:
            self._pins[pin["requestid"]] = pin
        _send(handler, 202, pin)

    def _list(self, handler, query: dict) -> None:
        cids = set(",".join(query.get("cid", [])).split(",")) - {""}
        statuses = set(",".join(query.get("status", ["pinned"])).split(","))
        limit = int((query.get("limit") or ["10"])[0])
        with self._lock:
            pins = list(self._pins.values())
        results = [self._progress(pin) for pin in reversed(pins) if not cids or pin["pin"]["cid"] in cids]
        results = [pin for pin in results if pin["status"] in statuses]
        _send(handler, 200, {"count": len(results), "results": results[:limit]})

    def _progress(self, pin: dict) -> dict:
        """One step on each read: queued -> pinning -> pinned (or failed when our node cannot find the CID)."""
        with self._lock:
            if self.stall:
                pass
            elif pin["status"] == "queued":
                pin["status"] = "pinning"
            elif pin["status"] == "pinning":
                pin["status"] = "pinned" if self._fetch(pin["pin"]["cid"]) else "failed"
            return json.loads(json.dumps(pin))

    def _fetch(self, cid: str) -> bool:
        if self.ipfs_api_addr is None:
            return True
        from marketplace.integrations.ipfs.client import IpfsClient

        try:
            with IpfsClient(self.ipfs_api_addr, timeout_s=5, lookup_timeout_s=5) as node:
                node.pin(cid)
            return True
        except Exception:  # noqa: BLE001 - whatever the node says, the pin failed
            return False


def _failure(reason: str, details: str) -> dict:
    return {"error": {"reason": reason, "details": details}}


def _send(handler: BaseHTTPRequestHandler, status: int, body: dict | None) -> None:
    data = json.dumps(body).encode() if body is not None else b""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
