"""A buyer in the EU (Chromium): Buy stays put until the consent to immediate supply is ticked (the browser's
`required`), then pays on Stripe's page and opens the receipt from the purchase page: sellers, licence, token, the
VAT in the price, and the PDF. The terms linked from the box say the same words."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from marketplace.payments.models import IMMEDIATE_SUPPLY_CONSENT
from tests.payments.conftest import purchases
from tests.web.market import build_market, signed_in
from tests.web.pdf_text import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_buying_needs_the_consent_box_and_the_receipt_shows_the_vat(make_live, browsing):
    market = build_market(make_live(), works=[{"title": "Kirchberg at Dusk", "price_cents": 4500,
                                               "license": "personal-use"}], buy=False)
    base, work = market.url, market.works[0]
    buyer = signed_in(browsing, market.buyer, base)
    buyer.goto(f"{base}/works/{work['id']}")
    consent = buyer.locator("#accept-immediate-supply")
    expect(buyer.get_by_label(IMMEDIATE_SUPPLY_CONSENT)).to_be_visible()
    buyer.get_by_label("I have read the licence").check()
    browsing.shot(buyer, "buyer-rights-01-work-page-consent-box")

    # the licence ticked, the consent not: the browser does not send the form, nothing is reserved
    buyer.get_by_role("button", name="Buy for €45.00").click()
    assert consent.evaluate("box => box.validity.valueMissing")
    assert buyer.url == f"{base}/works/{work['id']}" and purchases() == []
    browsing.shot(buyer, "buyer-rights-02-buy-held-without-consent")

    consent.check()
    buyer.get_by_role("button", name="Buy for €45.00").click()
    buyer.wait_for_url(f"{market.shop.live.double.public_url}/pay/**")
    buyer.get_by_role("button", name="Pay", exact=True).click()
    buyer.wait_for_url(re.compile(rf"{re.escape(base)}/purchases/\d+\?session_id=cs_"))
    buyer.get_by_text("Delivered: the token is in your wallet.").wait_for(timeout=45_000)
    (purchase,) = purchases()
    assert purchase.immediate_supply_consent_text == IMMEDIATE_SUPPLY_CONSENT
    browsing.shot(buyer, "buyer-rights-03-purchase-with-receipt-link")

    buyer.locator("#receipt-link").click()
    buyer.wait_for_url(f"{base}/purchases/{purchase.id}/receipt")
    expect(buyer.get_by_role("heading", level=1)).to_have_text(f"Receipt R-{purchase.id:06d}")
    facts = buyer.locator("#receipt-facts")
    expect(facts).to_contain_text("Anna Schmit Studio")
    expect(facts).to_contain_text("Personal use")
    expect(facts).to_contain_text(f"0x{int(purchase.token_id):064x}")
    # €45.00 VAT included at 17 %: 45.00 / 1.17 = 38.46 net, 6.54 VAT
    expect(buyer.locator("#receipt-lines")).to_contain_text("€38.46")
    expect(buyer.locator("#receipt-lines")).to_contain_text("€6.54")
    expect(buyer.locator("#receipt-notes")).to_contain_text("€38.46 net + €6.54 VAT = €45.00")
    expect(buyer.locator("#receipt-notes")).to_contain_text(IMMEDIATE_SUPPLY_CONSENT)
    browsing.shot(buyer, "buyer-rights-04-receipt")

    pdf = buyer.request.get(base + buyer.locator("#receipt-pdf").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.body())
    assert f"Receipt R-{purchase.id:06d}" in text and "€38.46" in text and "€6.54" in text and "€45.00" in text

    buyer.goto(f"{base}/collection")
    expect(buyer.locator("#purchases")).to_contain_text("Receipt")
    buyer.locator("#purchases").get_by_role("link", name="Receipt").click()
    buyer.wait_for_url(f"{base}/purchases/{purchase.id}/receipt")

    # the terms the box links to say the same words, in the footer of every page
    buyer.get_by_role("contentinfo").get_by_role("link", name="Terms of sale").click()
    buyer.wait_for_url(f"{base}/terms")
    expect(buyer.locator("#consent-wording")).to_have_text(IMMEDIATE_SUPPLY_CONSENT)
    browsing.shot(buyer, "buyer-rights-05-terms")
