"""The one-owner rule's own check can fail: a write from outside a table's domain is caught."""

from __future__ import annotations

import types

from sqlalchemy import update
from sqlmodel import Session

from marketplace.catalog.models import Work
from marketplace.core import db
from tests.plugins.table_owners import tables_written_by_their_owners


def test_a_write_from_another_domain_is_recorded(db_url):
    # a function that lives in the payments domain and writes `work` itself, as the old payments service did
    intruder = types.FunctionType(
        (lambda session: session.exec(update(Work).values(price_cents=1))).__code__,
        {"__name__": "marketplace.payments.service", "update": update, "Work": Work})
    with Session(db.get_engine()) as session:
        intruder(session)
        session.commit()
    found = tables_written_by_their_owners()
    assert found and "marketplace.payments.service wrote `work`" in found[0]


def test_the_owner_writing_is_not_recorded(db_url):
    from marketplace.catalog import service as catalog_service
    from marketplace.catalog.models import SaleStatus

    with Session(db.get_engine()) as session:
        catalog_service.set_sale_status(session, 1, SaleStatus.available)  # no such row: still a write
        session.commit()
    assert tables_written_by_their_owners() == []
