"""The double's API through the real Stripe SDK: shapes, errors, idempotency, expand, lists."""

from __future__ import annotations

import base64
import time

import httpx
import pytest
import stripe

from devtools.stripe_double.errors import StripeError
from devtools.stripe_double.idempotency import IdempotencyLayer
from tests.devtools.stripe_double.conftest import API_KEY, session_params


def test_create_checkout_session_returns_a_stripe_shaped_open_session(client, double, receiver):
    before = int(time.time())
    session = client.v1.checkout.sessions.create(params=session_params(receiver))

    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{double.public_url}/pay/{session.id}"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_total, session.amount_subtotal, session.currency) == (2500, 2500, "eur")
    assert session.client_reference_id == "12"
    assert session.metadata.to_dict() == {"purchase_id": "12", "work_id": "7"}
    assert session.payment_intent is None  # created when the buyer pays, as on API versions >= 2022-08-01
    assert session.customer_email == "buyer@example.lu"
    assert session.livemode is False
    assert before <= session.created <= int(time.time())
    assert session.expires_at == session.created + 24 * 3600
    assert session.success_url.endswith("/success?session_id={CHECKOUT_SESSION_ID}")
    assert session.cancel_url == f"{receiver.base_url}/cancelled"
    assert session.last_response.request_id.startswith("req_")


def test_nested_form_parameters_are_parsed_into_line_items(client, receiver):
    items = [
        {"quantity": 2, "price_data": {"currency": "eur", "unit_amount": 1000, "product_data": {"name": "Print A"}}},
        {"quantity": 1, "price_data": {"currency": "eur", "unit_amount_decimal": "550",
                                       "product_data": {"name": "Print B", "metadata": {"sku": "b-1"}}}},
    ]
    session = client.v1.checkout.sessions.create(params={
        **session_params(receiver, line_items=items, expires_at=int(time.time()) + 3600),
        "payment_method_types": ["card"], "expand": ["line_items"]})

    assert session.amount_total == 2 * 1000 + 550
    assert session.expires_at > int(time.time()) + 3500
    lines = session.line_items.data
    assert [(li.description, li.quantity, li.price.unit_amount, li.amount_total) for li in lines] == [
        ("Print A", 2, 1000, 2000), ("Print B", 1, 550, 550)]
    listed = client.v1.checkout.sessions.line_items.list(session.id)
    assert [li.id for li in listed.data] == [li.id for li in lines]


def test_idempotent_retry_replays_the_first_response(client, receiver):
    params = session_params(receiver)
    first = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "checkout-purchase-12"})
    again = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "checkout-purchase-12"})

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.headers["Original-Request"] == first.last_response.request_id
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert len(client.v1.checkout.sessions.list().data) == 1


def test_idempotency_key_reused_with_other_parameters_is_refused(client, receiver):
    client.v1.checkout.sessions.create(params=session_params(receiver), options={"idempotency_key": "k-1"})

    with pytest.raises(stripe.IdempotencyError) as err:
        client.v1.checkout.sessions.create(params=session_params(receiver, client_reference_id="13"),
                                           options={"idempotency_key": "k-1"})
    assert err.value.http_status == 400
    assert err.value.json_body["error"]["type"] == "idempotency_error"
    assert "same parameters" in err.value.user_message


def test_idempotency_key_after_a_validation_error_can_be_used_again(client, receiver):
    bad = session_params(receiver)
    del bad["success_url"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params=bad, options={"idempotency_key": "k-2"})

    session = client.v1.checkout.sessions.create(params=session_params(receiver), options={"idempotency_key": "k-2"})
    assert session.status == "open"


def test_wrong_api_key_is_an_authentication_error(double, receiver):
    wrong = stripe.StripeClient("sk_live_not_a_test_key_1234", base_addresses={"api": double.api_base})
    with pytest.raises(stripe.AuthenticationError) as err:
        wrong.v1.checkout.sessions.create(params=session_params(receiver))
    assert err.value.http_status == 401
    assert err.value.json_body["error"]["type"] == "invalid_request_error"
    assert "Invalid API Key provided: sk_live_" in err.value.user_message
    assert "1234" in err.value.user_message and "not_a_test" not in err.value.user_message


def test_missing_key_is_401_and_basic_auth_with_the_key_works(double):
    with httpx.Client(base_url=double.api_base, trust_env=False) as http:
        missing = http.get("/v1/checkout/sessions")
        basic = http.get("/v1/checkout/sessions", headers={
            "Authorization": "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()})

    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert "You did not provide an API key" in missing.json()["error"]["message"]
    assert basic.status_code == 200
    assert basic.json() == {"object": "list", "data": [], "has_more": False, "url": "/v1/checkout/sessions"}


def test_missing_line_items_is_an_invalid_request(client, receiver):
    params = session_params(receiver)
    del params["line_items"]
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params=params)
    assert err.value.http_status == 400
    assert (err.value.code, err.value.param) == ("parameter_missing", "line_items")


@pytest.mark.parametrize(("overrides", "param", "code"), [
    ({"mode": None}, "mode", "parameter_missing"),
    ({"success_url": "not a url"}, "success_url", "url_invalid"),
    ({"customer_email": "nobody"}, "customer_email", "email_invalid"),
    ({"expires_at": int(time.time()) + 60}, "expires_at", "parameter_invalid_integer"),
    ({"expires_at": int(time.time()) + 25 * 3600}, "expires_at", "parameter_invalid_integer"),
    ({"line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 10,
                                                    "product_data": {"name": "x"}}}]}, "line_items",
     "amount_too_small"),
    ({"line_items": [{"quantity": "one", "price_data": {"currency": "eur", "unit_amount": 2500,
                                                        "product_data": {"name": "x"}}}]},
     "line_items[0][quantity]", "parameter_invalid_integer"),
    ({"line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 2500,
                                                    "product_data": {"nam": "x"}}}]},
     "line_items[0][price_data][product_data][nam]", "parameter_unknown"),
    ({"colour": "blue"}, "colour", "parameter_unknown"),
])
def test_invalid_session_parameters_are_refused_like_stripe(client, receiver, overrides, param, code):
    params = {k: v for k, v in session_params(receiver, **overrides).items() if v is not None}
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params=params)
    assert (err.value.param, err.value.code) == (param, code)


