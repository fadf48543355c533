"""/docs (Swagger UI) and /redoc (ReDoc) in Chromium with no way out to the internet: both come from our own
static files, render the API's operations, and break neither the page's CSP nor anything in the console."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def offline(page, base: str) -> list[str]:
    """Every request to anything but the app fails as it would without internet; returns what was attempted."""
    ours = urlsplit(base).netloc
    outside: list[str] = []

    def route(route):
        url = route.request.url
        if urlsplit(url).netloc == ours or url.startswith(("data:", "blob:")):
            return route.continue_()
        outside.append(url)
        return route.abort("internetdisconnected")

    page.context.route("**/*", route)
    return outside


def test_swagger_ui_and_redoc_render_the_api_offline_under_the_csp(make_live, browsing):
    live = make_live()
    spec = live.client.get("/openapi.json").json()
    operations = [op for item in spec["paths"].values() for op in item.values()]
    page = browsing.person()
    outside = offline(page, live.url)

    page.goto(f"{live.url}/docs")
    checkout = page.locator(".opblock-summary-path", has_text="/api/works/{work_id}/checkout")
    checkout.first.wait_for()
    assert page.locator(".opblock").count() == len(operations)  # every operation of the API
    assert page.locator(".info .title").inner_text().startswith("Luxembourg Creative Marketplace")
    page.get_by_role("button", name="Authorize").wait_for()  # the OAuth2 password scheme of /api/auth/token
    checkout.first.click()  # an operation opens with its parameters and responses
    page.locator(".opblock-body .parameters").first.wait_for()
    browsing.shot(page, "docs-swagger-ui")
    assert page.evaluate("getComputedStyle(document.querySelector('.swagger-ui .opblock')).borderRadius") == "4px"

    page.goto(f"{live.url}/redoc")
    page.locator("h1", has_text="Luxembourg Creative Marketplace").wait_for()
    for op in operations:
        section = page.locator(f"[data-section-id='tag/{op['tags'][0]}/operation/{op['operationId']}']")
        assert section.locator("h2").first.inner_text() == op["summary"]
    # ReDoc's own styles applied (styled-components, through the CSSOM): the menu stays in view
    assert page.evaluate("getComputedStyle(document.querySelector('.menu-content')).position") in ("sticky", "fixed")
    page.get_by_placeholder("Search...").fill("checkout")  # the search index runs in ReDoc's worker
    page.locator("[data-role='search:results'] li", has_text="Checkout").first.wait_for()
    browsing.shot(page, "docs-redoc", full_page=False)

    assert outside == [], f"the docs reached for the internet: {outside}"
    assert browsing.console_errors == [], browsing.console_errors
