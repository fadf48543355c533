"""Upload: stream the file (and an audio or video work's cover image) to disk, check their types from the bytes, pin
media, cover and thumbnail on IPFS, record the draft.

Everything is checked before anything is pinned, so a refused upload leaves nothing behind: no row, no staging
file, no pin. Blocking (disk, IPFS, image decoding): routers run it off the event loop.
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
from marketplace.core.exceptions import InsufficientStorage, PayloadTooLarge, UnsupportedMediaType
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
    cover: BinaryIO | None = None,
    max_cover_bytes: int = media.DEFAULT_MAX_COVER_BYTES,
) -> Work:
    """Stream the upload to disk, check its type from the bytes, pin media (+ cover, + thumbnail) on IPFS, then
    record the draft. `cover`: an audio or video work's cover image (its thumbnail becomes the work's), refused
    (CoverRefused, 422 at body.cover) on any other kind of work, if it is not an accepted image, over
    `max_cover_bytes` or over `max_image_pixels`. Any failure before the final insert leaves no row behind (and no
    staging file); any refusal also leaves nothing pinned."""
    filename = media.check_filename(filename)
    name = uuid.uuid4().hex
    staged, staged_cover = staging_dir / f"upload-{name}", staging_dir / f"cover-{name}"
    try:
        size = _stage(source, staged, staging_dir=staging_dir, max_bytes=max_bytes)
        info = media.sniff_file(staged)
        cover_info = None
        if cover is not None:
            if info.kind not in media.COVER_KINDS:
                raise media.CoverRefused(
                    f"A cover image is for audio and video works only; this work's file is {info.kind} "
                    f"({info.mime_type}).", reason="kind")
            cover_info = _stage_cover(cover, staged_cover, staging_dir=staging_dir, max_bytes=max_cover_bytes)
        # the work's thumbnail: of the image itself, or of an audio or video work's cover
        if cover_info is not None:
            thumbnail = _cover_thumbnail(staged_cover, cover_info, max_px=thumbnail_px, max_pixels=max_image_pixels,
                                         concurrency=image_concurrency)
        else:
            thumbnail = media.make_thumbnail(staged, info, max_px=thumbnail_px, max_pixels=max_image_pixels,
                                             concurrency=image_concurrency)
        dims = media.image_dimensions(staged, info, max_pixels=max_image_pixels)
        digest = hashlib.sha256()
        media_cid = ipfs.add_file(staged, digest=digest)
        cover_cid = ipfs.add_file(staged_cover) if cover_info is not None else None
        thumbnail_cid = ipfs.add_bytes(thumbnail) if thumbnail else None
    finally:
        staged.unlink(missing_ok=True)
        staged_cover.unlink(missing_ok=True)

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
        cover_cid=cover_cid,
        cover_mime=cover_info.mime_type if cover_info is not None else None,
    )


def _stage(source: BinaryIO, dest: Path, *, staging_dir: Path, max_bytes: int) -> int:
    try:
        staging_dir.mkdir(parents=True, exist_ok=True)
        # one copy to staging (by the kernel when the upload is spooled to disk), then one read: add + SHA-256
        return media.stage_file(source, dest, max_bytes=max_bytes)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # a full disk: a clear answer, not a 500
            raise InsufficientStorage() from exc
        raise


def _stage_cover(source: BinaryIO, dest: Path, *, staging_dir: Path, max_bytes: int) -> media.MediaInfo:
    try:
        _stage(source, dest, staging_dir=staging_dir, max_bytes=max_bytes)
    except PayloadTooLarge:
        raise media.CoverRefused(f"The cover image is larger than the {media.format_mb(max_bytes)} MB limit.",
                                 reason="size") from None
    return media.sniff_cover(dest)


def _cover_thumbnail(path: Path, info: media.MediaInfo, *, max_px: int, max_pixels: int,
                     concurrency: int) -> bytes | None:
    """The cover's thumbnail, its pixels checked as an image work's are (None: SVG, or AVIF where Pillow lacks it)."""
    try:
        return media.make_thumbnail(path, info, max_px=max_px, max_pixels=max_pixels, concurrency=concurrency)
    except media.ImageTooLarge as exc:
        raise media.CoverRefused(f"The cover is refused: {exc.message}", reason="pixels") from None
    except UnsupportedMediaType as exc:  # corrupt or truncated
        raise media.CoverRefused(f"The cover is refused: {exc.message}", reason="type") from None
