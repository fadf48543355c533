"""A buyer reads the licence before paying (Chromium, desktop and a 390 px phone): the work page shows its summary
in the page's language and links the full terms; Buy does nothing until "I have read the licence" is ticked (the
browser's `required`, and the server's own refusal when a form arrives without it); the certificate says what the
holder may and may not do."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from marketplace.catalog import licences
from tests.payments.conftest import purchases
from tests.web.conftest import PHONE
from tests.web.market import build_market, signed_in
from tests.web.test_browser import buy
from tests.web.test_phone_browser import fits

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_buy_waits_for_the_licence_to_be_read_and_the_certificate_says_what_the_holder_may_do(make_live, browsing):
    market = build_market(make_live(), works=[{"title": "Kirchberg at Dusk", "price_cents": 4500,
                                               "license": "personal-use"}], buy=False)
    base, work = market.url, market.works[0]
    buyer = signed_in(browsing, market.buyer, base)
    buyer.goto(f"{base}/works/{work['id']}")
    licence = buyer.locator("#licence")
    expect(licence.get_by_role("heading")).to_have_text("Licence: Personal use")
    expect(licence).to_contain_text(licences.get("personal-use").summary["en"])
    expect(licence.get_by_role("link", name="Read the full licence")).to_have_attribute(
        "href", f"/ipfs/{licences.get('personal-use').cid}")
    browsing.shot(buyer, "licence-01-work-page")
    phone = signed_in(browsing, market.buyer, base, viewport=PHONE, locale="fr-FR")
    phone.goto(f"{base}/works/{work['id']}")
    expect(phone.get_by_label("J'ai lu la licence")).not_to_be_checked()
    fits(phone)
    browsing.shot(phone, "licence-02-phone-buy-form-fr")

    # the browser keeps the form until the box is ticked: nothing reserved
    buyer.get_by_role("button", name="Buy for €45.00").click()
    box = buyer.get_by_label("I have read the licence")
    assert box.evaluate("box => box.validity.valueMissing") and buyer.url == f"{base}/works/{work['id']}"
    # a form sent without the tick anyway (no browser validation) is refused by the server, next to the box
    buyer.evaluate("document.querySelector('.buy-form').noValidate = true")
    buyer.get_by_role("button", name="Buy for €45.00").click()
    expect(buyer.locator("#accept-license-error")).to_have_text("Tick the box to confirm you have read the licence.")
    expect(buyer.get_by_label("I have read the licence")).to_have_attribute("aria-invalid", "true")
    assert purchases() == []
    browsing.shot(buyer, "licence-03-buy-refused-without-the-tick")

    buy(buyer, "Buy for €45.00")
    buyer.wait_for_url(f"{market.shop.live.double.public_url}/pay/**")
    buyer.get_by_role("button", name="Pay", exact=True).click()
    buyer.get_by_text("Delivered: the token is in your wallet.").wait_for(timeout=45_000)
    (purchase,) = purchases()
    assert purchase.license_accepted_at is not None

    # the certificate, in the holder's language, on a phone
    sold = market.shop.client.get(f"/api/works/{work['id']}").json()
    phone.goto(f"{base}/tokens/{sold['token_id_hex']}")
    rights = phone.locator("#holder-rights-section")
    expect(rights.get_by_role("heading", name="Ce que le détenteur peut faire")).to_be_visible()
    expect(rights.locator("#holder-may li")).to_have_count(3)
    expect(rights.locator("#holder-may-not li").first).to_have_text(re.compile("^L'exploiter commercialement"))
    expect(rights).to_contain_text("Le droit d'auteur reste aux créateurs.")
    fits(phone)
    browsing.shot(phone, "licence-04-phone-certificate-fr")
    phone.goto(f"{base}/works/{work['id']}")
    expect(phone.locator("#licence")).to_contain_text(licences.get("personal-use").summary["fr"])
    fits(phone)
    browsing.shot(phone, "licence-05-phone-work-page-fr")

    # the same certificate on a desktop, in English
    buyer.goto(f"{base}/tokens/{sold['token_id_hex']}")
    expect(buyer.locator("#holder-may-not")).to_contain_text("Keep using it once you no longer hold the token.")
    browsing.shot(buyer, "licence-06-certificate")
