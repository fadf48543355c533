"""The app served by a real uvicorn on a port, next to the project's Stripe double, so that webhooks travel over
HTTP exactly as they do from api.stripe.com. Used by the payment tests (and the browser tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from devtools.procs import pick_free_port
from devtools.stripe_double import StripeDouble
from marketplace.main import create_app
from marketplace.payments.webhooks import HANDLED_EVENTS
from marketplace.payouts.webhooks import HANDLED_EVENTS as PAYOUT_EVENTS

WEBHOOK_SECRET = "whsec_test_live_fixture_secret"


class LiveServer:
    def __init__(self, app, port: int) -> None:
        self.app = app
        self.port = port
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self._sock = sock
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                                    timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def start(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Live:
    url: str
    client: httpx.Client
    double: StripeDouble
    settings: object
    server: LiveServer

    @property
    def services(self):
        return self.server.app.state.services


@pytest.fixture
def stripe_double() -> Iterator[StripeDouble]:
    double = StripeDouble(webhook_secret=WEBHOOK_SECRET, retry_initial_delay=0.2, retry_max_delay=1.0,
                          max_attempts=6, expiry_check_interval=0.2, enabled_events=[*HANDLED_EVENTS, *PAYOUT_EVENTS])
    double.start()
    yield double
    double.stop()


@pytest.fixture
def make_live(make_settings, stripe_double) -> Iterator[Callable[..., Live]]:
    started: list[Live] = []

    def make(**overrides) -> Live:
        port = pick_free_port()
        values = dict(stripe_api_base=stripe_double.api_base, stripe_api_key=stripe_double.api_key,
                      stripe_webhook_secret=WEBHOOK_SECRET, public_base_url=f"http://127.0.0.1:{port}",
                      stripe_max_network_retries=0)
        values.update(overrides)
        settings = make_settings(**values)
        server = LiveServer(create_app(settings), port).start()
        stripe_double.set_webhook_url(f"{server.url}/api/stripe/webhook")
        live = Live(url=server.url, client=httpx.Client(base_url=server.url, timeout=30), double=stripe_double,
                    settings=settings, server=server)
        started.append(live)
        return live

    yield make
    for live in reversed(started):
        live.client.close()
        live.server.stop()