def test_unknown_ids_and_urls_are_404(client, api):
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert err.value.http_status == 404
    assert err.value.code == "resource_missing"
    assert "No such checkout.session: 'cs_test_nope'" in err.value.user_message

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve("pi_nope")
    unknown = api.get("/v1/customers")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/customers)")


def test_json_bodies_are_refused_like_stripe(api):
    response = api.post("/v1/checkout/sessions", json={"mode": "payment"})
    assert response.status_code == 400
    assert "unsupported Content-Type application/json" in response.json()["error"]["message"]


def test_responses_carry_request_id_and_stripe_version(api, double):
    response = api.get("/v1/events", headers={"Stripe-Version": "2024-06-20"})
    assert response.headers["Request-Id"].startswith("req_")
    assert response.headers["Stripe-Version"] == "2024-06-20"
    assert api.get("/v1/events").headers["Stripe-Version"] == double.state.api_version == stripe.api_version


def test_list_sessions_paginates_newest_first_and_filters_by_payment_intent(client, make_session, browser):
    sessions = [make_session(client_reference_id=str(i)) for i in range(3)]
    browser.post(f"{sessions[1].url}/pay")

    page = client.v1.checkout.sessions.list(params={"limit": 2})
    assert [s.id for s in page.data] == [sessions[2].id, sessions[1].id]
    assert page.has_more is True
    rest = client.v1.checkout.sessions.list(params={"limit": 2, "starting_after": sessions[1].id})
    assert [s.id for s in rest.data] == [sessions[0].id] and rest.has_more is False
    assert [s.id for s in client.v1.checkout.sessions.list().auto_paging_iter()] == [s.id for s in sessions[::-1]]

    paid = client.v1.checkout.sessions.retrieve(sessions[1].id)
    by_pi = client.v1.checkout.sessions.list(params={"payment_intent": paid.payment_intent,
                                                     "expand": ["data.payment_intent"]})
    assert [s.id for s in by_pi.data] == [paid.id]
    assert by_pi.data[0].payment_intent.status == "succeeded"


def test_retrieve_expands_payment_intent_and_its_latest_charge(client, make_session, browser):
    session = make_session()
    browser.post(f"{session.url}/pay")

    plain = client.v1.checkout.sessions.retrieve(session.id)
    expanded = client.v1.checkout.sessions.retrieve(session.id,
                                                    params={"expand": ["payment_intent.latest_charge"]})
    assert isinstance(plain.payment_intent, str) and plain.payment_intent.startswith("pi_")
    pi = expanded.payment_intent
    assert isinstance(pi, stripe.PaymentIntent)
    assert (pi.id, pi.status, pi.amount, pi.amount_received, pi.currency) == (
        plain.payment_intent, "succeeded", 2500, 2500, "eur")
    assert pi.metadata.to_dict() == {"purchase_id": "12"}
    assert isinstance(pi.latest_charge, stripe.Charge) and pi.latest_charge.paid is True
    charge = client.v1.charges.retrieve(pi.latest_charge.id)
    assert (charge.amount_captured, charge.amount_refunded, charge.payment_intent) == (2500, 0, pi.id)

    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["customer_email"]})
    assert "cannot be expanded" in err.value.user_message


def test_events_can_be_listed_filtered_and_retrieved(client, make_session, browser, double):
    session = make_session()
    browser.post(f"{session.url}/pay")
    double.wait_for_deliveries()

    completed = client.v1.events.list(params={"type": "checkout.session.completed"})
    assert [e.data.object.id for e in completed.data] == [session.id]
    event = client.v1.events.retrieve(completed.data[0].id)
    assert (event.object, event.type, event.livemode, event.pending_webhooks) == (
        "event", "checkout.session.completed", False, 0)
    assert event.request.id is None  # caused by the buyer, not by an API request
    assert {e.type for e in client.v1.events.list(params={"type": "payment_intent.*"}).data} == {
        "payment_intent.created", "payment_intent.succeeded"}


def test_a_key_still_in_use_is_a_409_that_the_sdk_retries():
    layer = IdempotencyLayer()
    assert layer.begin(api_key="sk_test_a", key="k", endpoint="POST /v1/refunds", params={}, request_id="req_1") is None
    with pytest.raises(StripeError) as err:
        layer.begin(api_key="sk_test_a", key="k", endpoint="POST /v1/refunds", params={}, request_id="req_2")
    assert (err.value.status, err.value.type) == (409, "idempotency_error")
    # keys are per API key (per account on Stripe)
    assert layer.begin(api_key="sk_test_b", key="k", endpoint="POST /v1/refunds", params={}, request_id="req_3") is None
