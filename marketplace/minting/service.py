"""Minting: the metadata a token points to, the mint request that queues exactly one mint job, and the changes the
chain watcher makes when the chain no longer holds a mint. The mint worker (worker.py) sends the jobs.

Owns the `mint_job` table; a work's own state changes go through the catalog service.
"""

from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import update
from sqlmodel import Session, col, select

from marketplace.accounts.models import Account
from marketplace.catalog import collaborators, licences
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import Work, WorkStatus
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Conflict, InvalidInput
from marketplace.integrations.chain.client import ChainClient, split_recipients
from marketplace.integrations.ipfs.client import IpfsClient, raw_cid_digest
from marketplace.jobs import runner
from marketplace.minting.models import MintJob, MintJobStatus

log = logging.getLogger(__name__)

MINT_WORKER = "mint"  # the kind of the worker that sends mint jobs (worker.MintWorker)
MAX_METADATA_BYTES = 256 * 1024  # one raw IPFS block: the contract rebuilds the CID from its sha2-256 digest


def build_metadata(*, work: Work, creator: Account, public_base_url: str,
                   creators: list[dict] | None = None) -> dict:
    """ERC-721 metadata JSON (name, description, image / animation_url, attributes), plus our properties.

    `image` is what wallets and marketplaces show: an image work itself; an audio or video work's cover (its
    thumbnail when there is no cover); `animation_url` the media that plays. `creators`: every creator of a
    co-created work (`metadata_creators`); None: the uploader alone."""
    media_uri = f"ipfs://{work.media_cid}"
    metadata: dict = {
        "name": work.title,
        "description": work.description,
        "external_url": f"{public_base_url.rstrip('/')}/works/{work.id}",
        "license": work.license,
        "license_url": licences.get(work.license).terms_uri,  # the token id, this document's digest, commits to it
        "attributes": [
            {"trait_type": "Discipline", "value": work.discipline},
            {"trait_type": "Creator", "value": creator.display_name},
            {"trait_type": "License", "value": work.license},
            {"trait_type": "Royalty", "value": work.royalty_bps / 100, "display_type": "boost_percentage"},
            {"trait_type": "Media type", "value": work.media_mime},
        ],
        "properties": {
            "work_id": work.id,
            "creators": creators or [{"name": creator.display_name, "address": creator.wallet_address,
                                      "share_bps": 10000, "role": ""}],
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
    if work.cover_cid:
        metadata["properties"]["cover"] = {"uri": f"ipfs://{work.cover_cid}", "mime_type": work.cover_mime}
    if work.media_kind == "image":
        metadata["image"] = media_uri
    else:
        if work.cover_cid:
            metadata["image"] = f"ipfs://{work.cover_cid}"
        elif work.thumbnail_cid:
            metadata["image"] = f"ipfs://{work.thumbnail_cid}"
        if work.media_kind in ("audio", "video", "model"):
            metadata["animation_url"] = media_uri
    return metadata


def metadata_creators(session: Session, work: Work) -> list[dict] | None:
    """`properties.creators` of a co-created work: each creator's name, custodial wallet, share and role, the
    uploader first. None for a work without a list (its uploader alone)."""
    crew = catalog_service.collaborator_rows(session, [work.id]).get(work.id)
    if not crew:
        return None
    return [{"name": account.display_name, "address": account.wallet_address, "share_bps": member.share_bps,
             "role": member.role} for member, account in crew]


def canonical_json(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def royalty_split(session: Session, *, work: Work) -> list[tuple[str, int]] | None:
    """A co-created work's royalty split: its creators' wallets and shares ([(address, bps)], Splits' order: by
    address). None for a work that pays one wallet (one creator, or creators who share one wallet)."""
    shares = catalog_service.creator_shares(session, [work])[work.id]
    if len(shares) == 1:
        return None
    creators = session.exec(select(Account).where(col(Account.id).in_([account_id for account_id, _ in shares])))
    wallets = {account.id: account.wallet_address for account in creators}
    if not all(wallets.get(account_id) for account_id, _ in shares):
        raise InvalidInput("Every creator of this work needs a wallet address")
    if len({wallets[account_id].lower() for account_id, _ in shares}) == 1:
        return None
    accounts, bps = split_recipients([(wallets[account_id], share) for account_id, share in shares])
    return list(zip(accounts, bps, strict=True))


def with_edition(metadata: dict, *, edition_size: int, edition_number: int | None = None) -> dict:
    """A work of several editions' metadata: the work's own plus `edition_size` (the listing's base metadata) and,
    for one sold edition's token, `edition_number` (in `properties`, and as an attribute wallets show)."""
    edition = {**metadata, "properties": {**metadata["properties"], "edition_size": edition_size}}
    if edition_number is not None:
        edition["properties"]["edition_number"] = edition_number
        edition["name"] = f"{metadata['name']} ({edition_number}/{edition_size})"
        edition["attributes"] = [*metadata["attributes"], {"trait_type": "Edition", "value": edition_number,
                                                           "max_value": edition_size, "display_type": "number"}]
    return edition


def pin_metadata(ipfs: IpfsClient, metadata: dict) -> tuple[str, bytes]:
    """Pin token metadata as one raw block: (its CID, its sha2-256 digest, which is the token id)."""
    payload = canonical_json(metadata)
    if len(payload) > MAX_METADATA_BYTES:
        raise InvalidInput("The work's metadata is too large (shorten the description)")
    metadata_cid = ipfs.add_bytes(payload)
    digest = raw_cid_digest(metadata_cid)
    if digest != hashlib.sha256(payload).digest():  # the token id must be the metadata's sha2-256
        raise InvalidInput("IPFS returned a CID that does not match the metadata bytes")
    return metadata_cid, digest


def edition_token(session: Session, *, work: Work, edition_number: int, ipfs: IpfsClient,
                  public_base_url: str) -> int:
    """Pin one edition's metadata (the work's, with its number) and return its token id (the metadata digest)."""
    creator = session.get(Account, work.creator_id)
    licences.pin_document(ipfs, licences.get(work.license))
    metadata = with_edition(build_metadata(work=work, creator=creator, public_base_url=public_base_url,
                                           creators=metadata_creators(session, work)),
                            edition_size=work.edition_size, edition_number=edition_number)
    return int.from_bytes(pin_metadata(ipfs, metadata)[1], "big")


def request_mint(
    *, session: Session, work: Work, creator: Account, ipfs: IpfsClient, chain: ChainClient, public_base_url: str
) -> Work:
    """Pin the metadata and queue exactly one mint job. Idempotent: a repeated request changes nothing.

    A work of several editions is listed instead (list_editions): no token of its own, each edition's minted to
    its buyer when sold."""
    if work.status == WorkStatus.minting:
        return work
    if work.status == WorkStatus.minted:
        raise Conflict("This work is already minted")
    owner = creator.custodial_address  # the token waits for its sale in custody, where delivery moves it from
    if not owner:
        raise InvalidInput("The creator has no wallet address")
    collaborators.require_all_accepted(session, work)  # 409 before anything is pinned
    chain.ping()  # 503 before anything changes when the chain is down
    split = royalty_split(session, work=work) if work.royalty_bps else None
    # the split's address is known before the split exists: the worker creates it before the mint (idempotently)
    receiver = chain.split_address(split) if split else owner

    creators = metadata_creators(session, work)
    if work.edition_size > 1:
        return _list_editions(session=session, work=work, creator=creator, ipfs=ipfs, chain=chain,
                              public_base_url=public_base_url, creators=creators,
                              receiver=receiver if work.royalty_bps else None)
    if work.metadata_cid is None:
        licences.pin_document(ipfs, licences.get(work.license))  # the terms the metadata names are on the node
        metadata_cid, digest = pin_metadata(ipfs, build_metadata(work=work, creator=creator,
                                                                 public_base_url=public_base_url, creators=creators))
    else:
        metadata_cid = work.metadata_cid
        digest = raw_cid_digest(metadata_cid)
    token_id = int.from_bytes(digest, "big")

    if not catalog_service.mark_minting(session, work_id=work.id, metadata_cid=metadata_cid, token_id=token_id,
                                        royalty_receiver=receiver if work.royalty_bps else None):
        session.rollback()  # someone else got there first
        session.refresh(work)
        if work.status == WorkStatus.minted:
            raise Conflict("This work is already minted")
        return work
    _recheck_creators(session, work, creators)
    job = session.exec(select(MintJob).where(MintJob.work_id == work.id)).first()
    if job is None:
        job = MintJob(work_id=work.id, to_address=owner, metadata_digest="0x" + digest.hex(),
                      royalty_receiver=receiver, royalty_bps=work.royalty_bps,
                      royalty_split=json.dumps(split) if split else None)
    else:  # a failed job gets a fresh start (never minted: its receiver is the one the work now shows)
        job.royalty_receiver, job.royalty_split = receiver, json.dumps(split) if split else None
        job.status = MintJobStatus.pending
        job.attempts = 0
        job.last_error = None
        job.claimed_by = None
        job.claimed_until = None
        job.updated_at = utcnow()
    session.add(job)
    session.commit()
    session.refresh(work)
    runner.wake(MINT_WORKER)
    return work


def _recheck_creators(session: Session, work: Work, creators: list[dict] | None) -> None:
    """After the work's row became this transaction's (its guarded change): the creators read before pinning are
    still the ones it is minted (or listed) with."""
    try:
        collaborators.require_all_accepted(session, work)
        if metadata_creators(session, work) != creators:
            raise Conflict("The creators of this work changed while it was being minted: mint it again")
    except Conflict:
        session.rollback()  # the list changed while the metadata was being pinned
        raise


def _list_editions(*, session: Session, work: Work, creator: Account, ipfs: IpfsClient, chain: ChainClient,
                   public_base_url: str, creators: list[dict] | None, receiver: str | None) -> Work:
    """A work of several editions goes on sale at once (minted, its base metadata pinned, no token): each
    checkout reserves an edition, and the delivery worker mints that edition's token to its buyer."""
    licences.pin_document(ipfs, licences.get(work.license))
    metadata_cid, _digest = pin_metadata(ipfs, with_edition(build_metadata(
        work=work, creator=creator, public_base_url=public_base_url, creators=creators),
        edition_size=work.edition_size))
    if not catalog_service.mark_listed(session, work_id=work.id, metadata_cid=metadata_cid, royalty_receiver=receiver,
                                       contract_address=chain.contract_address, chain_id=chain.chain_id()):
        session.rollback()
        session.refresh(work)
        raise Conflict("This work is already minted")
    _recheck_creators(session, work, creators)
    session.commit()
    session.refresh(work)
    return work


# ------------------------------------------------------------------- the chain watcher's changes (chainwatch)
def record_mint_block(session: Session, *, job_ids: list[int], block_number: int, block_hash: str | None,
                      tx_hash: str, moved_work_ids: list[int] = ()) -> None:
    """Where confirmed mints are on chain (re-verified until deep enough). moved_work_ids: works whose mint is now
    in another transaction than the one recorded (a reorg re-included it elsewhere)."""
    session.exec(update(MintJob).where(col(MintJob.id).in_(job_ids), MintJob.status == MintJobStatus.confirmed)
                 .values(block_number=block_number, block_hash=block_hash, tx_hash=tx_hash))
    catalog_service.record_mint_moved(session, work_ids=moved_work_ids, tx_hash=tx_hash)


def return_to_minting(session: Session, *, job_id: int, work_id: int, tx_hash: str | None, reason: str) -> bool:
    """The chain no longer holds this work's token: the work is `minting` again and its job `pending` (fresh
    attempts), so the worker mints it again. Never twice: the token id is the metadata digest and mintBatch skips
    ids that exist. Guarded on the confirmation it undoes. True when this call made the change."""
    now = utcnow()
    job_tx = MintJob.tx_hash == tx_hash if tx_hash else col(MintJob.tx_hash).is_(None)
    moved = session.exec(
        update(MintJob).where(MintJob.id == job_id, MintJob.status == MintJobStatus.confirmed, job_tx)
        .values(status=MintJobStatus.pending, tx_hash=None, nonce=None, attempts=0, submitted_at=None,
                block_number=None, block_hash=None, claimed_by=None, claimed_until=None, last_error=reason[:500],
                updated_at=now)
    ).rowcount
    if not moved:
        return False
    catalog_service.return_to_minting(session, work_id=work_id)
    log.warning("work %s: its token is gone from the chain; minting it again", work_id)
    return True
