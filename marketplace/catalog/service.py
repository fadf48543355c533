"""Works: lookups, listing with filters, and their public shape."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from marketplace.accounts.models import Account, CreatorPublic
from marketplace.catalog.models import Work, WorkPublic, WorkStatus
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
    if (
        filters.min_price_cents is not None
        and filters.max_price_cents is not None
        and filters.min_price_cents > filters.max_price_cents
    ):
        raise InvalidInput("min_price_cents must not exceed max_price_cents", loc=("query", "min_price_cents"))
    query = select(Work, Account).join(Account, col(Work.creator_id) == col(Account.id))
    # Drafts are private to their creator until they are published by minting.
    if viewer is None:
        query = query.where(Work.status != WorkStatus.draft)
    elif viewer.role != "admin":
        query = query.where(or_(Work.status != WorkStatus.draft, col(Work.creator_id) == viewer.id))
    if filters.status:
        query = query.where(Work.status == filters.status)
    if filters.discipline:
        query = query.where(Work.discipline == filters.discipline)
    if filters.license:
        query = query.where(Work.license == filters.license)
    if filters.creator_id is not None:
        query = query.where(Work.creator_id == filters.creator_id)
    if filters.creator:
        query = query.where(func.lower(Account.display_name).contains(filters.creator.strip().lower(), autoescape=True))
    if filters.q:
        needle = filters.q.strip().lower()
        query = query.where(
            or_(
                func.lower(Work.title).contains(needle, autoescape=True),
                func.lower(Work.description).contains(needle, autoescape=True),
                func.lower(Account.display_name).contains(needle, autoescape=True),
            )
        )
    if filters.min_price_cents is not None:
        query = query.where(Work.price_cents >= filters.min_price_cents)
    if filters.max_price_cents is not None:
        query = query.where(Work.price_cents <= filters.max_price_cents)

    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    order = {
        "newest": [col(Work.created_at).desc(), col(Work.id).desc()],
        "oldest": [col(Work.created_at).asc(), col(Work.id).asc()],
        "price_asc": [col(Work.price_cents).asc(), col(Work.id).asc()],
        "price_desc": [col(Work.price_cents).desc(), col(Work.id).desc()],
        "title": [func.lower(Work.title).asc(), col(Work.id).asc()],
    }[filters.sort]
    rows = session.exec(
        query.order_by(*order).offset((filters.page - 1) * filters.page_size).limit(filters.page_size)
    ).all()
    return list(rows), count


def to_public(work: Work, creator: Account) -> WorkPublic:
    minted = work.status == WorkStatus.minted
    token_id = int(work.token_id) if (minted and work.token_id) else None
    return WorkPublic(
        **work.model_dump(exclude={"token_id", "creator_id", "media_filename"}),
        creator=CreatorPublic(id=creator.id, display_name=creator.display_name, wallet_address=creator.wallet_address),
        media_url=f"/ipfs/{work.media_cid}",
        thumbnail_url=f"/ipfs/{work.thumbnail_cid}" if work.thumbnail_cid else None,
        token_id=token_id,
        token_id_hex=f"0x{token_id:064x}" if token_id is not None else None,
        token_uri=f"ipfs://{work.metadata_cid}" if minted and work.metadata_cid else None,
    )


def work_public(*, session: Session, work: Work) -> WorkPublic:
    creator = session.get(Account, work.creator_id)
    return to_public(work, creator)
