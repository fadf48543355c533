"""Expiry, refunds, delayed payments and webhook retries / redelivery."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.devtools.stripe_double.conftest import MAX_ATTEMPTS, WEBHOOK_SECRET


def _paid_session(make_session, browser, client):
    session = make_session()
    assert browser.post(f"{session.url}/pay").status_code == 303
    return client.v1.checkout.sessions.retrieve(session.id)


def test_expire_endpoint_expires_an_open_session_and_sends_the_event(make_session, client, receiver):
    session = make_session()
    expired = client.v1.checkout.sessions.expire(session.id, options={"idempotency_key": "expire-12"})

    assert (expired.status, expired.payment_status, expired.url) == ("expired", "unpaid", None)
    event = stripe.Webhook.construct_event(
        (d := receiver.wait_for("checkout.session.expired")[0]).body, d.headers["Stripe-Signature"], WEBHOOK_SECRET)
    assert event.data.object.id == session.id
    assert event.request.id == expired.last_response.request_id
    assert event.request.idempotency_key == "expire-12"

    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.expire(session.id)
    assert err.value.http_status == 400 and "status of \"expired\"" in err.value.user_message


def test_a_completed_session_cannot_be_expired(make_session, browser, client):
    paid = _paid_session(make_session, browser, client)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(paid.id)


def test_session_expires_by_itself_once_past_expires_at(make_session, client, double, receiver, browser):
    session = make_session()
    moved = httpx.post(f"{double.api_base}/_double/clock/advance", params={"seconds": 24 * 3600}).json()

    # the endpoint expires what is due, unless the background expiry thread got there first
    assert set(moved["expired"]) <= {session.id}
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    event = receiver.wait_for("checkout.session.expired")[0].event
    assert event["request"] == {"id": None, "idempotency_key": None}
    page = browser.get(session.url)
    assert "expired" in page.text and "<button" not in page.text


def test_background_check_expires_sessions(make_session, client, double):
    session = make_session(expires_at=None)
    double.state.store.clock_offset += 24 * 3600  # the expiry thread (every 50 ms here) does the rest
    double.wait_for_event("checkout.session.expired", timeout=3)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_expire_now_test_helper(make_session, client, receiver):
    session = make_session()
    expired = client.raw_request("post", f"/v1/test_helpers/checkout/sessions/{session.id}/expire_now")
    assert client.deserialize(expired, api_mode="V1").status == "expired"
    assert receiver.wait_for("checkout.session.expired")[0].event["data"]["object"]["id"] == session.id


def test_full_refund_marks_the_charge_refunded_and_sends_charge_refunded(make_session, browser, client, receiver):
    paid = _paid_session(make_session, browser, client)
    refund = client.v1.refunds.create(
        params={"payment_intent": paid.payment_intent, "metadata": {"purchase_id": "12"}, "reason": "duplicate"},
        options={"idempotency_key": "refund-purchase-12"})

    assert refund.id.startswith("re_")
    assert (refund.object, refund.status, refund.amount, refund.currency) == ("refund", "succeeded", 2500, "eur")
    assert refund.payment_intent == paid.payment_intent and refund.metadata.to_dict() == {"purchase_id": "12"}
    charge = client.v1.charges.retrieve(refund.charge)
    assert (charge.amount_refunded, charge.refunded) == (2500, True)
    assert client.v1.refunds.retrieve(refund.id).id == refund.id

    event = receiver.wait_for("charge.refunded")[0].event
    assert event["data"]["object"]["id"] == charge.id
    assert event["data"]["object"]["refunded"] is True
    assert event["data"]["previous_attributes"] == {"amount_refunded": 0, "refunded": False}
    assert event["request"]["idempotency_key"] == "refund-purchase-12"
    assert receiver.wait_for("refund.created")[0].event["data"]["object"]["id"] == refund.id

    replay = client.v1.refunds.create(
        params={"payment_intent": paid.payment_intent, "metadata": {"purchase_id": "12"}, "reason": "duplicate"},
        options={"idempotency_key": "refund-purchase-12"})
    assert replay.id == refund.id
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"payment_intent": paid.payment_intent})
    assert err.value.code == "charge_already_refunded"


def test_partial_refunds_add_up_and_an_over_refund_is_refused(make_session, browser, client, receiver):
    paid = _paid_session(make_session, browser, client)
    first = client.v1.refunds.create(params={"payment_intent": paid.payment_intent, "amount": 1000})
    charge = client.v1.charges.retrieve(first.charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, False)

    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 1600})
    assert (err.value.code, err.value.param) == ("amount_too_large", "amount")
    assert "€16.00" in err.value.user_message and "€15.00" in err.value.user_message

    client.v1.refunds.create(params={"charge": charge.id, "amount": 1500})
    assert client.v1.charges.retrieve(charge.id).refunded is True
    refunded = receiver.wait_for("charge.refunded", count=2)
    assert sorted(r.event["data"]["object"]["amount_refunded"] for r in refunded) == [1000, 2500]
    assert len(client.v1.refunds.list(params={"payment_intent": paid.payment_intent}).data) == 2


def test_refunding_an_unpaid_or_unknown_payment_is_refused(make_session, browser, client):
    session = make_session()
    browser.post(f"{session.url}/decline")
    declined = client.v1.checkout.sessions.retrieve(session.id)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"payment_intent": declined.payment_intent})
    assert err.value.code == "charge_not_refundable"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"payment_intent": "pi_unknown"})
    assert err.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={})
    assert err.value.code == "parameter_missing"


def test_delayed_payment_succeeds_later(make_session, browser, client, receiver):
    session = make_session()
    assert browser.post(f"{session.url}/pay", params={"async": "1"}).status_code == 303

    completed = receiver.wait_for("checkout.session.completed")[0].event["data"]["object"]
    assert (completed["status"], completed["payment_status"]) == ("complete", "unpaid")
    pi = client.v1.payment_intents.retrieve(completed["payment_intent"])
    assert pi.status == "processing"

    settled = client.raw_request("post", f"/v1/test_helpers/checkout/sessions/{session.id}/async_result",
                                 outcome="succeeded")
    assert client.deserialize(settled, api_mode="V1").payment_status == "paid"
    event = receiver.wait_for("checkout.session.async_payment_succeeded")[0].event
    assert event["data"]["object"]["payment_status"] == "paid"
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError):  # settled once only
        client.raw_request("post", f"/v1/test_helpers/checkout/sessions/{session.id}/async_result",
                           outcome="failed")


def test_delayed_payment_can_fail(make_session, browser, client, receiver, double):
    session = make_session()
    browser.post(f"{session.url}/pay?async=1")
    client.raw_request("post", f"/v1/test_helpers/checkout/sessions/{session.id}/async_result", outcome="failed")

    failed = receiver.wait_for("checkout.session.async_payment_failed")[0].event["data"]["object"]
    assert (failed["status"], failed["payment_status"]) == ("complete", "unpaid")
    assert client.v1.payment_intents.retrieve(failed["payment_intent"]).status == "requires_payment_method"
    assert not double.events("checkout.session.async_payment_succeeded")


def test_webhook_is_retried_until_the_receiver_answers_2xx(make_session, browser, receiver, double, client):
    double.state.webhooks.configure(enabled_events=["checkout.session.*"])
    receiver.statuses = [500, 503]
    session = make_session()
    browser.post(f"{session.url}/pay")

    deliveries = receiver.wait_for("checkout.session.completed", ok=False, count=3)
    assert [d.status for d in deliveries] == [500, 503, 200]
    assert len({d.event["id"] for d in deliveries}) == 1  # the same event, re-signed each time
    for d in deliveries:
        stripe.Webhook.construct_event(d.body, d.headers["Stripe-Signature"], WEBHOOK_SECRET)
    event = double.wait_for_event("checkout.session.completed", delivered=True)
    record = double.delivery(event["id"])
    assert record["state"] == "delivered"
    assert [(a["number"], a["status"], a["ok"]) for a in record["attempts"]] == [
        (1, 500, False), (2, 503, False), (3, 200, True)]
    assert client.v1.events.retrieve(event["id"]).pending_webhooks == 0


def test_delivery_gives_up_after_max_attempts_and_can_be_redelivered(make_session, double, receiver):
    double.state.webhooks.configure(enabled_events=["checkout.session.expired"])
    receiver.statuses = [500] * MAX_ATTEMPTS
    session = make_session()
    double.advance_clock(24 * 3600)

    assert double.wait_for_deliveries()
    event = double.wait_for_event("checkout.session.expired")
    record = double.delivery(event["id"])
    assert record["state"] == "failed" and len(record["attempts"]) == MAX_ATTEMPTS
    assert event["data"]["object"]["id"] == session.id

    assert httpx.post(f"{double.api_base}/_double/webhooks/redeliver/{event['id']}").status_code == 200
    double.wait_for_event("checkout.session.expired", delivered=True)
    listed = httpx.get(f"{double.api_base}/_double/events").json()["data"]
    assert [(e["event"]["type"], e["delivery"]["state"]) for e in listed] == [
        ("checkout.session.expired", "delivered")]


def test_unreachable_endpoint_counts_as_a_failed_attempt(make_session, double):
    double.set_webhook_url("http://127.0.0.1:9/webhook")  # nothing listens on the discard port
    session = make_session()
    double.advance_clock(24 * 3600)
    assert double.wait_for_deliveries()
    record = double.delivery(double.events("checkout.session.expired")[0]["id"])
    assert record["state"] == "failed"
    assert all(a["status"] is None and "Connection" in a["error"] for a in record["attempts"])
    assert session.id


def test_duplicate_delivers_the_same_event_again(make_session, browser, receiver, double):
    session = make_session()
    browser.post(f"{session.url}/pay")
    first = receiver.wait_for("checkout.session.completed")[0]

    response = httpx.post(f"{double.api_base}/_double/webhooks/duplicate/{first.event['id']}",
                          params={"copies": 2})
    assert response.status_code == 200
    copies = receiver.wait_for("checkout.session.completed", count=3)
    assert {c.event["id"] for c in copies} == {first.event["id"]}


def test_paused_deliveries_can_be_resumed_out_of_order(make_session, browser, client, receiver, double):
    double.state.webhooks.configure(enabled_events=["checkout.session.completed", "charge.refunded"])
    httpx.post(f"{double.api_base}/_double/webhooks/pause")
    paid = _paid_session(make_session, browser, client)
    client.v1.refunds.create(params={"payment_intent": paid.payment_intent})
    assert receiver.posts() == []

    httpx.post(f"{double.api_base}/_double/webhooks/resume", params={"order": "reverse"})
    receiver.wait_for("checkout.session.completed")
    assert [r.event["type"] for r in receiver.posts()] == ["charge.refunded", "checkout.session.completed"]


def test_reset_forgets_everything(make_session, client, double):
    session = make_session()
    assert httpx.post(f"{double.api_base}/_double/reset").json() == {"ok": True}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session.id)
    assert double.events() == []
