"""Token ids, hashes, addresses and CIDs on a phone (Chromium at 390x844): shortened, with a Copy button that
copies the full value; no page scrolls sideways (the purchases table included); and the holder of a work is told
"You own this" on its page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import PHONE
from tests.web.market import build_market, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

CLIPBOARD = {"permissions": ["clipboard-read", "clipboard-write"]}


def fits(page) -> None:
    width = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways: {width}"


def shortened_with_copy(page, full_id: str, value: str) -> None:
    """The value with this full-value id shows shortened, reads in full, and its Copy button copies it whole."""
    holder = page.locator(f".long-value:has(#{full_id})")
    shown = holder.locator(".long-short")
    expect(shown).to_be_visible()
    assert "…" in shown.inner_text() and len(shown.inner_text()) <= 20, shown.inner_text()
    assert value.startswith(shown.inner_text().split("…")[0]) and value.endswith(shown.inner_text().split("…")[1])
    assert page.locator(f"#{full_id}").inner_text() == value  # what a screen reader reads: all of it
    button = holder.get_by_role("button")
    label = button.text_content().removeprefix("Copy ")
    button.click()
    expect(button).to_have_text(f"Copied {label}")
    assert page.evaluate("navigator.clipboard.readText()") == value


def test_long_values_are_short_with_a_copy_button_and_nothing_scrolls_sideways_on_a_phone(make_live, browsing):
    live = make_live()
    market = build_market(live)
    base, sold = market.url, market.sold
    purchase = market.shop.purchase(market.buyer, market.purchase_id)
    buyer = signed_in(browsing, market.buyer, base, viewport=PHONE, **CLIPBOARD)

    buyer.goto(f"{base}/works/{sold['id']}")
    expect(buyer.locator("#you-own-this")).to_have_text("You own this. Go to my collection")
    token = buyer.locator("#work-token-id .long-value")
    assert "…" in token.locator(".long-short").inner_text()
    token.get_by_role("button", name="Copy Token id").click()
    assert buyer.evaluate("navigator.clipboard.readText()") == sold["token_id_hex"]
    fits(buyer)
    browsing.shot(buyer, "phone-01-work-you-own-this")

    buyer.goto(f"{base}/tokens/{sold['token_id_hex']}")
    shortened_with_copy(buyer, "cert-token-hex", sold["token_id_hex"])
    shortened_with_copy(buyer, "cert-owner", market.buyer["wallet_address"])
    shortened_with_copy(buyer, "cert-tx", sold["mint_tx_hash"])
    shortened_with_copy(buyer, "cert-contract", sold["contract_address"])
    fits(buyer)
    browsing.shot(buyer, "phone-02-certificate")

    buyer.goto(f"{base}/purchases/{market.purchase_id}")
    buyer.get_by_text("Delivered: the token is in your wallet.").wait_for()
    shortened_with_copy(buyer, "purchase-token-id", sold["token_id_hex"])
    shortened_with_copy(buyer, "purchase-tx", purchase["delivery_tx_hash"])
    fits(buyer)
    browsing.shot(buyer, "phone-03-purchase")

    buyer.goto(f"{base}/collection")
    table = buyer.locator("#purchases")
    expect(table).to_contain_text(sold["title"])
    assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth"), "the purchases table scrolls"
    fits(buyer)
    browsing.shot(buyer, "phone-04-collection")

    # on a wide screen the values are shown whole; a buyer who does not hold the work is not told they own it
    desktop = signed_in(browsing, market.buyer, base)
    desktop.goto(f"{base}/works/{sold['id']}")
    expect(desktop.locator("#work-token-id .long-full")).to_have_text(sold["token_id_hex"])
    expect(desktop.locator("#work-token-id .long-short")).to_be_hidden()
    other = signed_in(browsing, market.shop.register(role="buyer", name="Paul"), base)
    other.goto(f"{base}/works/{sold['id']}")
    expect(other.get_by_text("This work has been sold.")).to_be_visible()
    assert other.locator("#you-own-this").count() == 0
    assert browsing.console_errors == [], browsing.console_errors
