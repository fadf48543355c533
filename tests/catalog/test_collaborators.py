"""Co-created works through the API: the uploader names every creator of a draft with a share and a role, each of
them accepts or declines, and the work is minted only once everyone accepted. Every refusal is a clear 4xx that
changes nothing. Find creators by name and discipline."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from marketplace.catalog.models import WorkCollaborator
from marketplace.core import db
from tests.catalog.crews import Team
from tests.conftest import png_bytes

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def crew_rows(work_id: int) -> list[tuple[int, int, str, str, int]]:
    with Session(db.get_engine()) as session:
        return [(m.account_id, m.share_bps, m.role, m.status, m.position) for m in session.exec(
            select(WorkCollaborator).where(WorkCollaborator.work_id == work_id)
            .order_by(WorkCollaborator.position)).all()]


@pytest.fixture
def team(api) -> Team:
    return Team(api)


def test_a_work_without_a_list_is_its_uploader_s_alone(team: Team):
    assert team.get()["collaborators"] == [{"user_id": team.uploader["id"], "display_name": "Anna Schmit",
                                            "share_bps": 10000, "role": "", "status": "accepted"}]
    listed = team.api.client.get("/api/works", headers=team.uploader["headers"]).json()["data"]
    assert listed[0]["collaborators"][0]["share_bps"] == 10000


def test_the_uploader_names_the_creators_who_then_accept_and_the_work_is_minted(team: Team, ipfs_client):
    # the uploader may come anywhere in the list: the work names (and splits by) the uploader first
    entries = team.list_50_30_20()
    r = team.put([entries[1], entries[0], entries[2]])
    assert r.status_code == 200, r.text
    assert [(c["user_id"], c["share_bps"], c["role"], c["status"]) for c in r.json()["collaborators"]] == [
        (team.uploader["id"], 5000, "photographer", "accepted"), (team.composer["id"], 3000, "composer", "invited"),
        (team.modeller["id"], 2000, "3D artist", "invited")]
    assert r.json()["collaborators"][1]["display_name"] == "Luc Weber"

    # invited creators see the draft (and its media); others still get 404
    assert team.get(team.composer)["status"] == "draft"
    media = team.api.client.get(f"/ipfs/{team.work['media_cid']}", headers=team.composer["headers"])
    assert media.status_code == 200
    outsider = team.api.register(role="creator")
    assert team.api.client.get(f"/api/works/{team.work['id']}", headers=outsider["headers"]).status_code == 404
    assert team.api.client.get(f"/ipfs/{team.work['media_cid']}", headers=outsider["headers"]).status_code == 404
    mine = team.api.client.get("/api/works", headers=team.composer["headers"]).json()["data"]
    assert [w["id"] for w in mine] == [team.work["id"]]

    # minting waits for everyone
    blocked = team.api.client.post(f"/api/works/{team.work['id']}/mint", headers=team.uploader["headers"])
    assert blocked.status_code == 409
    assert "Waiting for Luc Weber, Sofia Reis" in blocked.json()["detail"]
    assert team.answer(team.composer, "accept").status_code == 200
    blocked = team.api.client.post(f"/api/works/{team.work['id']}/mint", headers=team.uploader["headers"])
    assert blocked.status_code == 409 and "Sofia Reis" in blocked.json()["detail"]
    assert "Luc Weber" not in blocked.json()["detail"]
    r = team.answer(team.modeller, "accept")
    assert r.status_code == 200
    assert [c["status"] for c in r.json()["collaborators"]] == ["accepted"] * 3
    assert team.get()["status"] == "draft"  # nothing was minted by the refusals

    r = team.api.client.post(f"/api/works/{team.work['id']}/mint", headers=team.uploader["headers"])
    assert r.status_code == 202, r.text
    minted = team.api.wait_for_status(team.work["id"], "minted")
    metadata = json.loads(ipfs_client.cat_bytes(minted["metadata_cid"]))
    assert metadata["properties"]["creators"] == [
        {"name": "Anna Schmit", "address": team.uploader["wallet_address"], "share_bps": 5000,
         "role": "photographer"},
        {"name": "Luc Weber", "address": team.composer["wallet_address"], "share_bps": 3000, "role": "composer"},
        {"name": "Sofia Reis", "address": team.modeller["wallet_address"], "share_bps": 2000, "role": "3D artist"}]
    # the list is fixed now: nobody changes or answers it
    before = team.get()["collaborators"]
    entries = team.list_50_30_20()
    changed = [{**entries[0], "share_bps": 6000}, {**entries[1], "share_bps": 4000}]
    refused = team.put(changed)
    assert refused.status_code == 409, refused.text
    assert "mint" in refused.json()["detail"].lower()
    assert team.answer(team.composer, "decline").status_code == 409
    assert team.get()["collaborators"] == before


def test_a_decline_blocks_minting_and_a_changed_list_asks_everyone_again(team: Team):
    entries = team.list_50_30_20()
    assert team.put(entries).status_code == 200
    assert team.answer(team.composer, "accept").status_code == 200
    r = team.answer(team.modeller, "decline")
    assert r.status_code == 200
    assert [c["status"] for c in r.json()["collaborators"]] == ["accepted", "accepted", "declined"]
    blocked = team.api.client.post(f"/api/works/{team.work['id']}/mint", headers=team.uploader["headers"])
    assert blocked.status_code == 409 and "Sofia Reis declined" in blocked.json()["detail"]

    # the same list again changes nothing; a changed one resets everyone but the uploader
    assert team.put(entries).json()["collaborators"][1]["status"] == "accepted"
    changed = [{**entries[0], "share_bps": 6000}, {**entries[1], "share_bps": 4000}]
    r = team.put(changed)
    assert r.status_code == 200
    assert [(c["user_id"], c["status"]) for c in r.json()["collaborators"]] == [
        (team.uploader["id"], "accepted"), (team.composer["id"], "invited")]
    # Sofia is off the list: the draft is private to her again
    assert team.api.client.get(f"/api/works/{team.work['id']}", headers=team.modeller["headers"]).status_code == 404
    # a declined creator may change their mind while it is a draft
    assert team.answer(team.composer, "decline").json()["collaborators"][1]["status"] == "declined"
    assert team.answer(team.composer, "accept").json()["collaborators"][1]["status"] == "accepted"


def _bad_lists(team: Team) -> dict[str, tuple[list[dict], int, str]]:
    up, co, mo = team.uploader["id"], team.composer["id"], team.modeller["id"]
    buyer = team.api.register(role="buyer", name="Marie Buyer")
    return {
        "shares sum to 9,999": ([{"user_id": up, "share_bps": 5000, "role": "a"},
                                 {"user_id": co, "share_bps": 4999, "role": "b"}], 422, "sum to 9999"),
        "shares sum to 10,001": ([{"user_id": up, "share_bps": 5001, "role": "a"},
                                  {"user_id": co, "share_bps": 5000, "role": "b"}], 422, "sum to 10001"),
        "a share of 0": ([{"user_id": up, "share_bps": 10000, "role": "a"},
                          {"user_id": co, "share_bps": 0, "role": "b"}], 422, "greater than or equal to 1"),
        "a negative share": ([{"user_id": up, "share_bps": 10500, "role": "a"},
                              {"user_id": co, "share_bps": -500, "role": "b"}], 422, "greater than or equal to 1"),
        "an unknown user": ([{"user_id": up, "share_bps": 5000, "role": "a"},
                             {"user_id": 999_999, "share_bps": 5000, "role": "b"}], 422, "no user 999999"),
        "a buyer": ([{"user_id": up, "share_bps": 5000, "role": "a"},
                     {"user_id": buyer["id"], "share_bps": 5000, "role": "b"}], 422, "not a creator account"),
        "a duplicate": ([{"user_id": up, "share_bps": 5000, "role": "a"}, {"user_id": co, "share_bps": 2500,
                         "role": "b"}, {"user_id": co, "share_bps": 2500, "role": "c"}], 422, "named twice"),
        "the uploader missing": ([{"user_id": co, "share_bps": 5000, "role": "a"},
                                  {"user_id": mo, "share_bps": 5000, "role": "b"}], 422, "include you, the uploader"),
        "an empty role": ([{"user_id": up, "share_bps": 5000, "role": "a"},
                           {"user_id": co, "share_bps": 5000, "role": "   "}], 422, "role must not be blank"),
        "a role too long": ([{"user_id": up, "share_bps": 5000, "role": "a"},
                             {"user_id": co, "share_bps": 5000, "role": "x" * 81}], 422, "at most 80"),
        "an empty list": ([], 422, "at least 1"),
    }


def test_every_bad_list_is_a_clear_4xx_and_changes_nothing(team: Team):
    entries = team.list_50_30_20()
    assert team.put(entries).status_code == 200
    assert team.answer(team.composer, "accept").status_code == 200
    before = crew_rows(team.work["id"])
    for what, (bad, status, message) in _bad_lists(team).items():
        r = team.put(bad)
        assert r.status_code == status, (what, r.text)
        assert r.json()["code"] == "invalid_input", what
        assert any(message in e["msg"] for e in r.json()["detail"]), (what, r.json())
        assert crew_rows(team.work["id"]) == before, what


def test_only_the_uploader_sets_the_list_and_only_on_a_draft(team: Team):
    entries = team.list_50_30_20()
    assert team.put(entries).status_code == 200
    before = crew_rows(team.work["id"])
    # an invited creator sees the draft but may not change its creators; an outsider does not see it at all
    r = team.put(entries, user=team.composer)
    assert r.status_code == 403 and "uploaded this work" in r.json()["detail"]
    assert team.put(entries, user=team.api.register(role="creator")).status_code == 404
    assert team.put(entries, user=team.api.register(role="buyer")).status_code == 403
    assert team.api.client.put(f"/api/works/{team.work['id']}/collaborators",
                               json={"collaborators": entries}).status_code == 401
    assert team.put(entries, work_id=999_999).status_code == 404
    assert crew_rows(team.work["id"]) == before

    solo = team.api.upload(team.uploader, content=png_bytes((48, 48), (7, 7, 7)), title="Solo").json()
    assert team.api.client.post(f"/api/works/{solo['id']}/mint", headers=team.uploader["headers"]).status_code == 202
    team.api.wait_for_status(solo["id"], "minted")
    r = team.put(entries, work_id=solo["id"])
    assert r.status_code == 409 and "fixed once minting has started" in r.json()["detail"]
    assert crew_rows(solo["id"]) == []


def test_answers_are_the_caller_s_own_invitation_only(team: Team):
    entries = [{"user_id": team.uploader["id"], "share_bps": 5000, "role": "photographer"},
               {"user_id": team.composer["id"], "share_bps": 5000, "role": "composer"}]
    assert team.put(entries).status_code == 200
    before = crew_rows(team.work["id"])
    # not invited: the draft is not theirs to see (404); the uploader has nothing to answer (409)
    for action in ("accept", "decline"):
        assert team.answer(team.modeller, action).status_code == 404
        r = team.answer(team.uploader, action)
        assert r.status_code == 409 and "no invitation to answer" in r.json()["detail"]
        assert team.api.client.post(f"/api/works/{team.work['id']}/collaborators/{action}").status_code == 401
        assert team.answer(team.composer, action, work_id=999_999).status_code == 404
    assert crew_rows(team.work["id"]) == before
    # on a published work someone who was never invited gets 403, clearly
    solo = team.api.upload(team.uploader, content=png_bytes((48, 48), (8, 8, 8)), title="Solo").json()
    assert team.api.client.post(f"/api/works/{solo['id']}/mint", headers=team.uploader["headers"]).status_code == 202
    team.api.wait_for_status(solo["id"], "minted")
    r = team.answer(team.modeller, "accept", work_id=solo["id"])
    assert r.status_code == 403 and "not invited" in r.json()["detail"]


def test_find_creators_by_name_and_discipline(team: Team):
    music = team.api.upload(team.composer, content=png_bytes((40, 40), (1, 1, 1)), title="Theme",
                            discipline="music").json()
    assert team.api.client.post(f"/api/works/{music['id']}/mint", headers=team.composer["headers"]).status_code == 202
    team.api.wait_for_status(music["id"], "minted")
    team.api.register(role="buyer", name="Luc Buyer")  # buyers are not creators

    everyone = team.api.client.get("/api/creators").json()
    assert [c["display_name"] for c in everyone["data"]] == ["Anna Schmit", "Luc Weber", "Sofia Reis"]
    assert everyone["count"] == 3
    by_name = team.api.client.get("/api/creators", params={"q": "luc"}).json()
    assert by_name["data"] == [{"id": team.composer["id"], "display_name": "Luc Weber", "disciplines": ["music"],
                                "works_count": 1, "location": "", "skills": [], "avatar_url": None}]
    # drafts do not count: Anna's photograph is not published yet
    assert team.api.client.get("/api/creators", params={"discipline": "photography"}).json()["count"] == 0
    assert [c["id"] for c in team.api.client.get("/api/creators", params={"discipline": "music"}).json()["data"]] \
        == [team.composer["id"]]
    page = team.api.client.get("/api/creators", params={"page": 2, "page_size": 2}).json()
    assert ([c["display_name"] for c in page["data"]], page["count"]) == (["Sofia Reis"], 3)
    assert team.api.client.get("/api/creators", params={"discipline": "knitting"}).status_code == 422
