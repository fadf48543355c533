"""Connect on the double ("separate charges and transfers") through the real Stripe SDK: Express accounts, account
links and the hosted onboarding page, transfers with Stripe's checks and idempotency, reversals, balances, the
test controls, and the signed `account.updated` / `transfer.*` webhooks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import stripe

from tests.devtools.stripe_double.conftest import API_KEY, WEBHOOK_SECRET
from tests.devtools.stripe_double.receiver import WebhookReceiver

CREATOR = {"type": "express", "country": "LU", "email": "creator@example.lu",
           "capabilities": {"transfers": {"requested": True}}, "metadata": {"creator_id": "7"}}


def _buttons(html: str) -> list[str]:
    return re.findall(r"<button[^>]*>([^<]*)</button>", html)


@pytest.fixture
def make_account(client: stripe.StripeClient, double) -> Callable[..., Any]:
    def make(*, onboarded: bool = True, **overrides: Any) -> Any:
        account = client.v1.accounts.create(params={**CREATOR, **overrides})
        if onboarded:
            double.complete_onboarding(account.id)
        return client.v1.accounts.retrieve(account.id)
    return make


@pytest.fixture
def paid_charge(make_session, browser, client) -> Callable[..., Any]:
    """A charge of the platform that succeeded: a Checkout Session paid on the hosted page (€25.00 by default)."""
    def pay(amount: int = 2500) -> Any:
        items = [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": amount,
                                                "product_data": {"name": "Moselle at dawn"}}}]
        session = make_session(line_items=items)
        assert browser.post(f"{session.url}/pay").status_code == 303
        session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
        return client.v1.charges.retrieve(session.payment_intent.latest_charge)
    return pay


def _link(client: stripe.StripeClient, account_id: str, receiver) -> Any:
    return client.v1.account_links.create(params={
        "account": account_id, "type": "account_onboarding",
        "refresh_url": f"{receiver.base_url}/connect/refresh", "return_url": f"{receiver.base_url}/connect/return"})


# -- accounts ---------------------------------------------------------------------------------------------------

def test_an_express_account_is_created_with_its_onboarding_due(client):
    account = client.v1.accounts.create(params=CREATOR)

    assert isinstance(account, stripe.Account)
    assert re.fullmatch(r"acct_1[A-Za-z0-9]{15}", account.id)
    assert (account.object, account.type, account.country, account.default_currency) == (
        "account", "express", "LU", "eur")
    assert (account.details_submitted, account.charges_enabled, account.payouts_enabled) == (False, False, False)
    assert account.capabilities.to_dict() == {"transfers": "inactive"}
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert "external_account" in account.requirements.currently_due
    assert account.requirements.past_due == account.requirements.currently_due
    assert account.requirements.eventually_due == account.requirements.currently_due
    assert account.email == "creator@example.lu"
    assert account.metadata.to_dict() == {"creator_id": "7"}
    assert account.created > 0
    assert client.v1.accounts.retrieve(account.id).to_dict() == account.to_dict()


def test_updating_metadata_merges_it_and_sends_a_connect_account_updated_event(client, receiver):
    account = client.v1.accounts.create(params={**CREATOR, "metadata": {"creator_id": "7", "old": "x"}})
    updated = client.v1.accounts.update(account.id, params={"metadata": {"payouts": "on", "old": ""}})

    assert updated.metadata.to_dict() == {"creator_id": "7", "payouts": "on"}
    event = stripe.Webhook.construct_event(
        (d := receiver.wait_for("account.updated")[0]).body, d.headers["Stripe-Signature"], WEBHOOK_SECRET)
    assert event.account == account.id
    assert event.data.object.metadata.to_dict() == {"creator_id": "7", "payouts": "on"}
    assert event.data.previous_attributes.metadata.to_dict() == {"creator_id": "7", "old": "x"}


@pytest.mark.parametrize(("overrides", "error", "param"), [
    ({"type": None}, stripe.InvalidRequestError, "type"),
    ({"type": "standard"}, stripe.InvalidRequestError, "type=standard"),
    ({"capabilities": None}, stripe.InvalidRequestError, "capabilities"),
    ({"email": "not-an-email"}, stripe.InvalidRequestError, "email"),
    ({"country": "Luxembourg"}, stripe.InvalidRequestError, "country"),
    ({"individual": {"first_name": "Ana"}}, stripe.InvalidRequestError, "individual"),
    ({"capabilitiez": {"transfers": {"requested": True}}}, stripe.InvalidRequestError, "capabilitiez"),
])
def test_invalid_account_parameters_are_refused(client, overrides, error, param):
    params = {k: v for k, v in {**CREATOR, **overrides}.items() if v is not None}
    with pytest.raises(error) as err:
        client.v1.accounts.create(params=params)
    assert err.value.http_status == 400
    assert err.value.param == param


def test_an_unknown_account_is_404(client):
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.accounts.retrieve("acct_1doesnotexist00")
    assert (err.value.http_status, err.value.code) == (404, "resource_missing")


# -- account links and the hosted onboarding page ---------------------------------------------------------------

def test_an_account_link_opens_the_onboarding_page_with_two_buttons(client, double, browser, receiver):
    account = client.v1.accounts.create(params=CREATOR)
    link = _link(client, account.id, receiver)

    assert link.object == "account_link"
    assert link.expires_at == link.created + 300
    assert link.url.startswith(f"{double.public_url}/setup/e/{account.id}/")
    page = browser.get(link.url)
    assert page.status_code == 200
    assert _buttons(page.text) == ["Complete onboarding", "Leave"]
    assert "creator@example.lu" in page.text
    assert not re.search(r"<(script|link|img|iframe)\b|src=|@import|url\(", page.text)  # nothing external


def test_complete_onboarding_enables_the_account_and_returns_to_the_platform(client, browser, receiver):
    account = client.v1.accounts.create(params=CREATOR)
    link = _link(client, account.id, receiver)
    browser.get(link.url)
    done = browser.post(f"{link.url}/complete")

    assert done.status_code == 303
    assert done.headers["location"] == f"{receiver.base_url}/connect/return"
    enabled = client.v1.accounts.retrieve(account.id)
    assert (enabled.details_submitted, enabled.charges_enabled, enabled.payouts_enabled) == (True, True, True)
    assert enabled.capabilities.to_dict() == {"transfers": "active"}
    assert enabled.requirements.currently_due == enabled.requirements.eventually_due == []
    assert enabled.requirements.past_due == [] and enabled.requirements.disabled_reason is None

    delivery = receiver.wait_for("account.updated")[0]
    event = stripe.Webhook.construct_event(delivery.body, delivery.headers["Stripe-Signature"], WEBHOOK_SECRET)
    assert (event.type, event.account) == ("account.updated", account.id)
    assert event.data.object.payouts_enabled is True
    assert event.data.previous_attributes.payouts_enabled is False
    assert event.request.id is None  # the creator did it on Stripe's page, not the platform through the API

    again = browser.get(link.url)  # a used link sends the browser to refresh_url, as on Stripe
    assert (again.status_code, again.headers["location"]) == (303, f"{receiver.base_url}/connect/refresh")


def test_leave_goes_back_to_refresh_url_and_changes_nothing(client, browser, receiver, double):
    account = client.v1.accounts.create(params=CREATOR)
    link = _link(client, account.id, receiver)
    browser.get(link.url)
    left = browser.post(f"{link.url}/leave")

    assert (left.status_code, left.headers["location"]) == (303, f"{receiver.base_url}/connect/refresh")
    assert client.v1.accounts.retrieve(account.id).to_dict() == account.to_dict()
    assert double.events("account.updated") == []
    late = browser.post(f"{link.url}/complete")  # the link is used up: completing later is not possible
    assert late.headers["location"] == f"{receiver.base_url}/connect/refresh"
    assert client.v1.accounts.retrieve(account.id).payouts_enabled is False


def test_an_expired_link_sends_the_browser_to_refresh_url_and_an_unknown_one_is_404(client, browser, receiver,
                                                                                    double):
    account = client.v1.accounts.create(params=CREATOR)
    link = _link(client, account.id, receiver)
    double.advance_clock(301)

    expired = browser.get(link.url)
    assert (expired.status_code, expired.headers["location"]) == (303, f"{receiver.base_url}/connect/refresh")
    assert browser.post(f"{link.url}/complete").headers["location"] == f"{receiver.base_url}/connect/refresh"
    assert client.v1.accounts.retrieve(account.id).details_submitted is False
    unknown = browser.get(f"{double.public_url}/setup/e/{account.id}/nosuchtoken0")
    assert unknown.status_code == 404 and "does not exist" in unknown.text


def test_account_link_parameters_are_checked(client, receiver):
    account = client.v1.accounts.create(params=CREATOR)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.account_links.create(params={"account": "acct_1nothere0000000", "type": "account_onboarding",
                                               "refresh_url": "http://x.test/r", "return_url": "http://x.test/k"})
    assert (err.value.http_status, err.value.code, err.value.param) == (400, "resource_missing", "account")
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.account_links.create(params={"account": account.id, "type": "account_onboarding",
                                               "refresh_url": "http://x.test/r"})
    assert (err.value.code, err.value.param) == ("parameter_missing", "return_url")
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.account_links.create(params={"account": account.id, "type": "account_update",
                                               "refresh_url": "http://x.test/r", "return_url": "http://x.test/k"})
    assert err.value.param == "type"


# -- controls ---------------------------------------------------------------------------------------------------

def test_the_restrict_control_disables_payouts_and_fires_account_updated(make_account, double, receiver, client):
    account = make_account()
    receiver.wait_for("account.updated")
    answer = httpx.post(f"{double.api_base}/_double/accounts/{account.id}/restrict",
                        data={"requirements": "individual.verification.document,external_account"})

    assert answer.status_code == 200
    restricted = client.v1.accounts.retrieve(account.id)
    assert restricted.payouts_enabled is False and restricted.charges_enabled is False
    assert restricted.requirements.past_due == ["individual.verification.document", "external_account"]
    assert restricted.requirements.disabled_reason == "requirements.past_due"
    assert restricted.capabilities.to_dict() == {"transfers": "inactive"}
    delivery = receiver.wait_for("account.updated", count=2)[1]
    event = stripe.Webhook.construct_event(delivery.body, delivery.headers["Stripe-Signature"], WEBHOOK_SECRET)
    assert event.account == account.id and event.data.object.payouts_enabled is False
    assert event.data.previous_attributes.payouts_enabled is True
    # the generic controls work on Connect events too: a duplicate copy arrives, signed
    assert httpx.post(f"{double.api_base}/_double/webhooks/duplicate/{event.id}").status_code == 200
    copies = [r for r in receiver.wait_for("account.updated", count=3) if r.event["id"] == event.id]
    assert len(copies) == 2
    assert httpx.post(f"{double.api_base}/_double/accounts/acct_1nothere0000000/restrict").status_code == 404


# -- transfers --------------------------------------------------------------------------------------------------

def test_a_transfer_from_a_charge_reaches_the_connected_account(client, make_account, paid_charge, receiver):
    account = make_account()
    charge = paid_charge(2500)
    assert re.fullmatch(r"ch_[A-Za-z0-9]+", charge.id) and charge.status == "succeeded"
    transfer = client.v1.transfers.create(params={
        "amount": 2125, "currency": "eur", "destination": account.id, "transfer_group": "purchase-12",
        "source_transaction": charge.id, "metadata": {"purchase_id": "12"}, "description": "Sale of work 7"})

    assert isinstance(transfer, stripe.Transfer)
    assert re.fullmatch(r"tr_1[A-Za-z0-9]{24}", transfer.id)
    assert (transfer.object, transfer.amount, transfer.amount_reversed, transfer.currency) == (
        "transfer", 2125, 0, "eur")
    assert (transfer.destination, transfer.transfer_group, transfer.source_transaction) == (
        account.id, "purchase-12", charge.id)
    assert transfer.reversed is False
    assert transfer.reversals.to_dict() == {"object": "list", "data": [], "has_more": False,
                                                      "total_count": 0, "url": f"/v1/transfers/{transfer.id}/reversals"}
    assert transfer.metadata.to_dict() == {"purchase_id": "12"} and transfer.description == "Sale of work 7"
    assert client.v1.transfers.retrieve(transfer.id).to_dict() == transfer.to_dict()
    expanded = client.v1.transfers.retrieve(transfer.id, params={"expand": ["destination", "source_transaction"]})
    assert (expanded.destination.id, expanded.source_transaction.id) == (account.id, charge.id)

    delivery = receiver.wait_for("transfer.created")[0]
    event = stripe.Webhook.construct_event(delivery.body, delivery.headers["Stripe-Signature"], WEBHOOK_SECRET)
    assert event.data.object.id == transfer.id and "account" not in event  # a platform event
    assert event.request.id == transfer.last_response.request_id


def test_transfers_are_listed_by_group_and_destination_with_pagination(client, make_account, paid_charge):
    first, second = make_account(), make_account(email="other@example.lu")
    charge = paid_charge(5000)
    made = [client.v1.transfers.create(params={"amount": 500, "currency": "eur", "destination": dest.id,
                                               "source_transaction": charge.id, "transfer_group": group})
            for dest, group in ((first, "g-1"), (second, "g-1"), (first, "g-2"), (first, "g-1"))]

    group = client.v1.transfers.list(params={"transfer_group": "g-1"})
    assert [t.id for t in group.data] == [made[3].id, made[1].id, made[0].id]  # newest first
    assert group.url == "/v1/transfers" and group.has_more is False
    assert [t.id for t in client.v1.transfers.list(params={"destination": second.id}).data] == [made[1].id]
    both = client.v1.transfers.list(params={"transfer_group": "g-1", "destination": first.id})
    assert [t.id for t in both.data] == [made[3].id, made[0].id]
    page = client.v1.transfers.list(params={"limit": 2})
    assert [t.id for t in page.data] == [made[3].id, made[2].id] and page.has_more is True
    rest = client.v1.transfers.list(params={"limit": 2, "starting_after": page.data[-1].id})
    assert [t.id for t in rest.data] == [made[1].id, made[0].id] and rest.has_more is False


def test_the_same_idempotency_key_returns_the_same_transfer_and_other_params_are_refused(
        client, make_account, paid_charge, double):
    account = make_account()
    charge = paid_charge()
    params = {"amount": 1000, "currency": "eur", "destination": account.id, "source_transaction": charge.id}
    first = client.v1.transfers.create(params=params, options={"idempotency_key": "payout-12-7"})
    again = client.v1.transfers.create(params=params, options={"idempotency_key": "payout-12-7"})

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError) as err:
        client.v1.transfers.create(params={**params, "amount": 1001}, options={"idempotency_key": "payout-12-7"})
    assert err.value.http_status == 400 and err.value.json_body["error"]["type"] == "idempotency_error"
    assert [t.id for t in client.v1.transfers.list().data] == [first.id]
    assert len(double.events("transfer.created")) == 1


def test_transfers_from_one_charge_cannot_exceed_its_amount(client, make_account, paid_charge):
    account = make_account()
    charge = paid_charge(2500)
    params = {"currency": "eur", "destination": account.id, "source_transaction": charge.id}
    client.v1.transfers.create(params={**params, "amount": 2000})
    client.v1.transfers.create(params={**params, "amount": 500})  # exactly the charge: allowed

    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.transfers.create(params={**params, "amount": 1})
    assert (err.value.http_status, err.value.code, err.value.param) == (400, "balance_insufficient", "amount")
    assert "€0.01" in err.value.user_message and "€25.00" in err.value.user_message
    assert sum(t.amount for t in client.v1.transfers.list().data) == 2500


def _declined_charge(make_session, browser, client) -> str:
    session = make_session()
    browser.post(f"{session.url}/decline")
    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    return session.payment_intent.latest_charge


@pytest.mark.parametrize("case", ["unknown destination", "not onboarded", "restricted", "unknown charge",
                                  "failed charge", "other currency", "zero", "negative", "not an integer",
                                  "no currency"])
def test_transfers_are_checked_like_stripe(case, client, make_account, paid_charge, double, make_session, browser):
    account = make_account()
    charge = paid_charge()
    params: dict[str, Any] = {"amount": 100, "currency": "eur", "destination": account.id,
                              "source_transaction": charge.id}
    expected: tuple[str | None, str | None] = (None, None)
    if case == "unknown destination":
        params["destination"], expected = "acct_1nothere0000000", ("resource_missing", "destination")
    elif case == "not onboarded":
        params["destination"] = make_account(onboarded=False).id
        expected = ("insufficient_capabilities_for_transfer", "destination")
    elif case == "restricted":
        double.restrict_account(account.id)
        expected = ("insufficient_capabilities_for_transfer", "destination")
    elif case == "unknown charge":
        params["source_transaction"], expected = "ch_nothere", ("resource_missing", "source_transaction")
    elif case == "failed charge":
        params["source_transaction"] = _declined_charge(make_session, browser, client)
        expected = (None, "source_transaction")
    elif case == "other currency":
        params["currency"], expected = "usd", (None, "currency")
    elif case == "zero":
        params["amount"], expected = 0, ("parameter_invalid_integer", "amount")
    elif case == "negative":
        params["amount"], expected = -5, ("parameter_invalid_integer", "amount")
    elif case == "not an integer":
        params["amount"], expected = "1.5", ("parameter_invalid_integer", "amount")
    elif case == "no currency":
        del params["currency"]
        expected = ("parameter_missing", "currency")

    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.transfers.create(params=params)
    assert err.value.http_status == 400
    assert err.value.json_body["error"]["type"] == "invalid_request_error"
    assert (err.value.code, err.value.param) == expected
    assert client.v1.transfers.list().data == []


def test_without_a_source_transaction_the_platform_balance_must_cover_the_transfer(client, make_account,
                                                                                   paid_charge):
    account = make_account()
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.transfers.create(params={"amount": 100, "currency": "eur", "destination": account.id})
    assert err.value.code == "balance_insufficient"
    paid_charge(2500)
    transfer = client.v1.transfers.create(params={"amount": 2500, "currency": "eur", "destination": account.id})
    assert transfer.source_transaction is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.create(params={"amount": 1, "currency": "eur", "destination": account.id})


# -- reversals --------------------------------------------------------------------------------------------------

def test_reversals_take_back_part_then_the_rest_and_no_more(client, make_account, paid_charge, receiver):
    account = make_account()
    charge = paid_charge()
    transfer = client.v1.transfers.create(params={"amount": 2000, "currency": "eur", "destination": account.id,
                                                  "source_transaction": charge.id})
    part = client.v1.transfers.reversals.create(transfer.id, params={"amount": 500, "metadata": {"refund": "r1"}})

    assert isinstance(part, stripe.TransferReversal)
    assert re.fullmatch(r"trr_1[A-Za-z0-9]{24}", part.id)
    assert (part.object, part.amount, part.transfer, part.currency) == ("transfer_reversal", 500, transfer.id, "eur")
    assert part.metadata.to_dict() == {"refund": "r1"} and part.created > 0
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 1501})
    assert (err.value.code, err.value.param) == ("amount_too_large", "amount")

    rest = client.v1.transfers.reversals.create(transfer.id)  # no amount: what is left
    assert rest.amount == 1500
    after = client.v1.transfers.retrieve(transfer.id)
    assert (after.amount_reversed, after.reversed) == (2000, True)
    assert [r.id for r in after.reversals.data] == [rest.id, part.id] and after.reversals.total_count == 2
    assert [r.id for r in client.v1.transfers.reversals.list(transfer.id).data] == [rest.id, part.id]
    assert client.v1.transfers.reversals.retrieve(transfer.id, part.id).amount == 500
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 1})
    assert err.value.code == "transfer_already_reversed"

    deliveries = receiver.wait_for("transfer.reversed", count=2)
    events = [stripe.Webhook.construct_event(d.body, d.headers["Stripe-Signature"], WEBHOOK_SECRET)
              for d in deliveries]
    assert sorted(e.data.object.amount_reversed for e in events) == [500, 2000]
    assert all(e.data.object.object == "transfer" for e in events)


def test_a_refused_reversal_changes_nothing_and_the_next_one_works(client, make_account, paid_charge, double):
    account = make_account()
    charge = paid_charge()
    transfer = client.v1.transfers.create(params={"amount": 2000, "currency": "eur", "destination": account.id,
                                                  "source_transaction": charge.id})
    answer = httpx.post(f"{double.api_base}/_double/accounts/{account.id}/fail_next_reversal")
    assert answer.status_code == 200

    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 2000},
                                             options={"idempotency_key": "reverse-12"})
    assert (err.value.http_status, err.value.code) == (400, "balance_insufficient")
    assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 0
    assert double.events("transfer.reversed") == []
    connected = client.v1.balance.retrieve(options={"stripe_account": account.id})
    assert [(b.amount, b.currency) for b in connected.available] == [(2000, "eur")]
    # a refusal is not saved under the idempotency key: the retry goes through
    done = client.v1.transfers.reversals.create(transfer.id, params={"amount": 2000},
                                                options={"idempotency_key": "reverse-12"})
    assert done.amount == 2000


# -- balances and charges ---------------------------------------------------------------------------------------

def test_balances_of_the_platform_and_of_a_connected_account_reconcile_to_the_cent(client, make_account,
                                                                                   paid_charge):
    account = make_account()
    first, second = paid_charge(2500), paid_charge(1999)
    t1 = client.v1.transfers.create(params={"amount": 2125, "currency": "eur", "destination": account.id,
                                            "source_transaction": first.id})
    client.v1.transfers.create(params={"amount": 1699, "currency": "eur", "destination": account.id,
                                       "source_transaction": second.id})
    client.v1.transfers.reversals.create(t1.id, params={"amount": 333})

    platform = client.v1.balance.retrieve()
    assert platform.object == "balance"
    assert [(b.amount, b.currency) for b in platform.available] == [(2500 + 1999 - 2125 - 1699 + 333, "eur")]
    assert [(b.amount, b.currency) for b in platform.pending] == [(0, "eur")]
    connected = client.v1.balance.retrieve(options={"stripe_account": account.id})
    assert [(b.amount, b.currency) for b in connected.available] == [(2125 + 1699 - 333, "eur")]
    assert platform.available[0].amount + connected.available[0].amount == 2500 + 1999


def test_the_stripe_account_header_must_name_a_connected_account(client, make_account):
    with pytest.raises(stripe.PermissionError) as err:
        client.v1.balance.retrieve(options={"stripe_account": "acct_1nothere0000000"})
    assert (err.value.http_status, err.value.json_body["error"]["code"]) == (403, "account_invalid")
    account = make_account()
    assert client.v1.accounts.retrieve(account.id, options={"stripe_account": account.id}).id == account.id
    with pytest.raises(stripe.InvalidRequestError) as err:  # not modelled: refused, never silently ignored
        client.v1.transfers.list(options={"stripe_account": account.id})
    assert err.value.param == "Stripe-Account"


def test_a_paid_session_leads_to_its_succeeded_charge(client, make_session, browser, receiver):
    session = make_session()
    browser.post(f"{session.url}/pay")
    completed = receiver.wait_for("checkout.session.completed")[0].event["data"]["object"]

    intent = client.v1.payment_intents.retrieve(completed["payment_intent"])
    assert intent.status == "succeeded" and re.fullmatch(r"ch_[A-Za-z0-9]+", intent.latest_charge)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.amount_captured, charge.payment_intent) == ("succeeded", 2500, intent.id)


def test_raw_wire_format_of_a_transfer_is_form_encoded_json_out(api, make_account, paid_charge):
    account = make_account()
    charge = paid_charge()
    answer = api.post("/v1/transfers", content=f"amount=700&currency=eur&destination={account.id}"
                                               f"&source_transaction={charge.id}&metadata[purchase_id]=12",
                      headers={"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": "raw-1"})
    assert answer.status_code == 200
    assert answer.headers["Request-Id"].startswith("req_")
    body = answer.json()
    assert (body["object"], body["amount"], body["metadata"]) == ("transfer", 700, {"purchase_id": "12"})
    assert api.get("/v1/transfers/tr_nothere").json()["error"]["code"] == "resource_missing"
    assert API_KEY.startswith("sk_test_")


def test_payment_intent_data_transfer_group_reaches_the_payment_intent_and_its_charge(client, make_session, browser):
    session = make_session(payment_intent_data={"metadata": {"purchase_id": "12"}, "transfer_group": "purchase-12"})
    browser.post(f"{session.url}/pay")
    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent.latest_charge"]})

    assert session.payment_intent.transfer_group == "purchase-12"
    assert session.payment_intent.latest_charge.transfer_group == "purchase-12"


def test_after_a_payout_a_reversal_the_balance_cannot_cover_is_refused(client, make_account, paid_charge, double,
                                                                        receiver):
    account = make_account()
    charge = paid_charge()
    transfer = client.v1.transfers.create(params={"amount": 2000, "currency": "eur", "destination": account.id,
                                                  "source_transaction": charge.id})
    answer = httpx.post(f"{double.api_base}/_double/accounts/{account.id}/payout", params={"amount": 1500})
    assert answer.status_code == 200 and answer.json()["amount"] == 1500
    delivery = receiver.wait_for("payout.paid")[0]
    event = stripe.Webhook.construct_event(delivery.body, delivery.headers["Stripe-Signature"], WEBHOOK_SECRET)
    assert (event.account, event.data.object.amount, event.data.object.status) == (account.id, 1500, "paid")
    connected = client.v1.balance.retrieve(options={"stripe_account": account.id})
    assert [(b.amount, b.currency) for b in connected.available] == [(500, "eur")]

    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 501})
    assert err.value.code == "balance_insufficient"
    assert client.v1.transfers.reversals.create(transfer.id, params={"amount": 500}).amount == 500
    assert client.v1.balance.retrieve(options={"stripe_account": account.id}).available[0].amount == 0
    too_much = httpx.post(f"{double.api_base}/_double/accounts/{account.id}/payout", params={"amount": 1})
    assert too_much.status_code == 400


def test_accounts_are_listed_newest_first(client, make_account):
    first, second = make_account(), make_account(onboarded=False, email="second@example.lu")
    listed = client.v1.accounts.list()
    assert [a.id for a in listed.data] == [second.id, first.id] and listed.url == "/v1/accounts"
    page = client.v1.accounts.list(params={"limit": 1})
    assert [a.id for a in page.data] == [second.id] and page.has_more is True


def test_the_dashboard_lists_connected_accounts_and_transfers(client, make_account, paid_charge, browser, double):
    account = make_account()
    charge = paid_charge()
    transfer = client.v1.transfers.create(params={"amount": 2125, "currency": "eur", "destination": account.id,
                                                  "source_transaction": charge.id, "transfer_group": "purchase-12"})
    client.v1.transfers.reversals.create(transfer.id, params={"amount": 125})
    page = browser.get(f"{double.public_url}/")

    assert page.status_code == 200
    assert "creator@example.lu" in page.text and "payouts enabled" in page.text
    assert transfer.id in page.text and "purchase-12" in page.text
    assert "€21.25" in page.text and "reversed €1.25" in page.text


def test_connect_events_go_to_the_connect_endpoint_with_its_own_secret(client, make_account, paid_charge, double,
                                                                       receiver):
    connect_receiver = WebhookReceiver()
    connect_secret = "whsec_connect_endpoint_0123456789"
    answer = httpx.post(f"{double.api_base}/_double/webhooks/endpoint",
                        data={"connect_url": connect_receiver.url, "connect_secret": connect_secret})
    try:
        assert answer.json()["connect_url"] == connect_receiver.url
        account = make_account()
        charge = paid_charge()
        client.v1.transfers.create(params={"amount": 100, "currency": "eur", "destination": account.id,
                                           "source_transaction": charge.id})

        delivery = connect_receiver.wait_for("account.updated")[0]
        event = stripe.Webhook.construct_event(delivery.body, delivery.headers["Stripe-Signature"], connect_secret)
        assert event.account == account.id
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(delivery.body, delivery.headers["Stripe-Signature"], WEBHOOK_SECRET)
        receiver.wait_for("transfer.created")  # platform events stay on the platform endpoint
        assert receiver.posts("account.updated") == []
        assert {r.event["type"] for r in connect_receiver.posts()} == {"account.updated"}
    finally:
        double.state.webhooks.configure(connect_url="", connect_secret="")
        connect_receiver.stop()


def test_a_restricted_account_onboarded_again_can_be_paid_again(client, make_account, paid_charge, double, browser,
                                                                receiver):
    account = make_account()
    double.restrict_account(account.id, ["external_account"])
    charge = paid_charge()
    params = {"amount": 100, "currency": "eur", "destination": account.id, "source_transaction": charge.id}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.create(params=params)

    link = _link(client, account.id, receiver)
    browser.get(link.url)
    assert browser.post(f"{link.url}/complete").headers["location"] == f"{receiver.base_url}/connect/return"
    again = client.v1.accounts.retrieve(account.id)
    assert again.payouts_enabled is True and again.requirements.past_due == []
    assert client.v1.transfers.create(params=params).amount == 100
