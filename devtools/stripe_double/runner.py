"""`StripeDouble`: run the double with uvicorn in a background thread (for `marketplace dev` and pytest)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from devtools.stripe_double.app import DoubleState, create_app


class StripeDouble:
    """The Stripe double on 127.0.0.1, in this process.

        with StripeDouble(webhook_url="http://127.0.0.1:8000/api/payments/webhook",
                          webhook_secret="whsec_...").start(port=0) as double:
            client = stripe.StripeClient(double.api_key, base_addresses={"api": double.api_base})

    Keyword options other than the ones below go to `create_app` (retry delays, max_attempts, enabled_events, ...).
    """

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_stripe_double_secret",
        api_key_prefix: str = "sk_test_",
        host: str = "127.0.0.1",
        public_url: str | None = None,
        log_level: str = "warning",
        **app_options: Any,
    ) -> None:
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.api_key_prefix = api_key_prefix
        self.api_key = f"{api_key_prefix}stripe_double_0000000000"  # any key with the prefix is accepted
        self.host = host
        self._public_url = public_url
        self.log_level = log_level
        self.app_options = app_options
        self.port: int | None = None
        self.app = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self, port: int = 0, *, timeout: float = 10.0) -> "StripeDouble":
        """Listen on `port` (0: a free port) and return once the server accepts requests."""
        if self._server is not None:
            raise RuntimeError("the Stripe double is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        self.port = sock.getsockname()[1]
        self.app = create_app(webhook_url=self.webhook_url, webhook_secret=self.webhook_secret,
                              public_url=self.public_url, api_key_prefix=self.api_key_prefix, **self.app_options)
        config = uvicorn.Config(self.app, log_level=self.log_level, lifespan="on", timeout_graceful_shutdown=2,
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"stripe-double-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Stripe double did not start on {self.host}:{port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> "StripeDouble":
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """For `StripeClient(base_addresses={"api": ...})`."""
        if self.port is None:
            raise RuntimeError("the Stripe double is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def public_url(self) -> str:
        return (self._public_url or self.api_base).rstrip("/")

    # -- in-process helpers for tests ---------------------------------------------------------------------------

    @property
    def state(self) -> DoubleState:
        if self.app is None:
            raise RuntimeError("the Stripe double is not started")
        return self.app.state.double

    def set_webhook_url(self, url: str | None) -> None:
        self.state.webhooks.configure(url=url or "")

    def reset(self) -> None:
        self.state.reset()

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """Events so far, oldest first."""
        return [e for e in self.state.store.events_in_order() if type is None or e["type"] == type]

    def delivery(self, event_id: str) -> dict[str, Any] | None:
        return self.state.webhooks.delivery(event_id)

    def wait_for_event(self, type: str, *, delivered: bool = False, timeout: float = 5.0,
                       where: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        """The first event of `type` (matching `where(event)`), optionally once its webhook was acknowledged."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events(type):
                if where is not None and not where(event):
                    continue
                if not delivered or (self.delivery(event["id"]) or {}).get("delivered"):
                    return event
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {'delivered ' if delivered else ''}{type} event within {timeout} s")
            time.sleep(0.02)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        return self.state.webhooks.wait_idle(timeout)

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """As if the creator pressed Complete onboarding: the account enabled, `account.updated` sent."""
        return self.state.store.complete_onboarding(account_id)

    def restrict_account(self, account_id: str, requirements: list[str] | None = None,
                         disabled_reason: str = "requirements.past_due") -> dict[str, Any]:
        """Stripe restricts the account (payouts off, transfers refused), `account.updated` sent."""
        return self.state.store.restrict_account(account_id, requirements, disabled_reason)

    def fail_next_reversal(self, account_id: str, code: str = "balance_insufficient") -> None:
        """The next reversal of a transfer to `account_id` is refused with `code`."""
        self.state.store.fail_next_reversal(account_id, code)

    def pay_out(self, account_id: str, amount: int | None = None) -> dict[str, Any]:
        """The connected account is paid out to its bank (default: its whole balance); `payout.paid` sent."""
        return self.state.store.pay_out(account_id, amount)

    def advance_clock(self, seconds: int) -> list[str]:
        """Move the double's clock forward; returns the ids of the sessions that expired."""
        self.state.store.advance_clock(seconds)
        return self.state.store.expire_due_sessions()
