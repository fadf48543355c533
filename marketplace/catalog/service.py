"""Works: lookups, listing with filters, and their public shape."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from marketplace.accounts.models import Account, CreatorPublic
from marketplace.catalog import search
from marketplace.catalog.models import SaleStatus, Work, WorkPublic, WorkStatus
from marketplace.catalog.schemas import WorkFilters
from marketplace.exceptions import Forbidden, InvalidInput, NotFound


def get_work(*, session: Session, work_id: int) -> Work | None:
    return session.get(Work, work_id)


def get_work_or_raise(*, session: Session, work_id: int) -> Work:
    work = get_work(session=session, work_id=work_id)
    if work is None:
        raise NotFound(f"Work {work_id} not found")
    return work


def can_see(work: Work, viewer: Account | None) -> bool:
    """Drafts are private to their creator (and admins) until minting publishes them; everything else is public."""
    if work.status != WorkStatus.draft:
        return True
    return viewer is not None and (viewer.id == work.creator_id or viewer.role == "admin")


def get_visible_work_or_raise(*, session: Session, work_id: int, viewer: Account | None) -> Work:
    """The work, or NotFound -- also for a draft the viewer may not see (a draft's existence is private too)."""
    work = get_work(session=session, work_id=work_id)
    if work is None or not can_see(work, viewer):
        raise NotFound(f"Work {work_id} not found")
    return work


def get_own_work_or_raise(*, session: Session, work_id: int, account: Account) -> Work:
    work = get_visible_work_or_raise(session=session, work_id=work_id, viewer=account)
    if work.creator_id != account.id and account.role != "admin":
        raise Forbidden("This work belongs to another creator")
    return work


def list_works(*, session: Session, filters: WorkFilters, viewer: Account | None) -> tuple[list[tuple[Work, Account]], int]:
    """One page of works (with their creators) matching `filters` as `viewer` may see them, and the total count.

    The count reads `work` alone (the creator-name filter is a subquery on `account`), and text search is answered
    by each database's full-text index (catalog/search.py), so neither scans and joins the whole catalog."""
    if (
        filters.min_price_cents is not None
        and filters.max_price_cents is not None
        and filters.min_price_cents > filters.max_price_cents
    ):
        raise InvalidInput("min_price_cents must not exceed max_price_cents", loc=("query", "min_price_cents"))
    conditions = []
    # Drafts are private to their creator until they are published by minting.
    if viewer is None:
        conditions.append(Work.status != WorkStatus.draft)
    elif viewer.role != "admin":
        conditions.append(or_(Work.status != WorkStatus.draft, col(Work.creator_id) == viewer.id))
    if filters.status:
        conditions.append(Work.status == filters.status)
    if filters.discipline:
        conditions.append(Work.discipline == filters.discipline)
    if filters.license:
        conditions.append(Work.license == filters.license)
    if filters.creator_id is not None:
        conditions.append(Work.creator_id == filters.creator_id)
    if filters.creator and filters.creator.strip():
        named = select(Account.id).where(
            func.lower(Account.display_name).contains(filters.creator.strip().lower(), autoescape=True))
        conditions.append(col(Work.creator_id).in_(named))
    if filters.q and filters.q.strip():
        conditions.append(search.matches(filters.q.strip(), session.get_bind().dialect.name))
    if filters.min_price_cents is not None:
        conditions.append(Work.price_cents >= filters.min_price_cents)
    if filters.max_price_cents is not None:
        conditions.append(Work.price_cents <= filters.max_price_cents)

    count = session.exec(select(func.count()).select_from(Work).where(*conditions)).one()
    order = {
        "newest": [col(Work.created_at).desc(), col(Work.id).desc()],
        "oldest": [col(Work.created_at).asc(), col(Work.id).asc()],
        "price_asc": [col(Work.price_cents).asc(), col(Work.id).asc()],
        "price_desc": [col(Work.price_cents).desc(), col(Work.id).desc()],
        "title": [func.lower(Work.title).asc(), col(Work.id).asc()],
    }[filters.sort]
    # The page's ids first (sorting narrow rows), then those rows and their creators: sorting whole rows (texts
    # and all) of every match was most of a common word's search.
    page_ids = (select(Work.id).where(*conditions).order_by(*order)
                .offset((filters.page - 1) * filters.page_size).limit(filters.page_size).subquery())
    rows = session.exec(
        select(Work, Account).join(page_ids, page_ids.c.id == col(Work.id))
        .join(Account, col(Work.creator_id) == col(Account.id)).order_by(*order)
    ).all()
    return list(rows), count


# the columns WorkPublic shows as they are (the rest is derived in to_public)
_PUBLIC_COLUMNS = tuple(name for name in WorkPublic.model_fields if name in Work.model_fields and name not in (
    "token_id", "status", "sale_status"))


def to_public(work: Work, creator: Account) -> WorkPublic:
    """The public shape of a work. Built without re-validating what the database already holds (the page of a
    listing builds 24 of these per request): `WorkPublic.model_validate` of the result gives the same model."""
    values = work.__dict__  # loaded columns, read without the ORM's attribute machinery
    minted = values["status"] == WorkStatus.minted
    token_id = int(values["token_id"]) if (minted and values["token_id"]) else None
    fields = {name: values[name] for name in _PUBLIC_COLUMNS}
    fields.update(
        status=WorkStatus(values["status"]),
        sale_status=SaleStatus(values["sale_status"]),
        creator=CreatorPublic.model_construct(id=creator.id, display_name=creator.display_name,
                                              wallet_address=creator.wallet_address),
        media_url=f"/ipfs/{values['media_cid']}",
        thumbnail_url=f"/ipfs/{values['thumbnail_cid']}" if values["thumbnail_cid"] else None,
        token_id=token_id,
        token_id_hex=f"0x{token_id:064x}" if token_id is not None else None,
        token_uri=f"ipfs://{values['metadata_cid']}" if minted and values["metadata_cid"] else None,
    )
    return WorkPublic.model_construct(**fields)


def work_public(*, session: Session, work: Work) -> WorkPublic:
    creator = session.get(Account, work.creator_id)
    return to_public(work, creator)
