"""The gallery's filters in Chromium: the address bar follows every filter and sort (htmx swaps included, and
Back), "Clear filters" shows whenever a filter is set, a page past the end says so, and on a phone the works come
first with the filters folded behind a button."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import PHONE
from tests.web.market import build_market, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

WORKS = [
    {"title": "Kirchberg at Dusk", "discipline": "photography", "price_cents": 1200},
    {"title": "Moselle at Dawn", "discipline": "photography", "price_cents": 4500},
    {"title": "Schueberfouer Theme", "discipline": "music", "price_cents": 900, "license": "CC-BY-SA-4.0"},
    {"title": "Grund Stairs", "discipline": "design", "price_cents": 2000},
]


def titles(page):
    """The titles of the works listed, to wait on (htmx swaps the results after the address changes)."""
    return expect(page.locator("#results .card-title"))


@pytest.fixture
def market(make_live):
    return build_market(make_live(), works=WORKS, buy=False)


def test_the_address_bar_follows_the_filters_and_clear_filters_shows_when_one_is_set(market, browsing):
    base = market.url
    page = signed_in(browsing, None, base)
    page.goto(base + "/")
    titles(page).to_have_count(4)
    clear = page.get_by_role("link", name="Clear filters")
    assert clear.count() == 0  # nothing to clear

    page.get_by_label("Discipline").select_option("photography")
    page.wait_for_url(f"{base}/?discipline=photography")
    titles(page).to_have_text(["Moselle at Dawn", "Kirchberg at Dusk"])  # newest first
    expect(clear).to_be_visible()
    browsing.shot(page, "gallery-01-filtered")

    page.get_by_label("Sort by").select_option("price_asc")
    page.wait_for_url(f"{base}/?discipline=photography&sort=price_asc")
    titles(page).to_have_text(["Kirchberg at Dusk", "Moselle at Dawn"])

    page.get_by_label("Max. price (€)").fill("20")
    page.get_by_label("Search").fill("dusk")
    page.get_by_label("Search").press("Enter")
    page.wait_for_url(f"{base}/?q=dusk&discipline=photography&max_price=20&sort=price_asc")
    titles(page).to_have_text(["Kirchberg at Dusk"])
    expect(page.locator("#results .count")).to_have_text("1 work · Clear filters")

    page.go_back()  # the address and the page go back together
    page.wait_for_url(f"{base}/?discipline=photography&sort=price_asc")
    titles(page).to_have_text(["Kirchberg at Dusk", "Moselle at Dawn"])
    expect(page.get_by_label("Sort by")).to_have_value("price_asc")
    expect(page.get_by_label("Search")).to_have_value("")

    page.get_by_label("Discipline").select_option("")  # only the sort is left: not a filter
    page.wait_for_url(f"{base}/?sort=price_asc")
    titles(page).to_have_text(["Schueberfouer Theme", "Kirchberg at Dusk", "Grund Stairs", "Moselle at Dawn"])
    expect(clear).to_have_count(0)

    page.get_by_label("Creator").fill("Anna")  # a text filter, sent with Apply
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"{base}/?creator=Anna&sort=price_asc")
    expect(clear).to_be_visible()
    clear.click()
    page.wait_for_url(f"{base}/")
    titles(page).to_have_count(4)
    expect(clear).to_have_count(0)
    expect(page.get_by_label("Creator")).to_have_value("")


def test_a_page_past_the_end_says_so(market, browsing):
    base = market.url
    page = signed_in(browsing, None, base)
    page.goto(base + "/?page=9")
    results = page.locator("#results")
    assert "Page 9 is past the end: there are 4 works." in results.inner_text()
    assert "No works" not in results.inner_text() and "4 works" not in page.locator("#results .count").all_inner_texts()
    browsing.shot(page, "gallery-02-past-the-end")
    page.get_by_role("link", name="Go to the last page").click()
    page.wait_for_url(f"{base}/")
    titles(page).to_have_count(4)

    page.goto(base + "/?discipline=music&page=3")
    assert "Page 3 is past the end: there is 1 work." in results.inner_text()
    page.get_by_role("link", name="Go to the last page").click()
    page.wait_for_url(f"{base}/?discipline=music")
    titles(page).to_have_text(["Schueberfouer Theme"])


def test_on_a_phone_the_works_come_first_and_the_filters_fold(market, browsing):
    base = market.url
    page = signed_in(browsing, None, base, viewport=PHONE)
    page.goto(base + "/")
    title = page.locator("#results .card-title").first.bounding_box()  # the first work, its title too
    assert title["y"] + title["height"] <= PHONE["height"], title
    toggle = page.get_by_text("Filters", exact=True)
    assert toggle.is_visible() and not page.get_by_label("Search").is_visible()
    browsing.shot(page, "gallery-03-phone", full_page=False)
    toggle.click()
    page.get_by_label("Discipline").select_option("music")
    page.wait_for_url(f"{base}/?discipline=music")
    titles(page).to_have_text(["Schueberfouer Theme"])
    expect(page.get_by_role("link", name="Clear filters")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    browsing.shot(page, "gallery-04-phone-filters-open", full_page=False)

    desktop = signed_in(browsing, None, base)
    desktop.goto(base + "/")
    assert desktop.get_by_label("Search").is_visible()  # on a wide screen the filters are simply there
    assert not desktop.get_by_text("Filters", exact=True).is_visible()
