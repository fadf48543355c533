"""A request whose body never arrives in full (a Content-Length longer than what is sent) is answered 408 and its
connection closed, on a real uvicorn over a raw socket, instead of hanging with no answer."""

from __future__ import annotations

import json
import socket

import pytest

from devtools.procs import pick_free_port
from marketplace.main import create_app
from tests.plugins.live_fixtures import LiveServer

pytestmark = [pytest.mark.slow]


@pytest.fixture
def server(make_settings):
    live = LiveServer(create_app(make_settings(body_read_timeout_s=1.0, run_mint_worker=False,
                                               run_delivery_worker=False)), pick_free_port()).start()
    yield live
    live.stop()


def _short_body(port: int, path: str, content_type: str, body: bytes) -> bytes:
    """Announce 1000 bytes, send `body` (fewer), then read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:  # far above the 1 s setting
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                      f"Content-Length: 1000\r\n\r\n").encode() + body)
        received = b""
        while chunk := sock.recv(65536):  # b"": the server closed the connection
            received += chunk
    return received


@pytest.mark.parametrize(("path", "content_type", "body"), [
    ("/api/auth/token", "application/x-www-form-urlencoded", b"username=a"),  # a form the API parses
    ("/api/auth/register", "application/json", b'{"email": '),  # a JSON body
    ("/signin", "application/x-www-form-urlencoded", b"email=a%40b"),  # a page's form
])
def test_a_body_shorter_than_its_content_length_is_answered_408_and_closed(server, path, content_type, body):
    answer = _short_body(server.port, path, content_type, body)
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer[:300]
    assert b"connection: close" in head.lower()
    assert json.loads(payload) == {"detail": "The request body did not arrive within 1 s", "code": "request_timeout"}


def test_the_server_still_answers_after_a_timed_out_body(server):
    _short_body(server.port, "/api/auth/token", "application/x-www-form-urlencoded", b"x")
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 ") and received.endswith(b'{"status":"ok"}')
