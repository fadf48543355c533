"""Orchestration that spans domains: upload -> pin -> draft work; mint request -> mint job -> minted work.

Routers call these; these call the domain services and the IPFS / chain adapters. All blocking: run off the loop.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import update
from sqlmodel import Session, select

from marketplace.accounts.models import Account
from marketplace.catalog.models import Work, WorkStatus
from marketplace.catalog.schemas import LICENSE_URLS, WorkCreate
from marketplace.chain.client import ChainClient
from marketplace.chain.models import MintJob, MintJobStatus
from marketplace.db import utcnow
from marketplace.exceptions import Conflict, InvalidInput
from marketplace.storage import media
from marketplace.storage.ipfs import IpfsClient, raw_cid_digest

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
) -> Work:
    """Stream the upload to disk, check its type from the bytes, pin media (+ thumbnail) on IPFS, then record the
    draft. Any failure before the final insert leaves no row behind (and no staging file)."""
    staging_dir.mkdir(parents=True, exist_ok=True)
    staged = staging_dir / f"upload-{uuid.uuid4().hex}"
    try:
        stored = media.stream_to_file(source, staged, max_bytes=max_bytes)
        info = media.sniff_file(stored.path)
        thumbnail = media.make_thumbnail(stored.path, info, max_px=thumbnail_px)
        dims = media.image_dimensions(stored.path, info)
        media_cid = ipfs.add_file(stored.path)
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
        media_size=stored.size,
        media_sha256=stored.sha256,
        media_filename=Path(filename or "").name[:255],
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
