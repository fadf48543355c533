"""Works: lookups, listing with filters, their public shape, and every change to a work.

The catalog owns the `work` table: the upload, the studio and the API, minting and payments all change a work
through the functions here (each a guarded update where a state must hold), so a rule lives once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

from marketplace.accounts import own_wallets
from marketplace.accounts.models import Account, CreatorPublic
from marketplace.catalog import search
from marketplace.catalog.models import (
    CollaboratorPublic,
    CollaboratorStatus,
    SaleStatus,
    Work,
    WorkCollaborator,
    WorkPublic,
    WorkStatus,
)
from marketplace.catalog.schemas import WorkCreate, WorkFilters, WorkUpdate
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Conflict, Forbidden, InvalidInput, NotFound, PriceFixed
from marketplace.indexer import service as indexer_service
from marketplace.integrations.chain.client import ZERO_ADDRESS


def get_work(*, session: Session, work_id: int) -> Work | None:
    return session.get(Work, work_id)


def get_work_or_raise(*, session: Session, work_id: int) -> Work:
    work = get_work(session=session, work_id=work_id)
    if work is None:
        raise NotFound(f"Work {work_id} not found")
    return work


def can_see(work: Work, viewer: Account | None, *, session: Session | None = None,
            include_hidden: bool = False) -> bool:
    """Drafts are private to their creators (the uploader and the creators invited to co-sign it) and admins until
    minting publishes them, and so is a work moderation hid (`hidden_at`); everything else is public.
    `include_hidden`: a hidden work counts as public here (the checkout, which refuses it with a clear 409).
    `session`: where to look the invitations up (default: the session the work was loaded in)."""
    if work.status != WorkStatus.draft and (work.hidden_at is None or include_hidden):
        return True
    if viewer is None:
        return False
    if viewer.id == work.creator_id or viewer.role == "admin":
        return True
    session = session or object_session(work)
    return session is not None and is_collaborator(session, work_id=work.id, account_id=viewer.id)


def is_hidden(work: Work) -> bool:
    return work.hidden_at is not None


def is_collaborator(session: Session, *, work_id: int, account_id: int) -> bool:
    """Whether the account is on the work's list of creators (invited, accepted or declined)."""
    return session.exec(select(WorkCollaborator.id).where(
        WorkCollaborator.work_id == work_id, WorkCollaborator.account_id == account_id)).first() is not None


def get_visible_work_or_raise(*, session: Session, work_id: int, viewer: Account | None,
                              include_hidden: bool = False) -> Work:
    """The work, or NotFound -- also for a draft or a hidden work the viewer may not see (their existence is private
    too). `include_hidden`: a hidden published work is returned (the checkouts refuse it with 409)."""
    work = get_work(session=session, work_id=work_id)
    if work is None or not can_see(work, viewer, session=session, include_hidden=include_hidden):
        raise NotFound(f"Work {work_id} not found")
    return work


def get_own_work_or_raise(*, session: Session, work_id: int, account: Account) -> Work:
    work = get_visible_work_or_raise(session=session, work_id=work_id, viewer=account)
    if work.creator_id != account.id and account.role != "admin":
        raise Forbidden("This work belongs to another creator")
    return work


