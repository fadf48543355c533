"""A real HTTP forwarder in front of a service (anvil's JSON-RPC, the Stripe double), for freezing a process at an
exact step without any hook in the product: it passes every request through, except the ones a rule holds.

    proxy = HoldingProxy(anvil.rpc_url).start()
    held = proxy.hold(rpc_method("eth_sendRawTransaction"))   # the next transaction never reaches the node
    ...  # start the process with RPC_URL=proxy.url; held.hit.wait(); inspect the database; SIGKILL the process
    proxy.stop()

A held request waits until the proxy stops, and is then dropped (the connection closes without an answer): for a
process killed meanwhile, the request never happened. `after_upstream=True` forwards the request first and holds
the answer instead: the service did it, the caller never heard. `answer=` answers in the service's place (a node
refusing a transaction). `let_through()` lets a held request go on.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from devtools.procs import pick_free_port

Match = Callable[[str, str, bytes], bool]  # (method, path, body) -> hold this one?
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
               "content-length", "host"}


def rpc_method(name: str) -> Match:
    """A JSON-RPC call of `name` (web3 sends one call per request)."""
    def match(_method: str, _path: str, body: bytes) -> bool:
        try:
            return json.loads(body or b"{}").get("method") == name
        except (ValueError, AttributeError):
            return False
    return match


def http_call(method: str, path_prefix: str) -> Match:
    return lambda m, p, _b: m == method and p.startswith(path_prefix)


class Hold:
    def __init__(self, match: Match, *, after_upstream: bool,
                 answer: Callable[[bytes], tuple[int, bytes]] | None = None) -> None:
        self.match = match
        self.after_upstream = after_upstream
        self.answer = answer
        self.hit = threading.Event()  # a matching request arrived (and, after_upstream, the service answered it)
        self.released = threading.Event()
        self.forward = False
        self.requests: list[bytes] = []

    def let_through(self) -> None:
        """Let the held request (or answer) go on after all."""
        self.forward = True
        self.released.set()


class HoldingProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.port = pick_free_port()
        self._holds: list[Hold] = []  # waiting for their request
        self._all: list[Hold] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hold = proxy._match(self.command, self.path, body)
                if hold is not None and hold.answer is not None:  # the service's own refusal, say
                    hold.requests.append(body)
                    status, payload = hold.answer(body)
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    hold.hit.set()
                    return
                if hold is not None and not hold.after_upstream:
                    hold.requests.append(body)
                    hold.hit.set()
                    hold.released.wait()
                    if not hold.forward:
                        self.close_connection = True  # dropped: never forwarded, never answered
                        return
                    hold = None
                conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                finally:
                    conn.close()
                if hold is not None:  # the service did it; its answer is held, then lost
                    hold.requests.append(body)
                    hold.hit.set()
                    hold.released.wait()
                    if not hold.forward:
                        self.close_connection = True
                        return
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HoldingProxy:
        self._thread.start()
        return self

    def hold(self, match: Match, *, after_upstream: bool = False,
             answer: Callable[[bytes], tuple[int, bytes]] | None = None) -> Hold:
        """Hold the next request matching `match` (one request; add another hold for more). `answer(body)`:
        answer it at once with (status, body) instead, without forwarding it."""
        hold = Hold(match, after_upstream=after_upstream, answer=answer)
        with self._lock:
            self._holds.append(hold)
            self._all.append(hold)
        return hold

    def _match(self, method: str, path: str, body: bytes) -> Hold | None:
        with self._lock:
            for hold in self._holds:
                if hold.match(method, path, body):
                    self._holds.remove(hold)  # one request per hold
                    return hold
        return None

    def stop(self) -> None:
        with self._lock:
            self._holds = []
            for hold in self._all:
                hold.released.set()
        self._server.shutdown()
        self._server.server_close()
