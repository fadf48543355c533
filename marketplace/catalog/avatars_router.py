"""A profile's avatar: PUT /api/me/avatar (multipart image, checked and resized), DELETE /api/me/avatar."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool

from marketplace.accounts.dependencies import CurrentAccount
from marketplace.accounts.profiles import ProfilePublic
from marketplace.catalog import avatars
from marketplace.core.api_errors import errors
from marketplace.core.deps import SessionDep
from marketplace.integrations.adapters import AdaptersDep

router = APIRouter(prefix="/api/me", tags=["accounts"])


@router.put("/avatar", response_model=ProfilePublic, responses=errors(401, 408, 413, 415, 422, 503, 507))
async def put_avatar(
    session: SessionDep, services: AdaptersDep, account: CurrentAccount,
    file: Annotated[UploadFile, File(description="PNG, JPEG, GIF, WebP, AVIF or TIFF; stored resized (AVATAR_PX)")],
) -> ProfilePublic:
    """The caller's avatar: typed from its bytes (SVG, HTML and anything but a raster image: 415
    `avatar_refused`), its pixels counted from the header (over MAX_IMAGE_PIXELS: 415 `image_too_large`, naming
    the limit), over MAX_AVATAR_BYTES: 413; stored resized on IPFS, served at `avatar_url`."""
    settings = services.settings

    def _upload() -> ProfilePublic:
        return avatars.upload_avatar(
            session=session, account=account, source=file.file, staging_dir=settings.media_dir / "staging",
            max_bytes=settings.max_avatar_bytes, avatar_px=settings.avatar_px, ipfs=services.ipfs,
            max_image_pixels=settings.max_image_pixels, image_concurrency=settings.image_work_concurrency)

    return await run_in_threadpool(_upload)


@router.delete("/avatar", response_model=ProfilePublic, responses=errors(401, 503))
def delete_avatar(session: SessionDep, services: AdaptersDep, account: CurrentAccount) -> ProfilePublic:
    """Remove the caller's avatar (none: nothing changes)."""
    return avatars.remove_avatar(session=session, account=account, ipfs=services.ipfs)
