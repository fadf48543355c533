"""Orchestration that spans domains: upload -> pin -> draft work; mint request -> mint job -> minted work.

Routers call these; these call the domain services and the IPFS / chain adapters. All blocking: run off the loop.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import uuid
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from eth_utils import is_address, to_checksum_address
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts.models import Account
from marketplace.catalog.models import SaleStatus, Work, WorkStatus
from marketplace.catalog.schemas import LICENSE_URLS, WorkCreate
from marketplace.chain.client import ChainClient
from marketplace.chain.models import MintJob, MintJobStatus
from marketplace.db import utcnow
from marketplace.exceptions import Conflict, InsufficientStorage, InvalidInput, MarketplaceError
from marketplace.payments import service as payments_service
from marketplace.payments.models import ACTIVE_STATUSES, Purchase, PurchaseStatus, StripeEvent
from marketplace.storage import media
from marketplace.storage.ipfs import IpfsClient, raw_cid_digest

if TYPE_CHECKING:
    from marketplace.payments.gateway import StripeGateway
log = logging.getLogger(__name__)

MAX_METADATA_BYTES = 256 * 1024  # one raw IPFS block: the contract rebuilds the CID from its sha2-256 digest


def upload_work(
    *,
    session: Session,
    creator: Account,
    work_in: WorkCreate,
    source: BinaryIO,
    filename: str,
    staging_dir: Path,
    max_bytes: int,
    thumbnail_px: int,
    ipfs: IpfsClient,
    max_image_pixels: int = media.DEFAULT_MAX_IMAGE_PIXELS,
    image_concurrency: int = media.DEFAULT_IMAGE_WORK_CONCURRENCY,
) -> Work:
    """Stream the upload to disk, check its type from the bytes, pin media (+ thumbnail) on IPFS, then record the
    draft. Any failure before the final insert leaves no row behind (and no staging file)."""
    filename = media.check_filename(filename)
    staged = staging_dir / f"upload-{uuid.uuid4().hex}"
    try:
        try:
            staging_dir.mkdir(parents=True, exist_ok=True)
            # one copy to staging (by the kernel when the upload is spooled to disk), then one read: add + SHA-256
            size = media.stage_file(source, staged, max_bytes=max_bytes)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # a full disk: a clear answer, not a 500
                raise InsufficientStorage() from exc
            raise
        info = media.sniff_file(staged)
        thumbnail = media.make_thumbnail(staged, info, max_px=thumbnail_px, max_pixels=max_image_pixels,
                                         concurrency=image_concurrency)
        dims = media.image_dimensions(staged, info, max_pixels=max_image_pixels)
        digest = hashlib.sha256()
        media_cid = ipfs.add_file(staged, digest=digest)
        thumbnail_cid = ipfs.add_bytes(thumbnail) if thumbnail else None
    finally:
        staged.unlink(missing_ok=True)

    work = Work(
        **work_in.model_dump(),
        creator_id=creator.id,
        status=WorkStatus.draft,
        media_cid=media_cid,
        media_mime=info.mime_type,
        media_kind=info.kind,
        media_size=size,
        media_sha256=digest.hexdigest(),
        media_filename=filename,
        thumbnail_cid=thumbnail_cid,
        width=dims[0] if dims else None,
        height=dims[1] if dims else None,
    )
    session.add(work)
    session.commit()
    session.refresh(work)
    return work


def build_metadata(*, work: Work, creator: Account, public_base_url: str) -> dict:
    """ERC-721 metadata JSON (name, description, image / animation_url, attributes), plus our properties."""
    media_uri = f"ipfs://{work.media_cid}"
    metadata: dict = {
        "name": work.title,
        "description": work.description,
        "external_url": f"{public_base_url.rstrip('/')}/works/{work.id}",
        "attributes": [
            {"trait_type": "Discipline", "value": work.discipline},
            {"trait_type": "Creator", "value": creator.display_name},
            {"trait_type": "License", "value": work.license},
            {"trait_type": "Royalty", "value": work.royalty_bps / 100, "display_type": "boost_percentage"},
            {"trait_type": "Media type", "value": work.media_mime},
        ],
        "properties": {
            "work_id": work.id,
            "creators": [{"name": creator.display_name, "address": creator.wallet_address, "share_bps": 10000}],
            "license": {"id": work.license, "url": LICENSE_URLS.get(work.license)},
            "royalty_bps": work.royalty_bps,
            "media": {
                "uri": media_uri,
                "mime_type": work.media_mime,
                "kind": work.media_kind,
                "size": work.media_size,
                "sha256": work.media_sha256,
            },
        },
    }
    if work.media_kind == "image":
        metadata["image"] = media_uri
    else:
        if work.thumbnail_cid:
            metadata["image"] = f"ipfs://{work.thumbnail_cid}"
        if work.media_kind in ("audio", "video", "model"):
            metadata["animation_url"] = media_uri
    return metadata


def canonical_json(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_mint(
    *, session: Session, work: Work, creator: Account, ipfs: IpfsClient, chain: ChainClient, public_base_url: str
) -> Work:
    """Pin the metadata and queue exactly one mint job. Idempotent: a repeated request changes nothing."""
    if work.status == WorkStatus.minting:
        return work
    if work.status == WorkStatus.minted:
        raise Conflict("This work is already minted")
    owner = creator.wallet_address
    if not owner:
        raise InvalidInput("The creator has no wallet address")
    chain.ping()  # 503 before anything changes when the chain is down

    if work.metadata_cid is None:
        payload = canonical_json(build_metadata(work=work, creator=creator, public_base_url=public_base_url))
        if len(payload) > MAX_METADATA_BYTES:
            raise InvalidInput("The work's metadata is too large (shorten the description)")
        metadata_cid = ipfs.add_bytes(payload)
        digest = raw_cid_digest(metadata_cid)
        if digest != hashlib.sha256(payload).digest():  # the token id must be the metadata's sha2-256
            raise InvalidInput("IPFS returned a CID that does not match the metadata bytes")
    else:
        metadata_cid = work.metadata_cid
        digest = raw_cid_digest(metadata_cid)
    token_id = int.from_bytes(digest, "big")

    result = session.exec(
        update(Work)
        .where(Work.id == work.id, Work.status.in_([WorkStatus.draft, WorkStatus.mint_failed]))
        .values(
            status=WorkStatus.minting,
            metadata_cid=metadata_cid,
            token_id=str(token_id),
            mint_error=None,
            updated_at=utcnow(),
        )
    )
    if result.rowcount != 1:  # someone else got there first
        session.rollback()
        session.refresh(work)
        if work.status == WorkStatus.minted:
            raise Conflict("This work is already minted")
        return work
    job = session.exec(select(MintJob).where(MintJob.work_id == work.id)).first()
    if job is None:
        job = MintJob(work_id=work.id, to_address=owner, metadata_digest="0x" + digest.hex(),
                      royalty_receiver=creator.wallet_address, royalty_bps=work.royalty_bps)
    else:  # a failed job gets a fresh start
        job.status = MintJobStatus.pending
        job.attempts = 0
        job.last_error = None
        job.claimed_by = None
        job.claimed_until = None
        job.updated_at = utcnow()
    session.add(job)
    session.commit()
    session.refresh(work)
    return work


# --------------------------------------------------------------------------------------------- checkout and payment


def start_checkout(
    *,
    session: Session,
    work: Work,
    buyer: Account,
    wallet_address: str | None,
    gateway: StripeGateway,
    public_base_url: str,
    expires_minutes: int,
) -> Purchase:
    """Reserve a unique work for this buyer and open a Stripe Checkout Session for its price in euros.

    The reservation is a purchase row in an active status; a partial unique index allows one per work, so of any
    number of concurrent buyers exactly one gets it and the others get 409.
    """
    if work.status != WorkStatus.minted:
        raise Conflict("This work is not for sale yet (it is not minted)")
    if work.creator_id == buyer.id:
        raise Conflict("You cannot buy your own work")
    if wallet_address:
        if not is_address(wallet_address):
            raise InvalidInput("wallet_address is not a valid Ethereum address", loc=("body", "wallet_address"))
        wallet = to_checksum_address(wallet_address)
    else:
        wallet = buyer.wallet_address
    if not wallet:
        raise InvalidInput("No wallet to deliver to")

    _release_stale_reservations(session=session, work_id=work.id, gateway=gateway)

    existing = session.exec(
        select(Purchase).where(Purchase.work_id == work.id, col(Purchase.status).in_(ACTIVE_STATUSES))
    ).first()
    if existing is not None:
        if not (existing.buyer_id == buyer.id and existing.status == PurchaseStatus.pending
                and existing.wallet_address == wallet):
            raise Conflict("This work is sold" if existing.status == PurchaseStatus.delivered
                           else "This work is reserved by another buyer's checkout; try again later")
        if existing.checkout_url:
            return existing  # the same buyer asking again gets the same open session
        # this buyer's reservation whose session was never recorded (say, the database connection was lost
        # right after Stripe opened it): ask Stripe again with the same idempotency key and parameters
        purchase = existing
        expires_at = existing.expires_at if existing.expires_at.tzinfo else existing.expires_at.replace(tzinfo=UTC)
    else:
        # Stripe accepts 30 min .. 24 h from *its* now: keep a minute's margin on both ends
        expires_at = utcnow() + timedelta(seconds=min(max(expires_minutes * 60, 31 * 60), 24 * 3600 - 60))
        purchase = Purchase(work_id=work.id, buyer_id=buyer.id, status=PurchaseStatus.pending,
                            amount_cents=work.price_cents, currency=work.currency, wallet_address=wallet,
                            token_id=work.token_id, expires_at=expires_at)
        session.add(purchase)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise Conflict("This work is reserved by another buyer's checkout; try again later") from None
        payments_service.set_sale_status(session, work.id, SaleStatus.reserved)
        session.commit()  # the reservation is durable before Stripe hears of it

    base = public_base_url.rstrip("/")
    try:
        checkout = gateway.create_checkout_session(
            purchase_id=purchase.id, work_id=work.id, title=work.title, description=work.description,
            image_url=f"{base}/ipfs/{work.thumbnail_cid or work.media_cid}" if work.media_kind == "image" else None,
            amount_cents=purchase.amount_cents, currency=purchase.currency, customer_email=buyer.email,
            success_url=f"{base}/purchases/{purchase.id}?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/purchases/{purchase.id}?cancelled=1", expires_at=expires_at,
        )
    except MarketplaceError:
        # nothing was sold: release the reservation so the work stays available
        payments_service.transition(session, purchase.id, from_=("pending",), to=PurchaseStatus.expired,
                                    failure_reason="Stripe could not open a checkout session")
        payments_service.set_sale_status(session, work.id, SaleStatus.available)
        session.commit()
        raise
    purchase.stripe_session_id = checkout.id
    purchase.checkout_url = checkout.url
    if checkout.expires_at:
        purchase.expires_at = checkout.expires_at
    session.add(purchase)
    session.commit()
    session.refresh(purchase)
    return purchase


def _release_stale_reservations(*, session: Session, work_id: int, gateway: StripeGateway) -> None:
    """A pending purchase past its session's expiry whose `expired` event we have not seen: ask Stripe."""
    stale = session.exec(select(Purchase).where(
        Purchase.work_id == work_id, Purchase.status == PurchaseStatus.pending, Purchase.expires_at < utcnow())).all()
    for purchase in stale:
        if purchase.stripe_session_id:
            try:
                remote = gateway.retrieve_checkout_session(purchase.stripe_session_id)
            except MarketplaceError:
                continue  # keep the reservation when in doubt
            if remote.status == "open":
                try:
                    remote = gateway.expire_checkout_session(purchase.stripe_session_id)
                except MarketplaceError:
                    continue
            if remote.status == "complete":
                continue  # paid: the webhook will (or did) arrive
        if payments_service.transition(session, purchase.id, from_=("pending",), to=PurchaseStatus.expired,
                                       failure_reason="The checkout session expired"):
            payments_service.set_sale_status(session, work_id, SaleStatus.available)
    session.commit()


