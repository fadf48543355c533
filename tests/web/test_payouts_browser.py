"""Setting up payouts in Chromium: from the studio through the Stripe double's hosted onboarding (Leave, then
Complete onboarding) back to the studio's payouts page, which shows "Payouts enabled"; then a sale's transfer."""

from __future__ import annotations

import pytest

from tests.payments.conftest import Shop
from tests.web.market import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_a_creator_sets_up_payouts_from_the_studio_and_is_paid(make_live, browsing):
    live = make_live()
    shop = Shop(live)
    creator = shop.register(role="creator", name="Anna Schmit")
    base = live.url
    page = signed_in(browsing, creator, base)
    page.goto(f"{base}/studio")
    page.locator("#payouts-link").click()
    page.wait_for_url(f"{base}/studio/payouts")
    assert page.locator("#payout-status").inner_text() == "Payouts not set up"
    browsing.shot(page, "payouts-01-not-set-up")

    page.get_by_role("button", name="Set up payouts").click()
    page.get_by_role("button", name="Complete onboarding").wait_for()  # the double's hosted onboarding
    assert page.url.startswith(live.double.public_url)
    browsing.shot(page, "payouts-02-stripe-onboarding")
    page.get_by_role("button", name="Leave").click()  # back without finishing: a new link from the studio
    page.wait_for_url(f"{base}/studio/payouts?onboarding=refresh")
    assert page.locator("#payout-status").inner_text() == "Onboarding not finished"
    assert "The onboarding link has expired" in page.get_by_role("alert").inner_text()
    browsing.shot(page, "payouts-03-left-onboarding")

    page.get_by_role("button", name="Continue onboarding").click()
    page.get_by_role("button", name="Complete onboarding").click()
    page.wait_for_url(f"{base}/studio/payouts?onboarding=return")
    assert page.locator("#payout-status").inner_text() == "Payouts enabled"
    assert page.get_by_role("button", name="Set up payouts").count() == 0
    browsing.shot(page, "payouts-04-enabled")

    work = shop.minted_work(creator, price_cents=2500)
    buyer = shop.register(role="buyer", name="Marie Buyer")
    r = shop.checkout(buyer, work["id"], accept_immediate_supply=True, accept_license=True)
    assert shop.hosted_pay(r.json()["checkout_url"], "4242424242424242").status_code == 303
    shop.wait_purchase(buyer, r.json()["purchase_id"], "delivered")
    body = {}
    for _ in range(600):  # the payout worker transfers it (polled, at most 30 s)
        body = shop.client.get("/api/me/payouts", headers=creator["headers"]).json()
        if body["paid_cents"]:
            break
        page.wait_for_timeout(50)
    assert body["paid_cents"] == 2250
    page.goto(f"{base}/studio/payouts")
    assert page.locator("#paid").inner_text() == "€22.50"
    cells = [[cell.inner_text() for cell in row.locator("td").all()][1:]
             for row in page.locator("#earnings tbody tr").all()]
    assert sorted(cells) == sorted([["Transfer", work["title"], "€22.50", "Transferred"],
                                    ["Sale", work["title"], "€22.50", "Booked"]])
    browsing.shot(page, "payouts-05-earnings")
    assert browsing.console_errors == [], browsing.console_errors
