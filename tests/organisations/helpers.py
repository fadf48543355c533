"""Helpers for the organisations' and the network's tests: an organisation made by an admin through the API, and
published works fabricated as rows (the network reads rows; minting them through the chain is tested elsewhere)."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from marketplace.catalog.models import Work, WorkCollaborator
from marketplace.core import db
from tests.conftest import Api

_n = itertools.count(1)


def make_org(api: Api, admin: dict, name: str, kind: str = "studio", **fields) -> dict:
    r = api.client.post("/api/organisations", headers=admin["headers"], json={"name": name, "kind": kind, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def add_member(api: Api, actor: dict, slug: str, account_id: int, role: str = "member"):
    return api.client.post(f"/api/organisations/{slug}/members", headers=actor["headers"],
                           json={"account_id": account_id, "role": role})


def published_work(creator_id: int, discipline: str = "music", crew: list[int] | None = None, *,
                   status: str = "minted", title: str | None = None) -> int:
    """A work of `creator_id` (status minted by default), co-signed by `crew` (every one accepted) when given."""
    n = next(_n)
    with Session(db.get_engine()) as session:
        work = Work(title=title or f"Work {n}", discipline=discipline, license="CC0-1.0", price_cents=1000,
                    creator_id=creator_id, status=status, media_cid=f"bafkreinetworktest{n:06d}",
                    media_mime="image/png", media_kind="image", media_size=10, media_sha256=f"{n:064x}")
        session.add(work)
        session.flush()
        people = [creator_id, *[c for c in (crew or []) if c != creator_id]] if crew else []
        for position, account_id in enumerate(people):
            session.add(WorkCollaborator(work_id=work.id, account_id=account_id, role="maker", position=position,
                                         share_bps=10_000 // len(people) + (10_000 % len(people) if not position
                                                                             else 0), status="accepted"))
        session.commit()
        return work.id
