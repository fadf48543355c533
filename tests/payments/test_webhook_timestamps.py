"""The webhook endpoint accepts a signature only when it was made within the tolerance of now, before or after:
one dated in the future is as refused as one dated in the past (and nothing is recorded)."""

from __future__ import annotations

import json
import time

import stripe

from tests.payments.conftest import events

WEBHOOK_TOLERANCE_S = 300  # Stripe's tolerance (stripe.Webhook.DEFAULT_TOLERANCE), the one the gateway uses


def _event(event_id: str) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": "checkout.session.expired",
                       "data": {"object": {"id": f"cs_{event_id}", "object": "checkout.session",
                                           "status": "expired"}}}).encode()


def _post(client, payload: bytes, timestamp: int):
    secret = client.app.state.settings.stripe_webhook_secret.get_secret_value()
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, timestamp=timestamp)
    return client.post("/api/stripe/webhook", content=payload, headers={"Stripe-Signature": header})


def test_signatures_dated_beyond_the_tolerance_either_way_are_400_and_nothing_is_recorded(client):
    now = int(time.time())
    for offset in (3600, WEBHOOK_TOLERANCE_S + 60, -3600, -(WEBHOOK_TOLERANCE_S + 60)):
        r = _post(client, _event(f"evt_off_{offset}"), now + offset)
        assert r.status_code == 400, (offset, r.text)
        assert r.json()["code"] == "bad_request" and "tolerance" in r.json()["detail"]
    assert events() == []

    # within the tolerance, a little ahead (clock skew) or behind: verified and recorded once
    for offset in (60, -60):
        r = _post(client, _event(f"evt_ok_{offset}"), now + offset)
        assert r.status_code == 200, (offset, r.text)
    assert sorted(e.id for e in events()) == ["evt_ok_-60", "evt_ok_60"]
