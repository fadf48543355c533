"""The hosted checkout page driven like a browser (httpx), and the signed webhooks it causes."""

from __future__ import annotations

import re
import time

import pytest
import stripe

from tests.devtools.stripe_double.conftest import WEBHOOK_SECRET


def _buttons(html: str) -> list[str]:
    return re.findall(r"<button[^>]*>([^<]*)</button>", html)


def test_checkout_page_shows_the_product_the_amount_and_three_buttons(make_session, browser):
    session = make_session()
    page = browser.get(session.url)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Moselle at dawn" in page.text
    assert "€25.00" in page.text
    assert _buttons(page.text) == ["Pay", "Decline", "Cancel"]
    for action in ("pay", "decline", "cancel"):
        assert f'action="/pay/{session.id}/{action}"' in page.text
    assert not re.search(r"<(script|link|img|iframe)\b|src=|@import|url\(", page.text)  # nothing external


def test_pay_completes_the_session_and_redirects_to_the_success_url(make_session, browser, client, receiver):
    session = make_session()
    response = browser.post(f"{session.url}/pay")

    assert response.status_code == 303
    assert response.headers["location"] == f"{receiver.base_url}/success?session_id={session.id}"
    landing = browser.post(f"{session.url}/pay", follow_redirects=True)  # paying twice is refused...
    assert landing.status_code == 409 and "no longer open" in landing.text
    followed = browser.get(response.headers["location"])  # ...and the success page is the merchant's
    assert followed.status_code == 200
    assert [r.path for r in receiver.requests if r.method == "GET"] == [f"/success?session_id={session.id}"]

    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status, paid.url) == ("complete", "paid", None)
    assert paid.customer_details.email == "buyer@example.lu"
    assert browser.get(session.url).text.count("<button") == 0


def test_completion_webhook_is_signed_like_stripe(make_session, browser, receiver):
    session = make_session()
    browser.post(f"{session.url}/pay")
    delivery = receiver.wait_for("checkout.session.completed")[0]

    assert delivery.headers["Content-Type"] == "application/json; charset=utf-8"
    assert delivery.headers["User-Agent"].startswith("Stripe/1.0")
    signature = delivery.headers["Stripe-Signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signature)

    event = stripe.Webhook.construct_event(delivery.body, signature, WEBHOOK_SECRET)
    assert event.id.startswith("evt_") and event.type == "checkout.session.completed"
    assert (event.api_version, event.livemode, event.pending_webhooks) == (stripe.api_version, False, 1)
    obj = event.data.object
    assert (obj.id, obj.payment_status, obj.client_reference_id) == (session.id, "paid", "12")
    assert obj.metadata.to_dict() == {"purchase_id": "12", "work_id": "7"}
    assert obj.payment_intent.startswith("pi_")

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, signature, "whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body.replace(b'"paid"', b'"unpaid"'), signature, WEBHOOK_SECRET)


def test_pay_sends_the_payment_events_stripe_sends(make_session, browser, receiver, double):
    session = make_session()
    browser.post(f"{session.url}/pay")
    double.wait_for_deliveries()

    types = [e["type"] for e in double.events()]
    assert types == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded",
                     "checkout.session.completed"]
    assert sorted(r.event["type"] for r in receiver.posts()) == sorted(types)
    charge = double.events("charge.succeeded")[0]["data"]["object"]
    assert charge["id"].startswith("ch_") and charge["payment_intent"].startswith("pi_")
    assert charge["metadata"] == {"purchase_id": "12"}


def test_decline_keeps_the_session_open_and_says_the_card_was_declined(make_session, browser, client, double):
    session = make_session()
    page = browser.post(f"{session.url}/decline")

    assert page.status_code == 200
    assert "Your card was declined" in page.text
    assert _buttons(page.text) == ["Pay", "Decline", "Cancel"]  # the buyer may try again
    still = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert (still.status, still.payment_status) == ("open", "unpaid")
    assert still.payment_intent.status == "requires_payment_method"
    assert still.payment_intent.last_payment_error.code == "card_declined"
    double.wait_for_deliveries()
    assert not [e for e in double.events() if e["type"].startswith("checkout.session.")]
    assert double.events("payment_intent.payment_failed")

    assert browser.post(f"{session.url}/pay").status_code == 303  # the retry succeeds, same PaymentIntent
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.payment_status, paid.payment_intent) == ("paid", still.payment_intent.id)


