"""The header at a laptop's width (1280 px): brand, menu and the account's links (Notices with its unread count, the
name, Sign out, the languages) stay on one line, for a long name too (it is cut with an ellipsis, the full name and
e-mail in its tooltip)."""

from __future__ import annotations

import pytest

from tests.catalog.crews import Team
from tests.payments.conftest import Shop
from tests.web.market import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def _row_tops(page) -> list[int]:
    return page.evaluate("""() => [...document.querySelectorAll('.header-row > *, .account-nav > *')]
        .map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2))""")


def test_the_header_holds_one_line_at_1280_px(make_live, browsing):
    live = make_live()
    shop = Shop(live)
    team = Team(shop)
    team.put(team.list_50_30_20())  # the composer has an unread invitation: the Notices link carries a count
    long_name = shop.register(name="Anna Schmit Studio for Architecture and Design")
    admin = shop.register_admin()  # an admin's menu also has Reports (the moderation queue)
    for user, path in ((admin, "/admin/reports"), (team.composer, "/studio"), (long_name, "/studio"),
                       (long_name, "/account")):
        page = signed_in(browsing, user, live.url)
        page.goto(f"{live.url}{path}")
        assert page.viewport_size["width"] == 1280
        tops = _row_tops(page)
        assert max(tops) - min(tops) <= 8, (user["email"], path, tops)  # every item's middle on one line
        browsing.shot(page, f"header-{path.strip('/').replace('/', '-')}-{user['id']}")
    assert page.locator(".account-nav .who").get_attribute("title") == long_name["email"]
    invited = signed_in(browsing, team.composer, live.url)
    invited.goto(f"{live.url}/studio")
    assert invited.locator(".notices-link .unread-count").inner_text() == "1"
