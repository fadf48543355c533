"""Every page, as the person who would see it, says nothing in the console: no error, no uncaught exception, no
Content-Security-Policy violation (htmx's swaps and polling included)."""

from __future__ import annotations

import pytest

from tests.web.market import build_market, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_no_page_says_anything_in_the_console(make_live, browsing):
    live = make_live()
    market = build_market(live)
    base = market.url
    sold, other = market.sold, market.works[1]
    visitor = signed_in(browsing, None, base)
    buyer = signed_in(browsing, market.buyer, base)
    creator = signed_in(browsing, market.creator, base)

    def visit(page, path: str, name: str, ready: str = "main, body") -> None:
        page.goto(base + path)
        page.locator(ready).first.wait_for()
        page.wait_for_load_state("networkidle")
        browsing.shot(page, f"console-{name}", full_page=False)

    visit(visitor, "/", "gallery")
    visitor.get_by_label("Discipline").select_option("photography")  # an htmx swap of the results
    visitor.wait_for_url("**/?*discipline=photography*")
    visitor.wait_for_load_state("networkidle")
    visit(visitor, f"/works/{other['id']}", "work-visitor")
    visit(visitor, f"/creators/{market.creator['id']}", "creator")
    visit(visitor, "/about", "about")
    visit(visitor, "/signin", "signin")
    visit(visitor, "/signup", "signup")
    visit(visitor, f"/tokens/{sold['token_id_hex']}", "certificate")
    visit(visitor, "/works/999999", "error-404")
    visit(visitor, "/docs", "docs", ready=".opblock")
    visit(visitor, "/redoc", "redoc", ready="[data-section-id]")

    visit(buyer, f"/works/{sold['id']}", "work-holder")
    visit(buyer, f"/works/{other['id']}", "work-buyer")
    visit(buyer, "/collection", "collection")
    visit(buyer, f"/purchases/{market.purchase_id}", "purchase")
    visit(buyer, "/account", "account")
    visit(buyer, "/account/delete", "account-delete")

    visit(creator, "/studio/profile", "profile")
    visit(creator, "/creators?skill=foley&location=esch", "find-creators")
    visit(creator, "/studio", "studio")
    row = creator.locator(f"#price-{other['id']}")
    row.get_by_role("textbox").fill("19.50")  # an htmx form post that swaps the form
    row.get_by_role("button").click()
    creator.locator(f"#price-{other['id']} .saved").wait_for()
    visit(creator, f"/works/{other['id']}", "work-creator")

    # an error page answers with its status, which Chromium notes for the document itself: nothing else
    errors = [e for e in browsing.console_errors
              if e != f"{base}/works/999999: Failed to load resource: the server responded with a status of 404 (Not Found)"]
    assert len(errors) == len(browsing.console_errors) - 1, browsing.console_errors
    assert errors == [], "\n".join(errors)
    assert browsing.csp_violations == [], "\n".join(browsing.csp_violations)
