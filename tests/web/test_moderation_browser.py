"""Notice and action in a real browser (Chromium): a visitor reports a work with the form on its page, the admin
hides it from the queue at /admin/reports, the visitor no longer finds it, its creator sees it marked hidden with
the reason; an exhibition's page and the gallery's "Now showing" strip. Screenshots of each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.payments.conftest import Shop
from tests.web.market import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_a_reported_work_is_hidden_by_the_admin_and_its_creator_sees_why(make_live, browsing):
    live = make_live()
    shop = Shop(live)
    creator_user = shop.register(name="Anna Schmit Studio")
    work = shop.minted_work(creator_user, title="Clausen at Night")
    admin_user = shop.register_admin()
    today = datetime.now(UTC).date()
    r = shop.client.post("/api/exhibitions", headers=admin_user["headers"], json={
        "slug": "digital-design-round-table", "title": "Digital design round table", "event_kind": "round_table",
        "text": "Works by the panel's studios.", "place": "Neimënster", "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=3)).isoformat()})
    assert r.status_code == 201, r.text
    assert shop.client.post("/api/exhibitions/digital-design-round-table/works", headers=admin_user["headers"],
                            json={"work_id": work["id"]}).status_code == 201

    visitor = signed_in(browsing, None, live.url)
    visitor.goto(f"{live.url}/")
    visitor.get_by_role("link", name="Digital design round table").click()
    visitor.wait_for_url(f"{live.url}/exhibitions/digital-design-round-table")
    assert visitor.get_by_role("link", name="Clausen at Night").count() == 1
    browsing.shot(visitor, "90-exhibition")

    visitor.goto(f"{live.url}/works/{work['id']}")
    visitor.get_by_text("Report this work").click()
    visitor.get_by_label("What is wrong?").select_option("intellectual_property")
    visitor.get_by_label("Details").fill("This is my photograph, published without my consent.")
    browsing.shot(visitor, "91-report-form")
    visitor.get_by_role("button", name="Send the report").click()
    assert visitor.get_by_role("heading", name="Thank you for your report").count() == 1

    admin = signed_in(browsing, admin_user, live.url)
    admin.goto(f"{live.url}/")
    admin.get_by_role("link", name="Reports").click()
    assert admin.get_by_text("This is my photograph, published without my consent.").count() == 1
    browsing.shot(admin, "92-admin-reports")
    admin.get_by_label("Why hide it").fill("The reporter holds the rights to this photograph.")
    admin.get_by_role("button", name="Hide the work").click()
    admin.wait_for_url(f"{live.url}/admin/reports")
    admin.goto(f"{live.url}/admin/reports?status=actioned")
    assert admin.get_by_role("cell", name="The reporter holds the rights to this photograph.").count() == 1

    visitor.goto(f"{live.url}/works/{work['id']}")
    assert visitor.get_by_role("heading", name="Page not found").count() == 1
    visitor.goto(f"{live.url}/exhibitions/digital-design-round-table")
    assert visitor.get_by_role("link", name="Clausen at Night").count() == 0

    creator = signed_in(browsing, creator_user, live.url)
    creator.goto(f"{live.url}/works/{work['id']}")
    assert "The reporter holds the rights to this photograph." in creator.locator("#work-hidden").inner_text()
    browsing.shot(creator, "93-hidden-work-creator")
    creator.goto(f"{live.url}/notices")
    assert creator.get_by_text("The reporter holds the rights to this photograph.", exact=False).count() >= 1
