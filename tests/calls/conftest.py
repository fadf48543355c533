"""Helpers for the open calls' tests: a call posted, a team's proposal, each member's answer, the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from marketplace.calls.models import Call, Proposal, TeamMember
from marketplace.core import db
from tests.payments.conftest import Shop


@pytest.fixture
def shop(make_live) -> Shop:
    """The app on a real port next to the Stripe double (tests/payments' helper)."""
    return Shop(make_live())


def call_body(**fields) -> dict:
    body = {"title": "A soundtrack for the Moselle festival", "brief": "Music and a short film.\nTen minutes.",
            "disciplines": ["music", "film"], "budget_cents": 100_001, "currency": "EUR",
            "deadline": (datetime.now(UTC) + timedelta(days=14)).isoformat()}
    body.update(fields)
    return body


def team(*members: tuple[dict, int, str]) -> list[dict]:
    return [{"user_id": user["id"], "share_bps": bps, "role": role} for user, bps, role in members]


class CallsApi:
    """What callers and creators do through the API (an `Api` or `Shop` underneath: its client and accounts)."""

    def __init__(self, api) -> None:
        self.api = api
        self.client = api.client

    def post_call(self, caller: dict, **fields) -> dict:
        r = self.client.post("/api/calls", headers=caller["headers"], json=call_body(**fields))
        assert r.status_code == 201, r.text
        return r.json()

    def propose(self, author: dict, call_id: int, members: list[dict], **fields):
        body = {"title": "Moselle in sound and light", "pitch": "We score and film it together.", "team": members}
        body.update(fields)
        return self.client.post(f"/api/calls/{call_id}/proposals", headers=author["headers"], json=body)

    def answer(self, member: dict, call_id: int, proposal_id: int, action: str = "accept"):
        return self.client.post(f"/api/calls/{call_id}/proposals/{proposal_id}/{action}", headers=member["headers"])

    def submitted(self, author: dict, call_id: int, members: list[tuple[dict, int, str]]) -> dict:
        """A proposal by `author` whose whole team accepted."""
        r = self.propose(author, call_id, team(*members))
        assert r.status_code == 201, r.text
        proposal = r.json()
        for user, _, _ in members:
            if user["id"] != author["id"]:
                answered = self.answer(user, call_id, proposal["id"])
                assert answered.status_code == 200, answered.text
                proposal = answered.json()
        assert proposal["status"] == "submitted", proposal
        return proposal

    def award(self, caller: dict, call_id: int, proposal_id: int):
        return self.client.post(f"/api/calls/{call_id}/proposals/{proposal_id}/award", headers=caller["headers"])

    def get(self, call_id: int) -> dict:
        r = self.client.get(f"/api/calls/{call_id}")
        assert r.status_code == 200, r.text
        return r.json()


def rows(model) -> list:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(model)).all())


def snapshot() -> tuple:
    """Every call, proposal and member as stored: what a refused request must leave as it was."""
    return tuple(sorted(tuple(sorted(r.model_dump(mode="json").items())) for r in rows(model))
                 for model in (Call, Proposal, TeamMember))


def move_deadline(call_id: int, deadline: datetime) -> None:
    """The test's clock: the call's deadline moved (a test's own write, not the product's)."""
    with db.get_engine().begin() as conn:
        conn.execute(update(Call.__table__).where(Call.__table__.c.id == call_id).values(deadline=deadline))