HANDLED_EVENTS = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
)


def handle_stripe_event(*, session: Session, event: dict) -> str:
    """Apply one verified Stripe event, exactly once per event id. Returns what happened (for logs and tests).

    Deliveries are at least once and unordered: every change is a guarded transition from the states it may come
    from, so a duplicate or late event finds nothing to change. The chain work happens in the delivery worker.
    """
    event_id, event_type = event["id"], event["type"]
    if event_type not in HANDLED_EVENTS:
        return "ignored"  # nothing to record: no state depends on it
    seen = StripeEvent.__table__  # plain statements: this runs for every webhook
    if session.execute(select(seen.c.id).where(seen.c.id == event_id)).first() is not None:
        return "duplicate"
    obj = event.get("data", {}).get("object", {}) or {}
    outcome, purchase_id = _apply_event(session, event_type, obj)
    try:
        session.execute(insert(seen).values(id=event_id, type=event_type, purchase_id=purchase_id,
                                            outcome=outcome[:200], received_at=utcnow()))
        session.commit()
    except IntegrityError:  # the same event processed concurrently: the other one won, ours rolls back
        session.rollback()
        return "duplicate"
    return outcome


def _find_purchase_for_session(session: Session, obj: dict):
    purchase = None
    if obj.get("id"):
        purchase = session.exec(select(Purchase).where(Purchase.stripe_session_id == obj["id"])).first()
    if purchase is None:
        ref = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("purchase_id")
        if ref and str(ref).isdigit():
            purchase = session.get(Purchase, int(ref))
            # a session id we recorded must match; a missing one (crash before we stored it) is adopted
            if purchase is not None and purchase.stripe_session_id not in (None, obj.get("id")):
                purchase = None
    return purchase


