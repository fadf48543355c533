"""Upload: stream the file to disk, check its type from the bytes, pin media (+ thumbnail) on IPFS, record the draft.

Blocking (disk, IPFS, image decoding): routers run it off the event loop.
"""

from __future__ import annotations

import errno
import hashlib
import uuid
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session

from marketplace.accounts.models import Account
from marketplace.catalog import media
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import Work
from marketplace.catalog.schemas import WorkCreate
from marketplace.core.exceptions import InsufficientStorage
from marketplace.integrations.ipfs.client import IpfsClient


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

    return catalog_service.create_work(
        session=session,
        work_in=work_in,
        creator_id=creator.id,
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
