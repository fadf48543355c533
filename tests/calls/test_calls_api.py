"""Open calls through the API: posting, listing, proposals and answers, the award; every refusal is a clear 4xx that
changes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.calls.conftest import CallsApi, call_body, move_deadline, snapshot, team

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


@pytest.fixture
def calls(api) -> CallsApi:
    return CallsApi(api)


def test_a_call_is_listed_open_first_and_filtered_by_discipline(api, calls: CallsApi):
    caller = api.register(role="buyer", name="Luxembourg Cluster")
    first = calls.post_call(caller, title="Games jam", disciplines=["games"])
    second = calls.post_call(caller, disciplines=["music", "film"])
    assert (second["status"], second["caller"], second["proposal_count"]) == (
        "open", {"id": caller["id"], "display_name": "Luxembourg Cluster"}, 0)
    assert second["disciplines"] == ["film", "music"] and second["budget_cents"] == 100_001
    artist = api.register()
    awarded = calls.post_call(caller, title="Awarded already", disciplines=["music"])
    solo = calls.submitted(artist, awarded["id"], [(artist, 10_000, "composer")])
    assert calls.award(caller, awarded["id"], solo["id"]).status_code == 200

    listed = api.client.get("/api/calls").json()
    assert listed["count"] == 3
    assert [c["id"] for c in listed["data"]] == [first["id"], second["id"], awarded["id"]]  # open, nearest deadline
    music = api.client.get("/api/calls", params={"discipline": "music"}).json()
    assert [c["id"] for c in music["data"]] == [second["id"], awarded["id"]] and music["count"] == 2
    assert api.client.get("/api/calls", params={"discipline": "fashion"}).json() == {
        "data": [], "count": 0, "page": 1, "page_size": 24}
    assert api.client.get("/api/calls", params={"discipline": "cooking"}).status_code == 422
    assert api.client.get(f"/api/calls/{awarded['id']}").json()["status"] == "awarded"
    assert api.client.get("/api/calls/999999").status_code == 404


BAD_CALLS = [
    ({"budget_cents": 0}, "budget_cents"),
    ({"budget_cents": 100_000_001}, "budget_cents"),
    ({"deadline": "2020-01-01T00:00:00Z"}, "deadline"),
    ({"deadline": (datetime.now(UTC) + timedelta(days=800)).isoformat()}, "deadline"),
    ({"disciplines": []}, "disciplines"),
    ({"disciplines": ["music", "music"]}, "disciplines"),
    ({"disciplines": ["cooking"]}, "disciplines"),
    ({"title": "Bad\u202etitle"}, "title"),
    ({"title": "   "}, "title"),
    ({"brief": "nul\x00"}, "brief"),
    ({"currency": "USD"}, "currency"),
]


def test_a_bad_call_is_refused_at_its_field(api):
    caller = api.register(role="buyer")
    for fields, field in BAD_CALLS:
        r = api.client.post("/api/calls", headers=caller["headers"], json=call_body(**fields))
        assert r.status_code == 422, (fields, r.text)
        assert any(field in e["loc"] for e in r.json()["detail"]), r.json()
    assert api.client.get("/api/calls").json()["count"] == 0


def test_posting_a_call_needs_an_account(api):
    assert api.client.post("/api/calls", json=call_body()).status_code == 401


def test_a_team_forms_accepts_and_submits_and_each_sees_what_is_theirs(api, calls: CallsApi):
    caller = api.register(role="buyer")
    anna, ben, chloe, outsider = api.register(name="Anna"), api.register(name="Ben"), api.register(), api.register()
    call = calls.post_call(caller)
    r = calls.propose(ben, call["id"], team((anna, 3000, "director"), (ben, 7000, "composer")))
    assert r.status_code == 201, r.text
    proposal = r.json()
    assert proposal["status"] == "forming"
    # the author first (the split's ties go to them), accepted; the others invited
    assert [(m["user_id"], m["share_bps"], m["role"], m["status"]) for m in proposal["team"]] == [
        (ben["id"], 7000, "composer", "accepted"), (anna["id"], 3000, "director", "invited")]
    assert calls.get(call["id"])["proposal_count"] == 0
    assert api.client.get(f"/api/calls/{call['id']}/proposals", headers=caller["headers"]).json() == []
    solo = calls.propose(chloe, call["id"], team((chloe, 10_000, "filmmaker"))).json()
    assert solo["status"] == "submitted" and solo["submitted_at"]

    accepted = calls.answer(anna, call["id"], proposal["id"])
    assert accepted.status_code == 200 and accepted.json()["status"] == "submitted"
    assert calls.get(call["id"])["proposal_count"] == 2

    def seen(user):
        r = api.client.get(f"/api/calls/{call['id']}/proposals", headers=user["headers"])
        assert r.status_code == 200
        return [p["id"] for p in r.json()]

    assert seen(caller) == [proposal["id"], solo["id"]]
    assert seen(anna) == seen(ben) == [proposal["id"]]
    assert seen(chloe) == [solo["id"]]
    assert seen(outsider) == []
    assert api.client.get(f"/api/calls/{call['id']}/proposals").status_code == 401


def test_a_decline_declines_the_proposal(api, calls: CallsApi):
    caller, anna, ben, chloe = api.register(role="buyer"), api.register(), api.register(), api.register()
    call = calls.post_call(caller)
    proposal = calls.propose(anna, call["id"], team((anna, 5000, "a"), (ben, 2500, "b"), (chloe, 2500, "c"))).json()
    declined = calls.answer(ben, call["id"], proposal["id"], "decline")
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    assert [m["status"] for m in declined.json()["team"]] == ["accepted", "declined", "invited"]
    before = snapshot()
    late = calls.answer(chloe, call["id"], proposal["id"])
    assert late.status_code == 409 and "declined" in late.json()["detail"]
    assert snapshot() == before


def test_a_bad_proposal_is_refused_and_nothing_is_stored(api, calls: CallsApi):
    caller, anna, ben, buyer = api.register(role="buyer"), api.register(), api.register(), api.register(role="buyer")
    creator_caller = api.register(name="Creator who calls")
    call = calls.post_call(caller)
    own_call = calls.post_call(creator_caller)
    late_call = calls.post_call(caller)
    move_deadline(late_call["id"], datetime.now(UTC) - timedelta(seconds=1))
    cases = {  # what: (author, call, team, status, what the answer says)
        "shares not summing to 10,000": (anna, call, team((anna, 6000, "a"), (ben, 3000, "b")), 422,
                                         "they sum to 9000"),
        "shares summing to 11,000": (anna, call, team((anna, 6000, "a"), (ben, 5000, "b")), 422,
                                     "they sum to 11000"),
        "shares summing to 9,999": (anna, call, team((anna, 6000, "a"), (ben, 3999, "b")), 422,
                                    "they sum to 9999"),
        "a zero share": (anna, call, team((anna, 10_000, "a"), (ben, 0, "b")), 422, "greater than or equal to 1"),
        "a duplicate member": (anna, call, team((anna, 5000, "a"), (ben, 2500, "b"), (ben, 2500, "b")), 422,
                               "appears twice"),
        "a non-creator member": (anna, call, team((anna, 5000, "a"), (buyer, 5000, "b")), 422, "is not a creator"),
        "an unknown user": (anna, call, [*team((anna, 5000, "a")),
                                         {"user_id": 999_999, "share_bps": 5000, "role": "ghost"}], 422,
                            "No account 999999"),
        "the author not on the team": (anna, call, team((ben, 10_000, "b")), 422, "must be on the team"),
        "the caller on the team": (anna, own_call, team((anna, 5000, "a"), (creator_caller, 5000, "b")), 422,
                                   "cannot be on a team answering their own call"),
        "the caller proposing": (creator_caller, own_call, team((creator_caller, 10_000, "a")), 403,
                                 "You posted this call"),
        "a buyer proposing": (buyer, call, team((buyer, 10_000, "a")), 403, "Only creator accounts"),
        "after the deadline": (anna, late_call, team((anna, 5000, "a"), (ben, 5000, "b")), 409,
                               "deadline has passed"),
    }
    before = snapshot()
    for what, (author, target, members, status, says) in cases.items():
        r = calls.propose(author, target["id"], members)
        assert r.status_code == status, (what, r.text)
        if status == 422:
            assert all(e["loc"][:2] == ["body", "team"] for e in r.json()["detail"]), (what, r.json())
        assert says in r.text, (what, r.text)
    assert snapshot() == before


def test_answers_are_the_invited_member_s_own_and_only_before_the_deadline(api, calls: CallsApi):
    caller, anna, ben, chloe = api.register(role="buyer"), api.register(), api.register(), api.register()
    call = calls.post_call(caller)
    proposal = calls.propose(anna, call["id"], team((anna, 5000, "a"), (ben, 2500, "b"), (chloe, 2500, "c"))).json()
    other_call = calls.post_call(caller)
    before = snapshot()
    for someone_else in (caller, api.register()):  # accepting someone else's invitation
        r = calls.answer(someone_else, call["id"], proposal["id"])
        assert r.status_code == 403 and "not on this proposal's team" in r.json()["detail"]
    assert calls.answer(anna, call["id"], proposal["id"]).status_code == 409  # the author accepted by proposing
    assert calls.answer(ben, call["id"], 999_999).status_code == 404
    assert calls.answer(ben, other_call["id"], proposal["id"]).status_code == 404  # not that call's proposal
    assert snapshot() == before

    assert calls.answer(ben, call["id"], proposal["id"]).status_code == 200
    assert calls.answer(ben, call["id"], proposal["id"]).status_code == 409  # answered already
    move_deadline(call["id"], datetime.now(UTC) - timedelta(seconds=1))
    before = snapshot()
    r = calls.answer(chloe, call["id"], proposal["id"])
    assert r.status_code == 409 and "deadline" in r.json()["detail"]
    assert snapshot() == before
    assert calls.get(call["id"])["proposal_count"] == 0


def test_the_caller_awards_one_submitted_proposal_and_the_others_are_declined(api, calls: CallsApi):
    caller, anna, ben, chloe = api.register(role="buyer"), api.register(), api.register(), api.register()
    call = calls.post_call(caller)
    first = calls.submitted(anna, call["id"], [(anna, 6000, "a"), (ben, 4000, "b")])
    second = calls.submitted(chloe, call["id"], [(chloe, 10_000, "c")])
    forming = calls.propose(ben, call["id"], team((ben, 5000, "b"), (anna, 5000, "a"))).json()
    before = snapshot()
    for someone_else in (anna, chloe, api.register(role="buyer")):  # an award by someone else than the caller
        r = calls.award(someone_else, call["id"], first["id"])
        assert r.status_code == 403 and r.json()["detail"] == "Only the caller can award this call"
    assert calls.award(caller, call["id"], forming["id"]).status_code == 409  # not submitted
    assert calls.award(caller, call["id"], 999_999).status_code == 404
    assert snapshot() == before

    r = calls.award(caller, call["id"], second["id"])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["awarded_proposal_id"]) == ("awarded", second["id"])
    statuses = {p["id"]: p["status"] for p in api.client.get(
        f"/api/calls/{call['id']}/proposals", headers=caller["headers"]).json()}
    assert statuses == {first["id"]: "declined", second["id"]: "awarded"}
    assert calls.answer(anna, call["id"], forming["id"]).status_code == 409  # declined with the award
    before = snapshot()
    assert calls.award(caller, call["id"], first["id"]).status_code == 409  # once
    assert calls.propose(anna, call["id"], team((anna, 10_000, "a"))).status_code == 409  # no longer open
    assert snapshot() == before


def test_only_the_caller_pays_and_only_an_awarded_call(api, calls: CallsApi):
    caller, anna = api.register(role="buyer"), api.register()
    call = calls.post_call(caller)
    r = api.client.post(f"/api/calls/{call['id']}/checkout", headers=caller["headers"])
    assert r.status_code == 409 and "award a proposal" in r.json()["detail"]
    solo = calls.submitted(anna, call["id"], [(anna, 10_000, "a")])
    assert calls.award(caller, call["id"], solo["id"]).status_code == 200
    r = api.client.post(f"/api/calls/{call['id']}/checkout", headers=anna["headers"])
    assert r.status_code == 403
    assert api.client.post("/api/calls/999999/checkout", headers=caller["headers"]).status_code == 404
    assert api.client.post(f"/api/calls/{call['id']}/deliver", headers=anna["headers"],
                           json={"work_id": 1}).status_code == 409  # not paid yet
