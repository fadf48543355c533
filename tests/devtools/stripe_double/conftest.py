"""The Stripe double on a free port with fast webhook retries, a webhook receiver, and the real Stripe SDK."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import stripe

from devtools.stripe_double import StripeDouble
from tests.devtools.stripe_double.receiver import WebhookReceiver

WEBHOOK_SECRET = "whsec_test_double_0123456789abcdef"
API_KEY = "sk_test_double_tests_0123456789"
MAX_ATTEMPTS = 4


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def running_double() -> Iterator[StripeDouble]:
    with StripeDouble(webhook_secret=WEBHOOK_SECRET, retry_initial_delay=0.05, retry_max_delay=0.2,
                      max_attempts=MAX_ATTEMPTS, delivery_timeout=3.0, expiry_check_interval=0.05).start() as running:
        yield running


@pytest.fixture
def double(running_double: StripeDouble, receiver: WebhookReceiver) -> StripeDouble:
    """One double per session (starting one takes ~50 ms, stopping ~150 ms), emptied for every test."""
    running_double.reset()
    running_double.state.webhooks.configure(url=receiver.url, enabled_events=["*"])
    return running_double


@pytest.fixture
def client(double: StripeDouble) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": double.api_base}, max_network_retries=2)


@pytest.fixture
def browser(double: StripeDouble) -> Iterator[httpx.Client]:
    """The buyer's browser: plain HTTP against the hosted page, redirects not followed unless asked."""
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        yield http


@pytest.fixture
def api(double: StripeDouble) -> Iterator[httpx.Client]:
    """Raw HTTP against the double's API, for what the SDK hides (headers, exact bodies)."""
    with httpx.Client(base_url=double.api_base, timeout=10.0, trust_env=False,
                      headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        yield http


def session_params(receiver: WebhookReceiver, **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [{
            "quantity": 1,
            "price_data": {"currency": "eur", "unit_amount": 2500,
                           "product_data": {"name": "Moselle at dawn", "description": "Photograph, 4000x3000",
                                            "images": ["http://127.0.0.1:9/preview.png"]}},
        }],
        "success_url": f"{receiver.base_url}/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{receiver.base_url}/cancelled",
        "client_reference_id": "12",
        "metadata": {"purchase_id": "12", "work_id": "7"},
        "payment_intent_data": {"metadata": {"purchase_id": "12"}},
        "customer_email": "buyer@example.lu",
    }
    params.update(overrides)
    return params


@pytest.fixture
def make_session(client: stripe.StripeClient, receiver: WebhookReceiver) -> Callable[..., Any]:
    def make(**overrides: Any) -> Any:
        return client.v1.checkout.sessions.create(params=session_params(receiver, **overrides))
    return make
