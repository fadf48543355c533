"""The demo data gives the demo creators profiles, so Find creators has skills and places to search."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from devtools.seed import seed_demo
from marketplace.catalog import collaborators
from marketplace.catalog.schemas import CreatorFilters
from marketplace.core import db
from marketplace.services import build_services

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_the_demo_creators_have_profiles(make_settings):
    settings = make_settings()
    services = build_services(settings)
    with Session(db.get_engine()) as session, services.ipfs:
        assert seed_demo(session=session, services=services, settings=settings, mint=False)
        cards, count = collaborators.find_creators(session, CreatorFilters(skill="foley"))
        assert count == 1 and cards[0].display_name == "Luc Weber" and cards[0].location == "Luxembourg City"
        cards, _ = collaborators.find_creators(session, CreatorFilters(location="esch"))
        assert [c.display_name for c in cards] == ["Anna Schmit Studio"]
