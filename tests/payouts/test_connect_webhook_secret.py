"""A Connect webhook endpoint signs with its own secret (STRIPE_CONNECT_WEBHOOK_SECRET): the app verifies events
signed with either secret, and still refuses any other signature."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from marketplace.core.exceptions import BadRequest
from marketplace.integrations.stripe.gateway import StripeGateway


def signed(payload: bytes, secret: str) -> str:
    at = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{at}.{payload.decode()}", secret)
    return f"t={at},v1={signature}"


def test_events_signed_by_the_account_or_the_connect_endpoint_are_accepted():
    gateway = StripeGateway(api_key="sk_test_x", api_base="http://127.0.0.1:9", webhook_secret="whsec_account",
                            connect_webhook_secret="whsec_connect")
    payload = json.dumps({"id": "evt_1", "type": "account.updated", "data": {"object": {}}}).encode()
    for secret in ("whsec_account", "whsec_connect"):
        assert gateway.construct_event(payload, signed(payload, secret))["id"] == "evt_1"
    with pytest.raises(BadRequest):
        gateway.construct_event(payload, signed(payload, "whsec_someone_else"))
    alone = StripeGateway(api_key="sk_test_x", api_base="http://127.0.0.1:9", webhook_secret="whsec_account")
    with pytest.raises(BadRequest):
        alone.construct_event(payload, signed(payload, "whsec_connect"))