def list_works(*, session: Session, filters: WorkFilters, viewer: Account | None,
               hidden_to: Account | None = None) -> tuple[list[tuple[Work, Account]], int]:
    """One page of works (with their creators) matching `filters` as `viewer` may see them, and the total count.

    Works moderation hid are left out, except for `hidden_to`: an admin sees every hidden work, a creator their own
    (uploaded or named on), each marked by its `hidden_at` and `hidden_reason`. None (the default, the gallery's):
    no hidden work at all.

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
        invited = select(WorkCollaborator.work_id).where(WorkCollaborator.account_id == viewer.id)
        conditions.append(or_(Work.status != WorkStatus.draft, col(Work.creator_id) == viewer.id,
                              col(Work.id).in_(invited)))
    if hidden_to is None:
        conditions.append(col(Work.hidden_at).is_(None))
    elif hidden_to.role != "admin":
        named = select(WorkCollaborator.work_id).where(WorkCollaborator.account_id == hidden_to.id)
        conditions.append(or_(col(Work.hidden_at).is_(None), col(Work.creator_id) == hidden_to.id,
                              col(Work.id).in_(named)))
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



def get_minted_by_token(*, session: Session, token_id: int) -> Work | None:
    """The minted work of a token id (the certificate's lookup)."""
    return session.exec(select(Work).where(Work.token_id == str(token_id), Work.status == WorkStatus.minted)).first()


def owned_works(*, session: Session, account: Account) -> list[tuple[Work, Account]]:
    """Minted works whose token the account's wallet holds (custodial or linked) according to the chain index,
    with their creators, the latest arrival first."""
    token_ids = indexer_service.tokens_of(session, own_wallets.holding_addresses(session=session, account=account))
    if not token_ids:
        return []
    rows = session.exec(
        select(Work, Account).join(Account, col(Work.creator_id) == col(Account.id))
        .where(Work.status == WorkStatus.minted, col(Work.token_id).in_([str(t) for t in token_ids]))).all()
    order = {str(token_id): n for n, token_id in enumerate(token_ids)}
    return sorted(rows, key=lambda row: order[row[0].token_id])


def holds(*, session: Session, account: Account | None, work: Work) -> bool:
    """Whether the account's wallet (custodial or linked) holds the work's token, as the chain index says."""
    if account is None or work.status != WorkStatus.minted or not work.token_id:
        return False
    owner = indexer_service.owner_of(session, int(work.token_id))
    return owner is not None and owner.lower() in {a.lower() for a in own_wallets.holding_addresses(session=session, account=account)}


def works_holding_cid(*, session: Session, cid: str) -> tuple[Work | None, list[Work]]:
    """Which works hold this CID (as media, cover, thumbnail or metadata): a published one if any, else the drafts
    and the hidden works (whose bytes are as private as they are: can_see decides)."""
    matches = or_(Work.media_cid == cid, Work.thumbnail_cid == cid, Work.cover_cid == cid, Work.metadata_cid == cid)
    published = session.exec(select(Work).where(matches, Work.status != WorkStatus.draft,
                                                col(Work.hidden_at).is_(None)).limit(1)).first()
    if published is not None:
        return published, []
    return None, list(session.exec(select(Work).where(matches)).all())

def stored_cids(*, session: Session) -> set[str]:
    """Every CID a work names (its media, thumbnail, cover, metadata...: each `*_cid` column), whatever its state."""
    columns = [column for name, column in Work.__table__.c.items() if name.endswith("_cid")]
    found: set[str] = set()
    for column in columns:
        found.update(cid for cid in session.exec(select(column).where(column.is_not(None)).distinct()).all() if cid)
    return found


# the columns WorkPublic shows as they are (the rest is derived in to_public)
_PUBLIC_COLUMNS = tuple(name for name in WorkPublic.model_fields if name in Work.model_fields and name not in (
    "token_id", "status", "sale_status", "editions_sold"))


def edition_counts(values: dict) -> tuple[int, int]:
    """(sold, available) of a work's editions, from its loaded columns: a work of several keeps counters its
    purchases set (payments.refresh_sale_status); a unique work's one edition follows its sale status."""
    if values["edition_size"] > 1:
        sold = values["editions_sold"]
        return sold, max(0, values["edition_size"] - sold - values["editions_reserved"])
    sale = values["sale_status"]
    return int(sale == SaleStatus.sold), int(sale == SaleStatus.available)


def to_public(work: Work, creator: Account, collaborators: list[CollaboratorPublic] | None = None,
              owners: dict[int, str] | None = None) -> WorkPublic:
    """The public shape of a work. Built without re-validating what the database already holds (the page of a
    listing builds 24 of these per request): `WorkPublic.model_validate` of the result gives the same model.
    `collaborators`: the work's creators (`collaborators_by_work`); None for a work without a list (a fresh
    upload): its uploader alone. `owners`: token id -> holder from the chain index (`indexer_service.owners_of`):
    the owner shown is the chain's; a token the index has not read yet shows the holder its mint or sale recorded."""
    values = work.__dict__  # loaded columns, read without the ORM's attribute machinery
    minted = values["status"] == WorkStatus.minted
    token_id = int(values["token_id"]) if (minted and values["token_id"]) else None
    fields = {name: values[name] for name in _PUBLIC_COLUMNS}
    if token_id is not None and owners and token_id in owners:
        fields["owner_address"] = owners[token_id]
    editions_sold, editions_available = edition_counts(values)
    fields.update(
        editions_sold=editions_sold,
        editions_available=editions_available,
        status=WorkStatus(values["status"]),
        sale_status=SaleStatus(values["sale_status"]),
        creator=CreatorPublic.model_construct(id=creator.id, display_name=creator.display_name,
                                              wallet_address=creator.wallet_address),
        collaborators=collaborators or [_uploader_alone(creator)],
        media_url=f"/ipfs/{values['media_cid']}",
        thumbnail_url=f"/ipfs/{values['thumbnail_cid']}" if values["thumbnail_cid"] else None,
        cover_url=f"/ipfs/{values['cover_cid']}" if values["cover_cid"] else None,
        token_id=token_id,
        token_id_hex=f"0x{token_id:064x}" if token_id is not None else None,
        token_uri=f"ipfs://{values['metadata_cid']}" if minted and values["metadata_cid"] else None,
    )
    return WorkPublic.model_construct(**fields)


def _indexed_owners(session: Session, works: Iterable[Work]) -> dict[int, str]:
    """The chain index's holder of each minted work's token (one query for all)."""
    return indexer_service.owners_of(session, [work.token_id for work in works
                                               if work.status == WorkStatus.minted and work.token_id])


def work_public(*, session: Session, work: Work) -> WorkPublic:
    creator = session.get(Account, work.creator_id)
    return to_public(work, creator, collaborators_by_work(session, [work.id]).get(work.id),
                     _indexed_owners(session, [work]))


def creators_of(session: Session, work: Work) -> list[CollaboratorPublic]:
    """Every creator of the work, the uploader first (a work without a list: its uploader alone, whole)."""
    crew = collaborators_by_work(session, [work.id]).get(work.id)
    return crew or [_uploader_alone(session.get(Account, work.creator_id))]


def works_public(session: Session, rows: Sequence[tuple[Work, Account]]) -> list[WorkPublic]:
    """The public shape of a page of (work, uploader) rows, their creators read in one query."""
    crews = collaborators_by_work(session, [work.id for work, _ in rows])
    owners = _indexed_owners(session, [work for work, _ in rows])
    return [to_public(work, creator, crews.get(work.id), owners) for work, creator in rows]


def _uploader_alone(creator: Account) -> CollaboratorPublic:
    return CollaboratorPublic.model_construct(user_id=creator.id, display_name=creator.display_name,
                                              share_bps=10_000, role="", status=CollaboratorStatus.accepted)


def collaborator_rows(session: Session, work_ids: Sequence[int]) -> dict[int, list[tuple[WorkCollaborator, Account]]]:
    """The creators of each work that has a list (the uploader first), with their accounts: one query for all."""
    crews: dict[int, list[tuple[WorkCollaborator, Account]]] = {}
    if not work_ids:
        return crews
    for member, account in session.exec(
            select(WorkCollaborator, Account).join(Account, col(WorkCollaborator.account_id) == col(Account.id))
            .where(col(WorkCollaborator.work_id).in_(list(work_ids)))
            .order_by(col(WorkCollaborator.work_id), col(WorkCollaborator.position))).all():
        crews.setdefault(member.work_id, []).append((member, account))
    return crews


def collaborators_by_work(session: Session, work_ids: Sequence[int]) -> dict[int, list[CollaboratorPublic]]:
    """`collaborators` of each work that has a list; works without one are their uploader's alone."""
    return {work_id: [CollaboratorPublic.model_construct(
                user_id=account.id, display_name=account.display_name, share_bps=member.share_bps, role=member.role,
                status=CollaboratorStatus(member.status)) for member, account in crew]
            for work_id, crew in collaborator_rows(session, work_ids).items()}


# ------------------------------------------------------------------------------------------------ changes to a work
def create_work(*, session: Session, work_in: WorkCreate, creator_id: int, **media: Any) -> Work:
    """Record a new draft (the upload pinned its media already: `media` are the media columns)."""
    work = Work(**work_in.model_dump(), creator_id=creator_id, status=WorkStatus.draft, **media)
    session.add(work)
    session.commit()
    session.refresh(work)
    return work


SOLD_PRICE_FIXED = "This work is sold: its price is the one it sold for"
CHECKOUT_PRICE_FIXED = ("A buyer is paying for this work at its current price: the price can change once that "
                        "checkout ends")
TEXT_FIXED = "Title and description are fixed once minting has started (they are in the token metadata)"


def update_work(*, session: Session, work: Work, work_in: WorkUpdate) -> Work:
    """A creator's edit (the API's PATCH and the studio's forms alike). Title and description are fixed once
    minting started; the price while a checkout is open (the buyer pays what they were shown) and once sold. The
    price change is a guarded update on the sale status, so a checkout opened meanwhile wins cleanly: 409."""
    changes = work_in.model_dump(exclude_unset=True, exclude_none=True)
    if ("title" in changes or "description" in changes) and work.status != WorkStatus.draft:
        raise Conflict(TEXT_FIXED)
    if "title" in changes:
        changes["title"] = changes["title"].strip()
    if not changes:
        return work
    guards = [Work.id == work.id]
    if "price_cents" in changes:
        _check_price_may_change(work)
        guards.append(Work.sale_status == SaleStatus.available.value)
    if "title" in changes or "description" in changes:
        guards.append(Work.status == WorkStatus.draft.value)
    moved = session.exec(update(Work).where(*guards).values(**changes, updated_at=utcnow())).rowcount
    session.commit()
    session.refresh(work)
    if not moved:  # the sale status or the work's state changed since `work` was read: say which rule refused
        if "price_cents" in changes:
            _check_price_may_change(work)
        if work.status != WorkStatus.draft and ("title" in changes or "description" in changes):
            raise Conflict(TEXT_FIXED)
        raise Conflict("This work changed while it was being edited: reload it and try again")
    return work


def _check_price_may_change(work: Work) -> None:
    if work.sale_status == SaleStatus.sold:
        raise PriceFixed(SOLD_PRICE_FIXED, reason="sold")
    if work.sale_status == SaleStatus.reserved:
        raise PriceFixed(CHECKOUT_PRICE_FIXED, reason="checkout")


WITHDRAWN = ("This work's token was transferred out of its creator's wallet outside the marketplace: it is "
             "withdrawn from sale")


def token_left_custody(session: Session, work: Work) -> bool:
    """Does the chain index say the work's token is held by someone other than its creator's custody wallet (the
    wallet a sale delivers from)? Not indexed yet: no."""
    creator = session.get(Account, work.creator_id)
    custody = creator.custodial_address if creator is not None else None
    return bool(work.token_id and custody and indexer_service.moved_away(session, int(work.token_id), custody))


def withdraw(session: Session, work_id: int) -> bool:
    """available -> withdrawn (its token moved away); False when it was not available."""
    return session.exec(update(Work).where(Work.id == work_id, Work.sale_status == SaleStatus.available.value)
                        .values(sale_status=SaleStatus.withdrawn.value, updated_at=utcnow())).rowcount == 1


def back_on_sale(session: Session, work_id: int) -> bool:
    """withdrawn -> available (its token is back in, or never left, its creator's custody wallet)."""
    return session.exec(update(Work).where(Work.id == work_id, Work.sale_status == SaleStatus.withdrawn.value)
                        .values(sale_status=SaleStatus.available.value, updated_at=utcnow())).rowcount == 1


def follow_token(session: Session, token_id: int, from_address: str, to_address: str, event: object) -> None:
    """The indexer's transfer handler for works sold here: a work for sale whose token leaves its creator's
    custody wallet (a transfer made outside the marketplace) is withdrawn; the token back in that wallet (sent
    back, or a reorganisation undid the move) puts it on sale again. A sale's delivery leaves a reserved work
    alone (the purchase decides its status)."""
    work = get_minted_by_token(session=session, token_id=token_id)
    creator = session.get(Account, work.creator_id) if work is not None else None
    custody = creator.custodial_address if creator is not None else None
    if work is None or not custody or to_address == ZERO_ADDRESS:
        return  # a token gone (its mint undone by a reorganisation): the chain watcher mints it again
    if to_address == custody:
        back_on_sale(session, work.id)
    elif from_address == custody:
        withdraw(session, work.id)


def reserve(session: Session, *, work_id: int, price_cents: int) -> bool:
    """available -> reserved, only at the price the buyer is about to pay (a price changed meanwhile: False)."""
    return session.exec(update(Work).where(
        Work.id == work_id, Work.sale_status == SaleStatus.available.value, Work.price_cents == price_cents,
    ).values(sale_status=SaleStatus.reserved.value, updated_at=utcnow())).rowcount == 1


def creator_shares(session: Session, works: Sequence[Work]) -> dict[int, list[tuple[int, int]]]:
    """Each work's creators and their shares in basis points ((account id, bps), the uploader first, summing to
    10,000), for splitting what a sale earns (payments) and the royalty (minting), in one query for all the works.
    A single-creator work: its uploader, whole. A list counts only once every creator accepted it (minting and
    sales are refused before that): until then the work is still its uploader's alone."""
    shares: dict[int, list[tuple[int, int]]] = {work.id: [(work.creator_id, 10_000)] for work in works}
    crews: dict[int, list[tuple[int, int, str]]] = {}
    if shares:
        for work_id, account_id, bps, status in session.exec(
                select(WorkCollaborator.work_id, WorkCollaborator.account_id, WorkCollaborator.share_bps,
                       WorkCollaborator.status).where(col(WorkCollaborator.work_id).in_(list(shares)))
                .order_by(col(WorkCollaborator.work_id), col(WorkCollaborator.position))).all():
            crews.setdefault(work_id, []).append((account_id, bps, status))
    for work_id, crew in crews.items():
        if all(status == CollaboratorStatus.accepted for _, _, status in crew):
            shares[work_id] = [(account_id, bps) for account_id, bps, _ in crew]
    return shares


def lock_draft(session: Session, *, work_id: int) -> bool:
    """Take the work's row for this transaction while it is a draft (a guarded no-op update): a change of its
    creators and a mint request of the same work then happen one after the other, never interleaved. False: the
    work is no longer a draft."""
    return session.exec(update(Work).where(Work.id == work_id, Work.status == WorkStatus.draft.value)
                        .values(updated_at=utcnow())).rowcount == 1


def lock_work(session: Session, *, work_id: int, price_cents: int | None = None) -> bool:
    """Take the work's row for this transaction (a no-op update): the checkouts and the status changes of a work's
    editions then count its purchases one after the other (PostgreSQL: a row lock until commit; SQLite: the
    write lock), so two never pick the same free edition or leave stale counters. `price_cents`: only at this
    price (False: it changed since the buyer saw it)."""
    guards = [Work.id == work_id] if price_cents is None else [Work.id == work_id, Work.price_cents == price_cents]
    return session.exec(update(Work).where(*guards).values(updated_at=utcnow())).rowcount == 1


def set_edition_counts(session: Session, work_id: int, *, sold: int, reserved: int) -> None:
    """A work of several editions: how many its purchases have delivered and hold, and the sale status that gives
    (sold out: sold; every edition held, some still in checkout: reserved; else available)."""
    work = session.get(Work, work_id)
    status = SaleStatus.sold if sold >= work.edition_size else (
        SaleStatus.reserved if sold + reserved >= work.edition_size else SaleStatus.available)
    session.exec(update(Work).where(Work.id == work_id).values(
        editions_sold=sold, editions_reserved=reserved, sale_status=status.value, updated_at=utcnow()))


def set_sale_status(session: Session, work_id: int, status: SaleStatus) -> None:
    """The sale status the purchases give; a work no longer sold (its delivery undone) has no sold price."""
    values: dict[str, Any] = {"sale_status": status.value, "updated_at": utcnow()}
    if status != SaleStatus.sold:
        values["sold_price_cents"] = None
    session.exec(update(Work).where(Work.id == work_id).values(**values))


def record_sales(session: Session, sales: Sequence[tuple[int, str, int]], *, now: datetime) -> None:
    """Works sold and delivered: (work id, the buyer's wallet that owns the token now, the price it sold for, in
    cents), in one executemany."""
    if sales:
        session.execute(update(Work), [{"id": work_id, "owner_address": owner, "sale_status": SaleStatus.sold.value,
                                        "sold_price_cents": cents, "updated_at": now}
                                       for work_id, owner, cents in sales])


def link_to_call(session: Session, *, work_id: int, call_id: int) -> bool:
    """The work was delivered for the open call `call_id` (the calls domain, in its transaction). False: the work
    is linked to a call already (a work answers one call)."""
    return session.exec(update(Work).where(Work.id == work_id, col(Work.call_id).is_(None))
                        .values(call_id=call_id, updated_at=utcnow())).rowcount == 1


def set_owner(session: Session, *, work_id: int, owner: str) -> None:
    """Who holds a minted work's token on chain (the chain watcher saw it elsewhere than recorded)."""
    session.exec(update(Work).where(Work.id == work_id, Work.status == WorkStatus.minted)
                 .values(owner_address=owner, updated_at=utcnow()))


def mark_minting(session: Session, *, work_id: int, metadata_cid: str, token_id: int,
                 royalty_receiver: str | None) -> bool:
    """draft | mint_failed -> minting, with the metadata it will point to and its royalty receiver. False: someone
    else got there first."""
    return session.exec(
        update(Work)
        .where(Work.id == work_id, col(Work.status).in_([WorkStatus.draft, WorkStatus.mint_failed]))
        .values(status=WorkStatus.minting, metadata_cid=metadata_cid, token_id=str(token_id), mint_error=None,
                royalty_receiver=royalty_receiver, updated_at=utcnow())
    ).rowcount == 1


def record_minted(session: Session, *, work_ids: Iterable[int], owner: str, tx_hash: str, contract_address: str,
                  chain_id: int, now: datetime) -> None:
    """minting | mint_failed -> minted for works whose tokens one transaction minted to `owner` (set-based)."""
    works = Work.__table__
    session.execute(
        update(works)
        .where(works.c.id.in_(list(work_ids)),
               works.c.status.in_([WorkStatus.minting.value, WorkStatus.mint_failed.value]))
        .values(status=WorkStatus.minted.value, owner_address=owner, mint_tx_hash=tx_hash,
                contract_address=contract_address, chain_id=chain_id, minted_at=now, mint_error=None, updated_at=now)
    )


def mark_listed(session: Session, *, work_id: int, metadata_cid: str, royalty_receiver: str | None,
                contract_address: str, chain_id: int) -> bool:
    """draft | mint_failed -> minted for a work of several editions: listed for sale with its base metadata, no
    token of its own (each edition's is minted to its buyer at delivery). False: someone else got there first."""
    now = utcnow()
    return session.exec(
        update(Work)
        .where(Work.id == work_id, col(Work.status).in_([WorkStatus.draft, WorkStatus.mint_failed]),
               Work.edition_size > 1)
        .values(status=WorkStatus.minted, metadata_cid=metadata_cid, mint_error=None, royalty_receiver=royalty_receiver,
                contract_address=contract_address, chain_id=chain_id, minted_at=now, updated_at=now)
    ).rowcount == 1


def mark_mint_failed(session: Session, *, work_id: int, error: str) -> None:
    session.exec(update(Work).where(Work.id == work_id, Work.status == WorkStatus.minting)
                 .values(status=WorkStatus.mint_failed, mint_error=error[:500], updated_at=utcnow()))


def record_mint_moved(session: Session, *, work_ids: Sequence[int], tx_hash: str) -> None:
    """A reorg re-included these works' mints in another transaction than the one recorded."""
    if work_ids:
        session.exec(update(Work).where(col(Work.id).in_(list(work_ids)), Work.status == WorkStatus.minted)
                     .values(mint_tx_hash=tx_hash))


def return_to_minting(session: Session, *, work_id: int) -> None:
    """The chain no longer holds this work's token: `minting` again (the minting service re-queues its job)."""
    session.exec(update(Work).where(Work.id == work_id, Work.status == WorkStatus.minted).values(
        status=WorkStatus.minting, mint_tx_hash=None, minted_at=None, owner_address=None, mint_error=None,
        updated_at=utcnow()))


# ------------------------------------------------------------------------------------------------ moderation
def hide(session: Session, *, work_id: int, reason: str, now: datetime) -> bool:
    """Moderation hides the work (marketplace/moderation, in its transaction): out of every listing, its page and
    media private to its creators and admins, its checkout refused. False: it was hidden already."""
    return session.exec(update(Work).where(Work.id == work_id, col(Work.hidden_at).is_(None))
                        .values(hidden_at=now, hidden_reason=reason, updated_at=now)).rowcount == 1


def restore(session: Session, *, work_id: int, now: datetime) -> bool:
    """Moderation restores a hidden work (visible and for sale as before). False: it was not hidden."""
    return session.exec(update(Work).where(Work.id == work_id, col(Work.hidden_at).is_not(None))
                        .values(hidden_at=None, hidden_reason=None, updated_at=now)).rowcount == 1


def visible_works(session: Session, work_ids: Sequence[int]) -> list[tuple[Work, Account]]:
    """These works with their uploaders, as anyone may see them (published, not hidden), in the order given."""
    if not work_ids:
        return []
    rows = session.exec(select(Work, Account).join(Account, col(Work.creator_id) == col(Account.id)).where(
        col(Work.id).in_(list(work_ids)), Work.status != WorkStatus.draft, col(Work.hidden_at).is_(None))).all()
    order = {work_id: n for n, work_id in enumerate(work_ids)}
    return sorted(rows, key=lambda row: order[row[0].id])


# ------------------------------------------------------------------------------------------- account deletion
def delete_drafts(session: Session, *, work_ids: Sequence[int]) -> list[str]:
    """Delete these drafts (account deletion: nothing refers to a draft but its creators' rows, removed first by
    collaborators.withdraw_account; never minted, never sold). Returns the CIDs they held (to unpin what nothing
    else holds). Not committed."""
    if not work_ids:
        return []
    works = list(session.exec(select(Work).where(col(Work.id).in_(list(work_ids)),
                                                 Work.status == WorkStatus.draft.value)).all())
    cids = [c for w in works for c in (w.media_cid, w.thumbnail_cid, w.cover_cid) if c]
    if works:
        session.execute(delete(Work).where(col(Work.id).in_([w.id for w in works]),
                                           Work.status == WorkStatus.draft.value))
    return cids


def has_deleted_creator(session: Session, work: Work) -> bool:
    """Whether a creator of the work deleted their account (its checkout is then refused: nobody would be paid)."""
    ids = [account_id for account_id, _ in creator_shares(session, [work])[work.id]]
    return session.exec(select(func.count()).select_from(Account).where(
        col(Account.id).in_(ids), col(Account.deleted_at).is_not(None))).one() > 0


def works_of(session: Session, *, account_id: int) -> list[Work]:
    """Every work the account uploaded or is named a creator of (GET /api/me export), oldest first."""
    named = select(WorkCollaborator.work_id).where(WorkCollaborator.account_id == account_id)
    return list(session.exec(select(Work).where((col(Work.creator_id) == account_id) | col(Work.id).in_(named))
                             .order_by(col(Work.id))).all())
