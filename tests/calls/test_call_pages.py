"""The open calls' pages without a browser: list and filter, post a call, answer with a team found by name,
accept from the studio, award and pay (to Stripe's hosted page), and the refusals shown on the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.calls.models import Proposal, TeamMember
from tests.calls.conftest import CallsApi, rows, snapshot

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def test_post_answer_accept_award_and_pay_on_the_pages(shop):
    calls = CallsApi(shop)
    caller = shop.register(role="buyer", name="Cluster")
    anna, ben = shop.register(name="Anna Weber"), shop.register(name="Ben Muller")
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()

    bad = shop.form_post(caller, "/calls/new", "/calls", {"title": "", "brief": "x", "budget": "abc",
                                                          "deadline": "2020-01-01"})
    assert bad.status_code == 422
    assert "Please fill in this field." in bad.text and "The deadline must be in the future." in bad.text
    assert "Enter a price in euros" in bad.text and "Choose at least one discipline." in bad.text
    r = shop.form_post(caller, "/calls/new", "/calls", {"title": "Festival film", "brief": "Ten minutes.",
                                                        "disciplines": ["film", "music"], "budget": "1200,50",
                                                        "deadline": tomorrow})
    assert r.status_code == 303, r.text
    call_id = int(r.headers["location"].rsplit("/", 1)[1])
    call = calls.get(call_id)
    assert (call["budget_cents"], call["disciplines"], call["status"]) == (120_050, ["film", "music"], "open")
    listing = shop.page(anna, "/calls?discipline=film")
    assert "Festival film" in listing.text and "€1,200.50" in listing.text
    assert "Festival film" not in shop.page(anna, "/calls?discipline=games").text

    # Anna answers with Ben, found by name
    page = shop.page(anna, f"/calls/{call_id}")
    assert f'href="/calls/{call_id}/answer"' in page.text
    found = shop.page(anna, f"/calls/{call_id}/answer?q=mull")
    assert "Ben Muller" in found.text and f"members={ben['id']}" in found.text and "Cluster" not in found.text
    answer = f"/calls/{call_id}/answer?members={ben['id']}"
    fields = {"members": str(ben["id"]), "title": "Moselle", "pitch": "Film and score.",
              f"role_{anna['id']}": "director", f"role_{ben['id']}": "composer"}
    before = snapshot()
    r = shop.form_post(anna, answer, f"/calls/{call_id}/answer",
                       {**fields, f"share_{anna['id']}": "60", f"share_{ben['id']}": "30"})
    assert r.status_code == 422 and "The shares must add up to 100 %" in r.text
    assert snapshot() == before
    r = shop.form_post(anna, answer, f"/calls/{call_id}/answer",
                       {**fields, f"share_{anna['id']}": "66.67", f"share_{ben['id']}": "33,33"})
    assert r.status_code == 303, r.text
    [proposal] = rows(Proposal)
    assert proposal.status == "forming"
    assert sorted((m.account_id, m.share_bps, m.role) for m in rows(TeamMember)) == sorted(
        [(anna["id"], 6667, "director"), (ben["id"], 3333, "composer")])

    # Ben accepts from his studio
    studio = shop.page(ben, "/studio")
    assert "Moselle" in studio.text and f"/calls/{call_id}/proposals/{proposal.id}/accept" in studio.text
    r = shop.form_post(ben, "/studio", f"/calls/{call_id}/proposals/{proposal.id}/accept", {"next": "studio"})
    assert (r.status_code, r.headers["location"]) == (303, "/studio#invitations")
    assert rows(Proposal)[0].status == "submitted"

    # someone else's award is refused on the page, and changes nothing
    before = snapshot()
    r = shop.form_post(anna, f"/calls/{call_id}", f"/calls/{call_id}/proposals/{proposal.id}/award")
    assert r.status_code == 403 and "Only the caller can award this call" in r.text
    assert snapshot() == before
    page = shop.page(caller, f"/calls/{call_id}")
    assert "Award this proposal" in page.text and "Anna Weber" in page.text and "66.67%" in page.text
    r = shop.form_post(caller, f"/calls/{call_id}", f"/calls/{call_id}/proposals/{proposal.id}/award")
    assert r.status_code == 303
    r = shop.form_post(caller, f"/calls/{call_id}", f"/calls/{call_id}/pay")
    assert r.status_code == 303 and r.headers["location"].startswith(shop.live.double.public_url)
    assert calls.get(call_id)["status"] == "awarded"
