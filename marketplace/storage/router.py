"""Serves IPFS content to the browser at /ipfs/{cid}, so it cannot run script in our origin."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlmodel import or_, select

from marketplace.catalog.models import Work
from marketplace.db import SessionDep
from marketplace.exceptions import NotFound
from marketplace.services import ServicesDep
from marketplace.storage.ipfs import is_valid_cid, normalize_cid

router = APIRouter(tags=["ipfs"])

# What we serve inline; anything else (JSON metadata aside) is an attachment.
_INLINE = ("image/", "audio/", "video/", "application/pdf", "application/json")


@router.get("/ipfs/{cid}")
async def get_ipfs(cid: str, session: SessionDep, services: ServicesDep) -> StreamingResponse:
    if not is_valid_cid(cid):
        raise NotFound("Not a valid CID")
    cid = normalize_cid(cid)
    media_type = "application/octet-stream"
    work = session.exec(
        select(Work).where(or_(Work.media_cid == cid, Work.thumbnail_cid == cid, Work.metadata_cid == cid))
    ).first()
    if work is not None:
        if work.media_cid == cid:
            media_type = work.media_mime
        elif work.thumbnail_cid == cid:
            media_type = "image/webp"
        else:
            media_type = "application/json"
    # Pull the first chunk before answering, so an unreachable node gives a 503 instead of a broken stream.
    chunks = services.ipfs.cat(cid)
    first = await run_in_threadpool(next, chunks, b"")

    async def body():
        try:
            if first:
                yield first
            while True:
                chunk = await run_in_threadpool(next, chunks, b"")
                if not chunk:
                    break
                yield chunk
        finally:
            chunks.close()  # the browser may leave mid-stream: release the node connection

    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        # Even if something slipped through, nothing served from here may run script or load other content.
        "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox",
        "ETag": f'"{cid}"',
    }
    if not media_type.startswith(_INLINE):
        filename = (work.media_filename if work is not None and work.media_filename else cid)
        headers["Content-Disposition"] = f'attachment; filename="{_safe_filename(filename)}"'
    return StreamingResponse(body(), media_type=media_type, headers=headers)


def _safe_filename(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:120] or "download"
