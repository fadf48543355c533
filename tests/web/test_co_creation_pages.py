"""Co-creation on the pages, without a browser: the studio's creators form (checked on the server, the messages next
to the fields, in the reader's language), the invitations' Accept and Decline, the credits on the work and
certificate pages, and Find creators."""

from __future__ import annotations

import re

import pytest

from tests.catalog.crews import Team
from tests.catalog.test_collaborators import crew_rows
from tests.web.helpers import WebUser

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def browser_of(api, user: dict) -> WebUser:
    web = WebUser(api.client)
    web.client.cookies.set("mp_session", user["headers"]["Authorization"].split()[1])
    return web


def crew_post(team: Team, rows: list[tuple[dict, str, str]], *, lang: str = "en"):
    """The uploader's studio form with these (user, share in percent, role) rows."""
    web = browser_of(team.api, team.uploader)
    web.client.cookies.set("mp_lang", lang)
    data = {"user_id": [str(u["id"]) for u, _, _ in rows], "name": [u["display_name"] for u, _, _ in rows],
            "share": [share for _, share, _ in rows], "role": [role for _, _, role in rows]}
    return web.post_form("/studio", f"/studio/works/{team.work['id']}/collaborators", data)


@pytest.fixture
def team(api) -> Team:
    return Team(api)


def test_the_studio_sets_the_creators_and_refuses_bad_lists_next_to_the_fields(team: Team):
    r = crew_post(team, [(team.uploader, "60", "photographer"), (team.composer, "30", "composer")])
    assert r.status_code == 422
    assert "The shares must add up to 100 %." in r.text
    assert crew_rows(team.work["id"]) == []  # nothing changed
    # what was typed is shown again
    assert 'value="composer"' in r.text and 'value="30"' in r.text

    buyer = team.api.register(role="buyer", name="Marie Buyer")
    r = crew_post(team, [(team.uploader, "50", "photographer"), (buyer, "50", "critic")], lang="fr")
    assert r.status_code == 422
    assert "Marie Buyer n’a pas de compte créateur" in r.text

    r = crew_post(team, [(team.uploader, "50", "photographer"), (team.composer, "0", "")])
    assert r.status_code == 422
    assert "Enter a share above 0 and at most 100 %, e.g. 50 or 33.33." in r.text
    assert "Say what this creator does, e.g. composer." in r.text
    assert crew_rows(team.work["id"]) == []

    r = crew_post(team, [(team.composer, "50", "composer"), (team.modeller, "50", "3D artist")], lang="de")
    assert r.status_code == 422 and "Die Liste muss Sie als Hochladende*n enthalten." in r.text

    r = crew_post(team, [(team.uploader, "50", "photographer"), (team.composer, "33,33", "composer"),
                         (team.modeller, "16.67", "3D artist")])
    assert r.status_code == 303
    assert crew_rows(team.work["id"]) == [(team.uploader["id"], 5000, "photographer", "accepted", 0),
                                          (team.composer["id"], 3333, "composer", "invited", 1),
                                          (team.modeller["id"], 1667, "3D artist", "invited", 2)]


def test_invited_creators_answer_in_their_studio_and_every_page_credits_them(team: Team):
    team.put(team.list_50_30_20())
    composer = browser_of(team.api, team.composer)
    studio = composer.get("/studio").text
    assert "Invited by Anna Schmit as composer, with a share of 30%." in studio
    assert re.search(r">\s*Accept\s*<", studio) and re.search(r">\s*Decline\s*<", studio)
    work_page = composer.get(f"/works/{team.work['id']}").text
    assert "You are invited to co-sign this draft." in work_page

    # the uploader cannot mint yet: the studio says who is awaited
    uploader = browser_of(team.api, team.uploader)
    minted = uploader.post_form("/studio", f"/studio/works/{team.work['id']}/mint", headers={"HX-Request": "true"})
    assert "Waiting for Luc Weber, Sofia Reis to accept" in minted.text
    assert team.get()["status"] == "draft"  # and nothing was sent to mint

    assert composer.post_form("/studio", f"/studio/works/{team.work['id']}/collaborators/decline").status_code == 303
    assert [s for _, _, _, s, _ in crew_rows(team.work["id"])] == ["accepted", "declined", "invited"]
    assert composer.post_form("/studio", f"/studio/works/{team.work['id']}/collaborators/accept").status_code == 303
    modeller = browser_of(team.api, team.modeller)
    assert modeller.post_form("/studio", f"/studio/works/{team.work['id']}/collaborators/accept").status_code == 303
    assert [s for _, _, _, s, _ in crew_rows(team.work["id"])] == ["accepted"] * 3
    # the uploader has no invitation to answer
    own = uploader.post_form("/studio", f"/studio/works/{team.work['id']}/collaborators/accept")
    assert own.status_code == 409 and "there is no invitation to answer" in own.text

    minted = team.mint()
    for page in (uploader.get(f"/works/{team.work['id']}").text,
                 uploader.get(f"/tokens/{minted['token_id']}").text):
        credits = re.search(r'<ul class="credits".*?</ul>', page, re.S).group(0)
        names = re.findall(r'<a href="/creators/\d+">([^<]+)</a>', credits)
        assert names == ["Anna Schmit", "Luc Weber", "Sofia Reis"]
        assert "photographer" in credits and "3D artist" in credits
        assert "50%" in credits and "30%" in credits and "20%" in credits
    # once minted, the answers are fixed
    late = composer.post_form("/studio", f"/studio/works/{team.work['id']}/collaborators/decline")
    assert late.status_code == 409 and "fixed once minting has started" in late.text
    assert [s for _, _, _, s, _ in crew_rows(team.work["id"])] == ["accepted"] * 3


def test_find_creators_page(team: Team):
    page = browser_of(team.api, team.composer).get("/creators?q=sofia").text
    assert re.findall(r'<h2><a href="/creators/\d+">([^<]+)</a></h2>', page) == ["Sofia Reis"]
    assert "1 creator" in page
    everyone = team.api.client.get("/creators?discipline=not-a-discipline").text  # ignored, never an error
    assert len(re.findall(r'class="creator-card"', everyone)) == 3


def test_find_creators_pages_through_a_long_list(team: Team):
    for n in range(13):  # the page lists 12
        team.api.register(name=f"Pager {n:02d}")
    first = team.api.client.get("/creators?q=pager").text
    assert len(re.findall(r'class="creator-card"', first)) == 12
    assert "Page 1 of 2" in first and 'rel="prev"' not in first
    [next_url] = re.findall(r'<a rel="next" href="([^"]+)"', first)
    second = team.api.client.get(next_url.replace("&amp;", "&")).text
    assert "q=pager" in next_url and "Page 2 of 2" in second and 'rel="next"' not in second
    assert re.findall(r'<h2><a href="/creators/\d+">([^<]+)</a></h2>', second) == ["Pager 12"]