def test_stripe_s_test_card_numbers_decide_and_a_decline_is_the_intent_s_last_payment_error(make_session, browser,
                                                                                           client, double):
    session = make_session()
    page = browser.post(f"{session.url}/pay", data={"card": "4000 0000 0000 9995"})
    assert page.status_code == 200 and "Your card has insufficient funds." in page.text
    assert _buttons(page.text) == ["Pay", "Decline", "Cancel"]  # open: the buyer may try again
    declined = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert declined.status == "open"
    intent = declined.payment_intent
    error = intent.last_payment_error
    assert (intent.status, error.type, error.code, error.decline_code, error.message) == (
        "requires_payment_method", "card_error", "card_declined", "insufficient_funds",
        "Your card has insufficient funds.")
    assert error.doc_url == "https://stripe.com/docs/error-codes/card-declined"
    assert (error.payment_method.object, error.payment_method.type, error.payment_method.card.last4) == (
        "payment_method", "card", "9995")
    charge = client.v1.charges.retrieve(error.charge)
    assert (charge.status, charge.failure_code, charge.outcome.reason) == ("failed", "card_declined",
                                                                           "insufficient_funds")
    assert charge.id == intent.latest_charge

    page = browser.post(f"{session.url}/pay", data={"card": "4000 0000 0000 0069"})
    assert "Your card has expired." in page.text
    expired = client.v1.payment_intents.retrieve(intent.id).last_payment_error
    assert (expired.code, expired.decline_code) == ("expired_card", "expired_card")
    charges = len(double.state.store.charges)
    page = browser.post(f"{session.url}/pay", data={"card": "4242 4242 4242 4243"})  # fails the Luhn check
    assert "Your card number is invalid." in page.text and len(double.state.store.charges) == charges
    live_card = browser.post(f"{session.url}/pay", data={"card": "4111 1111 1111 1111"})
    assert "test mode, but used a non test card" in live_card.text

    paid = browser.post(f"{session.url}/pay", data={"card": "4242 4242 4242 4242"})
    assert paid.status_code == 303
    done = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert (done.payment_status, done.payment_intent.id, done.payment_intent.last_payment_error) == (
        "paid", intent.id, None)


def test_cancel_redirects_to_the_cancel_url_and_leaves_the_session_open(make_session, browser, client, receiver,
                                                                       double):
    session = make_session()
    response = browser.post(f"{session.url}/cancel", follow_redirects=True)

    assert response.status_code == 200
    assert str(response.url) == f"{receiver.base_url}/cancelled"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert double.events() == []


def test_unknown_session_page_is_404(browser, double):
    assert browser.get(f"{double.public_url}/pay/cs_test_missing").status_code == 404
    assert browser.post(f"{double.public_url}/pay/cs_test_missing/pay").status_code == 404


def test_webhook_delivery_never_blocks_the_buyer(make_session, browser, receiver, double):
    double.state.webhooks.configure(enabled_events=["checkout.session.completed"])
    receiver.delay = 1.0
    session = make_session()
    started = time.monotonic()
    response = browser.post(f"{session.url}/pay")

    assert response.status_code == 303
    assert time.monotonic() - started < 0.5
    assert receiver.posts() == []
    receiver.wait_for("checkout.session.completed", timeout=10)


def test_the_page_speaks_the_sessions_locale(make_session, browser, client):
    french = make_session(locale="fr")
    page = browser.get(french.url, headers={"Accept-Language": "de"})  # the session's locale wins
    assert '<html lang="fr">' in page.text and "Payer 25,00\xa0€" in page.text
    assert _buttons(page.text) == ["Payer", "Refuser", "Annuler"]
    declined = browser.post(f"{french.url}/decline")
    assert "Votre carte a été refusée" in declined.text

    german = make_session(locale="de")
    page = browser.get(german.url)
    assert '<html lang="de">' in page.text and "25,00\xa0€ bezahlen" in page.text and "Gesamt" in page.text
    assert _buttons(page.text) == ["Bezahlen", "Ablehnen", "Abbrechen"]
    assert client.v1.checkout.sessions.retrieve(german.id).locale == "de"

    # `auto` (Stripe's default): the browser's languages decide; one the page does not speak shows English
    auto = make_session(locale="auto")
    assert _buttons(browser.get(auto.url, headers={"Accept-Language": "lb, fr-LU;q=0.9"}).text)[0] == "Payer"
    assert _buttons(browser.get(auto.url, headers={"Accept-Language": "it"}).text)[0] == "Pay"
    assert _buttons(browser.get(make_session(locale="fr-CA").url).text)[0] == "Payer"
    assert _buttons(browser.get(make_session(locale="it").url).text)[0] == "Pay"


def test_a_locale_stripe_does_not_know_is_refused(make_session):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        make_session(locale="fr_LU")  # Stripe's codes are fr, fr-CA, de, ... (and auto)
    assert refused.value.param == "locale" and "Invalid locale" in str(refused.value)
