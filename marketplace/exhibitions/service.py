"""Exhibitions: an admin curates themed selections of published works for the cluster's events. No FastAPI.

The exhibitions own `exhibition` and `exhibition_work`. Works are read through the catalog (`visible_works`): a
work moderation hid, or one no longer public, is left out of an exhibition's page and count without being removed
from it (restored, it is shown again). `create_exhibition` and `add_work` are what a seed calls too.

"Current": today (UTC) is between its dates, both inclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts.models import Account
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import Work, WorkStatus
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Conflict, InvalidInput, NotFound
from marketplace.exhibitions.models import (
    MAX_EXHIBITION_WORKS,
    EventKind,
    Exhibition,
    ExhibitionDetail,
    ExhibitionPublic,
    ExhibitionWork,
)
from marketplace.exhibitions.schemas import ExhibitionCreate, ExhibitionUpdate

MAX_LISTED = 500  # exhibitions are curated by hand: the list is never long, but it is bounded
SLUG_TAKEN = "Another exhibition has this slug"


def today() -> date:
    return datetime.now(UTC).date()


def create_exhibition(*, session: Session, admin: Account, exhibition_in: ExhibitionCreate) -> Exhibition:
    """A new exhibition (409 when its slug is taken)."""
    if get_exhibition(session=session, slug=exhibition_in.slug) is not None:
        raise Conflict(SLUG_TAKEN)
    exhibition = Exhibition(**exhibition_in.model_dump(exclude={"event_kind"}),
                            event_kind=EventKind(exhibition_in.event_kind).value, created_by=admin.id)
    session.add(exhibition)
    try:
        session.commit()
    except IntegrityError:  # the same slug, created at the same moment
        session.rollback()
        raise Conflict(SLUG_TAKEN) from None
    session.refresh(exhibition)
    return exhibition


def get_exhibition(*, session: Session, slug: str) -> Exhibition | None:
    return session.exec(select(Exhibition).where(Exhibition.slug == slug)).first()


def get_exhibition_or_raise(*, session: Session, slug: str) -> Exhibition:
    exhibition = get_exhibition(session=session, slug=slug)
    if exhibition is None:
        raise NotFound("Exhibition not found")
    return exhibition


def update_exhibition(*, session: Session, exhibition: Exhibition, exhibition_in: ExhibitionUpdate) -> Exhibition:
    """Change the fields given; the dates must still be in order with the stored ones (422 otherwise)."""
    changes = exhibition_in.model_dump(exclude_unset=True, exclude_none=True)
    starts_on = changes.get("starts_on", exhibition.starts_on)
    ends_on = changes.get("ends_on", exhibition.ends_on)
    if ends_on < starts_on:
        raise InvalidInput("ends_on must not be before starts_on",
                           loc=("body", "ends_on" if "ends_on" in changes else "starts_on"))
    if "event_kind" in changes:
        changes["event_kind"] = EventKind(changes["event_kind"]).value
    for name, value in changes.items():
        setattr(exhibition, name, value)
    if changes:
        exhibition.updated_at = utcnow()
        session.add(exhibition)
        session.commit()
        session.refresh(exhibition)
    return exhibition


def add_work(*, session: Session, exhibition: Exhibition, work_id: int) -> ExhibitionWork:
    """Show a published work, after those shown already (404: no such work; 409: a draft, a hidden work, one
    shown already, or the exhibition is full)."""
    work = catalog_service.get_work(session=session, work_id=work_id)
    if work is None:
        raise NotFound(f"Work {work_id} not found")
    if work.status == WorkStatus.draft:
        raise Conflict("Only published works can be exhibited: this one is a draft")
    if catalog_service.is_hidden(work):
        raise Conflict("This work is hidden by moderation: it cannot be exhibited")
    shown = session.exec(select(func.count(), func.max(ExhibitionWork.position)).where(
        ExhibitionWork.exhibition_id == exhibition.id)).one()
    if session.exec(select(ExhibitionWork.id).where(ExhibitionWork.exhibition_id == exhibition.id,
                                                    ExhibitionWork.work_id == work.id)).first() is not None:
        raise Conflict("This work is in the exhibition already")
    if shown[0] >= MAX_EXHIBITION_WORKS:
        raise Conflict(f"An exhibition shows at most {MAX_EXHIBITION_WORKS} works")
    row = ExhibitionWork(exhibition_id=exhibition.id, work_id=work.id, position=(shown[1] or 0) + 1)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # added by another admin at the same moment
        session.rollback()
        raise Conflict("This work is in the exhibition already") from None
    session.refresh(row)
    return row


def remove_work(*, session: Session, exhibition: Exhibition, work_id: int) -> None:
    """Take a work out of the exhibition (404 when it is not in it)."""
    removed = session.exec(delete(ExhibitionWork).where(ExhibitionWork.exhibition_id == exhibition.id,
                                                        ExhibitionWork.work_id == work_id)).rowcount
    session.commit()
    if not removed:
        raise NotFound("This work is not in the exhibition")


def list_exhibitions(*, session: Session, current: bool | None = None, on: date | None = None) -> list[Exhibition]:
    """Exhibitions, the latest start first; `current` True: those on `on` (default today) between their dates,
    False: the others."""
    on = on or today()
    query = select(Exhibition)
    is_current = (col(Exhibition.starts_on) <= on) & (col(Exhibition.ends_on) >= on)
    if current is True:
        query = query.where(is_current)
    elif current is False:
        query = query.where(~is_current)
    return list(session.exec(query.order_by(col(Exhibition.starts_on).desc(), col(Exhibition.id).desc())
                             .limit(MAX_LISTED)).all())


def _visible() -> list:
    return [Work.status != WorkStatus.draft.value, col(Work.hidden_at).is_(None)]


def work_counts(session: Session, exhibition_ids: Sequence[int]) -> dict[int, int]:
    if not exhibition_ids:
        return {}
    return dict(session.exec(select(ExhibitionWork.exhibition_id, func.count()).join(
        Work, col(Work.id) == col(ExhibitionWork.work_id)).where(
        col(ExhibitionWork.exhibition_id).in_(list(exhibition_ids)), *_visible())
        .group_by(ExhibitionWork.exhibition_id)).all())


def exhibitions_public(*, session: Session, exhibitions: Sequence[Exhibition],
                       on: date | None = None) -> list[ExhibitionPublic]:
    on = on or today()
    counts = work_counts(session, [e.id for e in exhibitions])
    return [ExhibitionPublic(**e.model_dump(exclude={"created_by", "event_kind"}), event_kind=EventKind(e.event_kind),
                             work_count=counts.get(e.id, 0), is_current=e.starts_on <= on <= e.ends_on)
            for e in exhibitions]


def shown_works(*, session: Session, exhibition: Exhibition) -> list[tuple[Work, Account]]:
    """The exhibition's works anyone may see (hidden and unpublished ones left out), in the curator's order."""
    ids = list(session.exec(select(ExhibitionWork.work_id).where(ExhibitionWork.exhibition_id == exhibition.id)
                            .order_by(col(ExhibitionWork.position), col(ExhibitionWork.id))).all())
    return catalog_service.visible_works(session, ids)


def exhibition_detail(*, session: Session, exhibition: Exhibition) -> ExhibitionDetail:
    public = exhibitions_public(session=session, exhibitions=[exhibition])[0]
    rows = shown_works(session=session, exhibition=exhibition)
    return ExhibitionDetail(**public.model_dump(), works=catalog_service.works_public(session, rows))
