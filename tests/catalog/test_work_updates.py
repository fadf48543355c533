"""catalog_service.update_work when the row moved on since the work was read: the rule that refused is named."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import Session

from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import SaleStatus, Work, WorkStatus
from marketplace.catalog.schemas import WorkUpdate
from marketplace.core import db
from marketplace.core.exceptions import Conflict, PriceFixed
from tests.catalog.test_search import _account, _work


def _stale(session: Session, work: Work, **row) -> Work:
    """The work as a page read it, while another request changes its row."""
    with Session(db.get_engine()) as other:
        other.exec(update(Work).where(Work.id == work.id).values(**row))
        other.commit()
    return work


def test_a_price_edit_on_a_stale_work_names_the_checkout_that_fixed_it(db_url):
    with Session(db.get_engine(), expire_on_commit=False) as session:
        work = _stale(session, _work(session, _account(session, "Anna Muller"), "Poster"),
                      sale_status=SaleStatus.reserved.value)
        with pytest.raises(PriceFixed) as refused:
            catalog_service.update_work(session=session, work=work, work_in=WorkUpdate(price_cents=5000))
        assert refused.value.reason == "checkout"
        session.refresh(work)
        assert work.price_cents == 1000


def test_a_title_edit_on_a_stale_draft_says_the_text_is_fixed(db_url):
    with Session(db.get_engine(), expire_on_commit=False) as session:
        draft = _work(session, _account(session, "Luc Weber"), "Draft", status=WorkStatus.draft)
        work = _stale(session, draft, status=WorkStatus.minting.value, sale_status=SaleStatus.reserved.value)
        with pytest.raises(Conflict) as refused:
            catalog_service.update_work(session=session, work=work, work_in=WorkUpdate(title="Renamed"))
        assert not isinstance(refused.value, PriceFixed)  # a title edit is not refused for the price's reasons
        assert refused.value.message == catalog_service.TEXT_FIXED
        session.refresh(work)
        assert work.title == "Draft"
