"""A profile's avatar: the image checked as uploads are (type from the bytes, pixels counted from the header before
any decoding, reduced decoding, the process's bounded image slots), resized, pinned on IPFS as covers and
thumbnails are, and recorded on the profile (accounts.profiles). Only raster images: an SVG (or HTML, or anything
dressed as an image) is refused with 415. Blocking (disk, IPFS, decoding): routers run it off the event loop.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session

from marketplace.accounts import profiles
from marketplace.accounts.models import Account
from marketplace.catalog import media
from marketplace.catalog import service as catalog_service
from marketplace.catalog.upload import _stage
from marketplace.core.exceptions import PayloadTooLarge, UnsupportedMediaType
from marketplace.integrations.ipfs.client import IpfsClient

AVATAR_SUMMARY = "An avatar is a PNG, JPEG, GIF, WebP, AVIF or TIFF image."


class AvatarRefused(UnsupportedMediaType):
    """Not an image an avatar may be (SVG, HTML, audio, ...): 415."""

    code = "avatar_refused"


def upload_avatar(
    *, session: Session, account: Account, source: BinaryIO, staging_dir: Path, max_bytes: int, avatar_px: int,
    ipfs: IpfsClient, max_image_pixels: int = media.DEFAULT_MAX_IMAGE_PIXELS,
    image_concurrency: int = media.DEFAULT_IMAGE_WORK_CONCURRENCY,
) -> profiles.ProfilePublic:
    """Check, resize (longest side `avatar_px`, WebP) and pin the avatar, then record it on the profile. Refused
    with nothing stored: over `max_bytes` (413), not a raster image (415 `avatar_refused`), over
    `max_image_pixels` (415 `image_too_large`, naming the limit), corrupt (415)."""
    staged = staging_dir / f"avatar-{uuid.uuid4().hex}"
    try:
        try:
            _stage(source, staged, staging_dir=staging_dir, max_bytes=max_bytes)
        except PayloadTooLarge:
            raise PayloadTooLarge(f"The avatar is larger than the {media.format_mb(max_bytes)} MB limit.") from None
        try:
            info = media.sniff_file(staged)
        except UnsupportedMediaType as exc:
            if isinstance(exc, media.ImageTooLarge):
                raise
            detail = exc.message.replace(media.ACCEPTED_SUMMARY, "").strip()
            raise AvatarRefused(f"The avatar is refused: {detail} {AVATAR_SUMMARY}") from None
        if info.mime_type not in media.RASTER_MIME_TYPES:
            raise AvatarRefused(f"The avatar is refused: {info.mime_type} is not accepted. {AVATAR_SUMMARY}")
        resized = media.make_thumbnail(staged, info, max_px=avatar_px, max_pixels=max_image_pixels,
                                       concurrency=image_concurrency)
        if resized is None:  # AVIF where this server's Pillow cannot decode it
            raise AvatarRefused(f"The avatar is refused: this server cannot read {info.mime_type}. {AVATAR_SUMMARY}")
        cid = ipfs.add_bytes(resized)
    finally:
        staged.unlink(missing_ok=True)
    previous = profiles.set_avatar(session=session, account=account, cid=cid)
    if previous and previous != cid:
        release_cid(session=session, ipfs=ipfs, cid=previous)
    return profiles.profile_public(session=session, account=account)


def remove_avatar(*, session: Session, account: Account, ipfs: IpfsClient) -> profiles.ProfilePublic:
    previous = profiles.set_avatar(session=session, account=account, cid=None)
    if previous:
        release_cid(session=session, ipfs=ipfs, cid=previous)
    return profiles.profile_public(session=session, account=account)


def release_cid(*, session: Session, ipfs: IpfsClient, cid: str) -> None:
    """Unpin a former avatar (or a deleted draft's media) unless another profile or a work holds the same bytes (content addressing)."""
    work, drafts = catalog_service.works_holding_cid(session=session, cid=cid)
    if work is None and not drafts and not profiles.is_avatar(session=session, cid=cid):
        ipfs.unpin(cid)
