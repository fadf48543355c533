"""The double's hosted Connect onboarding page in Chromium: a creator presses `Complete onboarding` (the account can
be paid, `account.updated` is sent, the browser is back on the platform's return_url) or `Leave` (back on
refresh_url, nothing changes). Screenshots: test-artifacts/screenshots/stripe-double-onboarding-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from tests.devtools.stripe_double.conftest import WEBHOOK_SECRET
from tests.plugins.browser_fixtures import Browsing

pytestmark = [pytest.mark.browser]

CREATOR = {"type": "express", "country": "LU", "email": "creator@example.lu",
           "capabilities": {"transfers": {"requested": True}}}


@pytest.fixture
def browsing(chromium, double) -> Iterator[Browsing]:
    """Asserts afterwards that the double's pages logged no console error (the receiver's landing is no page)."""
    b = Browsing(chromium)
    yield b
    b.close()
    assert b.csp_violations == []
    assert [e for e in b.console_errors if e.startswith(double.public_url)] == []


def _onboarding(client: stripe.StripeClient, receiver) -> tuple[stripe.Account, stripe.AccountLink]:
    account = client.v1.accounts.create(params=CREATOR)
    link = client.v1.account_links.create(params={
        "account": account.id, "type": "account_onboarding",
        "refresh_url": f"{receiver.base_url}/connect/refresh", "return_url": f"{receiver.base_url}/connect/return"})
    return account, link


def test_a_creator_completes_onboarding_in_the_browser(browsing, client, receiver):
    account, link = _onboarding(client, receiver)
    creator = browsing.person()
    creator.goto(link.url)

    assert creator.get_by_role("heading").inner_text() == "Set up payouts"
    buttons = creator.get_by_role("button")
    assert buttons.all_inner_texts() == ["Complete onboarding", "Leave"]
    assert creator.get_by_text("creator@example.lu").is_visible()
    browsing.shot(creator, "stripe-double-onboarding-01-page")

    creator.get_by_role("button", name="Complete onboarding").click()
    creator.wait_for_url(f"{receiver.base_url}/connect/return")
    assert creator.content().count("landing page") == 1  # the platform's page (the receiver's landing)

    enabled = client.v1.accounts.retrieve(account.id)
    assert (enabled.details_submitted, enabled.payouts_enabled, enabled.charges_enabled) == (True, True, True)
    assert enabled.requirements.currently_due == [] and enabled.capabilities.transfers == "active"
    delivery = receiver.wait_for("account.updated")[0]
    event = stripe.Webhook.construct_event(delivery.body, delivery.headers["Stripe-Signature"], WEBHOOK_SECRET)
    assert event.account == account.id and event.data.object.payouts_enabled is True

    creator.goto(link.url)  # the used link: Stripe sends the creator to refresh_url for a new one
    creator.wait_for_url(f"{receiver.base_url}/connect/refresh")


def test_a_creator_leaves_onboarding_and_nothing_changes(browsing, client, receiver, double):
    account, link = _onboarding(client, receiver)
    creator = browsing.person(locale="fr-FR")
    creator.goto(link.url)
    browsing.shot(creator, "stripe-double-onboarding-02-before-leave")

    creator.get_by_role("button", name="Leave").click()
    creator.wait_for_url(f"{receiver.base_url}/connect/refresh")

    after = client.v1.accounts.retrieve(account.id)
    assert after.to_dict() == account.to_dict()
    assert after.payouts_enabled is False and after.requirements.disabled_reason == "requirements.past_due"
    assert double.events("account.updated") == []