def _apply_event(session: Session, event_type: str, obj: dict) -> tuple[str, int | None]:
    if event_type == "charge.refunded":
        pi = obj.get("payment_intent")
        purchase = session.exec(select(Purchase).where(Purchase.stripe_payment_intent_id == pi)).first() if pi else None
        if purchase is None:
            return "unknown payment", None
        if obj.get("amount_refunded", 0) < obj.get("amount", 0):
            return "partial refund recorded", purchase.id
        was_delivered = purchase.status == PurchaseStatus.delivered
        if payments_service.transition(
            session, purchase.id, from_=("pending", "paid", "delivered", "expired", "failed"),
            to=PurchaseStatus.refunded, refunded_at=utcnow(),
            failure_reason=purchase.refund_reason or purchase.failure_reason or "Refunded in Stripe",
        ):
            if was_delivered:
                payments_service.book_refund_reversal(session, purchase=purchase)
            else:
                payments_service.refresh_sale_status(session, purchase.work_id)
            return "refunded", purchase.id
        return "already refunded", purchase.id

    purchase = _find_purchase_for_session(session, obj)
    if purchase is None:
        return "unknown checkout session", None
    if purchase.stripe_session_id is None and obj.get("id"):
        purchase.stripe_session_id = obj["id"]
        session.add(purchase)

    if event_type == "checkout.session.expired":
        if payments_service.transition(session, purchase.id, from_=("pending",), to=PurchaseStatus.expired,
                                       failure_reason="The checkout session expired or was cancelled"):
            payments_service.refresh_sale_status(session, purchase.work_id)
            return "expired", purchase.id
        return f"no change ({purchase.status})", purchase.id

    if event_type == "checkout.session.async_payment_failed":
        if payments_service.transition(session, purchase.id, from_=("pending",), to=PurchaseStatus.failed,
                                       failure_reason="The payment failed"):
            payments_service.refresh_sale_status(session, purchase.work_id)
            return "payment failed", purchase.id
        return f"no change ({purchase.status})", purchase.id

    # checkout.session.completed / async_payment_succeeded
    if obj.get("payment_status") != "paid":
        # an asynchronous payment method: keep the reservation until its result arrives
        session.exec(update(Purchase).where(Purchase.id == purchase.id, Purchase.status == "pending")
                     .values(expires_at=utcnow() + timedelta(days=14), updated_at=utcnow()))
        return "awaiting asynchronous payment", purchase.id
    pi = obj.get("payment_intent")
    if isinstance(pi, dict):
        pi = pi.get("id")
    amount, currency = obj.get("amount_total"), (obj.get("currency") or "").upper()
    if amount != purchase.amount_cents or currency != purchase.currency.upper():
        reason = (f"Amount mismatch: paid {amount} {currency}, expected {purchase.amount_cents} "
                  f"{purchase.currency.upper()}; refunding")
        payments_service.owe_refund(session, purchase.id, reason, payment_intent=pi)
        return "amount mismatch, refund owed", purchase.id
    if payments_service.transition(session, purchase.id, from_=("pending",), to=PurchaseStatus.paid,
                                   stripe_payment_intent_id=pi, paid_at=utcnow()):
        return "paid", purchase.id
    if purchase.status in ("expired", "failed"):
        # paid after we released the reservation (late or reordered events): take it back if nobody else has it
        try:
            with session.begin_nested():
                taken = payments_service.transition(session, purchase.id, from_=("expired", "failed"),
                                                    to=PurchaseStatus.paid, stripe_payment_intent_id=pi,
                                                    paid_at=utcnow(), failure_reason=None)
        except IntegrityError:  # the partial unique index: another buyer holds the work now
            taken = False
        if taken:
            payments_service.set_sale_status(session, purchase.work_id, SaleStatus.reserved)
            return "paid (late)", purchase.id
        payments_service.owe_refund(session, purchase.id, "The work was reserved by another buyer when this payment "
                                    "arrived", payment_intent=pi)
        return "paid too late, refund owed", purchase.id
    return f"no change ({purchase.status})", purchase.id
