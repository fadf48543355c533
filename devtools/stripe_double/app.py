"""`create_app()`: the Stripe double as an ASGI app (API, hosted checkout page, test controls, background work)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI

from devtools.stripe_double import api, control, hosted
from devtools.stripe_double.idempotency import IdempotencyLayer
from devtools.stripe_double.store import Store
from devtools.stripe_double.webhooks import WebhookDispatcher

try:  # sign events with the API version the SDK in this venv pins, so nothing looks out of date
    import stripe

    DEFAULT_API_VERSION = str(stripe.api_version)
except Exception:  # noqa: BLE001 - the double itself does not need the SDK
    DEFAULT_API_VERSION = "2026-10-28.endive"


@dataclass
class DoubleState:
    store: Store
    webhooks: WebhookDispatcher
    idempotency: IdempotencyLayer
    api_key_prefix: str
    api_version: str
    expiry_check_interval: float
    _stop: threading.Event = field(default_factory=threading.Event)
    _expiry_thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self.webhooks.start()
        self._expiry_thread = threading.Thread(target=self._expire_loop, name="stripe-double-expiry", daemon=True)
        self._expiry_thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._expiry_thread is not None:
            self._expiry_thread.join(timeout=5)
        self.webhooks.stop()

    def reset(self) -> None:
        """Forget every object, event, delivery and idempotency key; the endpoint settings stay."""
        self.store.reset()
        self.webhooks.reset()
        self.idempotency.reset()

    def _expire_loop(self) -> None:
        while not self._stop.wait(self.expiry_check_interval):
            self.store.expire_due_sessions()


def create_app(
    *,
    webhook_url: str | None,
    webhook_secret: str,
    public_url: str,
    api_key_prefix: str = "sk_test_",
    api_version: str = DEFAULT_API_VERSION,
    enabled_events: list[str] | None = None,
    retry_initial_delay: float = 0.5,
    retry_max_delay: float = 30.0,
    max_attempts: int = 8,
    delivery_timeout: float = 5.0,
    delivery_workers: int = 1,
    expiry_check_interval: float = 1.0,
    connect_webhook_url: str | None = None,
    connect_webhook_secret: str | None = None,
) -> FastAPI:
    """The double. `public_url` is where browsers reach it (the hosted page is `{public_url}/pay/{id}`).

    Webhooks go to `webhook_url` (None: events are only recorded) for the types in `enabled_events` (default all,
    `"checkout.session.*"` patterns allowed), signed with `webhook_secret`. Failed deliveries are retried after
    `retry_initial_delay * 2**(n-1)` s, capped at `retry_max_delay`, up to `max_attempts` attempts in all.
    Connect events (`account.updated`, `payout.*`: they name a connected `account`) go to `connect_webhook_url`
    signed with `connect_webhook_secret` (default `webhook_secret`) when it is set, else to `webhook_url`.
    """
    webhooks = WebhookDispatcher(
        url=webhook_url, secret=webhook_secret, enabled_events=enabled_events, initial_delay=retry_initial_delay,
        max_delay=retry_max_delay, max_attempts=max_attempts, timeout=delivery_timeout, workers=delivery_workers,
        connect_url=connect_webhook_url, connect_secret=connect_webhook_secret)
    store = Store(public_url=public_url, api_version=api_version, on_event=webhooks.enqueue,
                  pending_webhooks=webhooks.pending_webhooks)
    double = DoubleState(store=store, webhooks=webhooks, idempotency=IdempotencyLayer(),
                         api_key_prefix=api_key_prefix, api_version=api_version,
                         expiry_check_interval=expiry_check_interval)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        double.start()
        try:
            yield
        finally:
            double.stop()

    app = FastAPI(title="Stripe double", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.double = double
    app.include_router(api.router)
    app.include_router(hosted.router)
    app.include_router(control.router)
    return app
