"""Serves IPFS content to the browser at /ipfs/{cid}, so it cannot run script in our origin.

Served the way browsers expect media: `Range` (206, so video and audio seek and downloads resume), `HEAD`,
`Content-Length`, and `If-None-Match` (304; the ETag is the CID, the content never changes). A CID that belongs
only to draft works is served only to their creator and admins (session cookie or bearer token); everyone else
gets the same 404 as for a CID the node does not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse

from marketplace.accounts import profiles
from marketplace.accounts import service as accounts_service
from marketplace.accounts.dependencies import SESSION_COOKIE
from marketplace.accounts.models import Account
from marketplace.catalog import licences
from marketplace.catalog import service as catalog_service
from marketplace.core.config import Settings
from marketplace.core.deps import SessionDep
from marketplace.core.exceptions import InvalidInput, NotFound
from marketplace.indexer import service as indexer_service
from marketplace.integrations.adapters import AdaptersDep
from marketplace.integrations.ipfs.client import IpfsClient, is_valid_cid, normalize_cid, raw_cid_digest

if TYPE_CHECKING:
    from sqlmodel import Session

router = APIRouter(tags=["ipfs"])

# What we serve inline; anything else (JSON metadata and licence terms aside) is an attachment.
_INLINE = ("image/", "audio/", "video/", "application/pdf", "application/json", "text/plain")
_TERMS_TYPE = "text/plain; charset=utf-8"  # a licence document (Markdown, read as it is)
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Even if something slipped through, nothing served from here may run script or load other content.
    "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox",
}
_PUBLIC_CACHE = "public, max-age=31536000, immutable"
_PRIVATE_CACHE = "private, max-age=31536000, immutable"  # a draft's media: the creator's browser only, no shared cache
_NOT_FOUND = "No content with this CID is available here."

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
_BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
_ERROR = {"application/json": {"schema": _ERROR_SCHEMA}}
_RESPONSES: dict[int | str, dict] = {
    200: {"description": "The whole content (its real media type, e.g. image/png or video/mp4).", "content": _BINARY},
    206: {"description": "The requested byte range (one range; `Content-Range` says which).", "content": _BINARY},
    304: {"description": "Not modified: the `If-None-Match` ETag is this CID's (no body)."},
    404: {"description": "Not a valid CID, not on the IPFS node, or a draft's media.", "content": _ERROR},
    416: {"description": "Range not satisfiable (`Content-Range: bytes */SIZE`).", "content": _ERROR},
    503: {"description": "The IPFS node is unreachable.", "content": _ERROR},
}


@dataclass(frozen=True)
class _Target:
    cid: str
    media_type: str
    size: int
    private: bool
    filename: str | None


@router.get("/ipfs/{cid}", response_class=Response, responses=_RESPONSES,
            summary="Content from IPFS (ranges, conditional requests)")
@router.head("/ipfs/{cid}", response_class=Response, responses=_RESPONSES,
             summary="Headers of content from IPFS", include_in_schema=True)
async def get_ipfs(
    cid: str,
    request: Request,
    session: SessionDep,
    services: AdaptersDep,
    range_: Annotated[str | None, Header(alias="Range", description="One byte range, e.g. bytes=0-1023")] = None,
    if_none_match: Annotated[str | None, Header(description="ETags (the quoted CID), or *")] = None,
    if_range: Annotated[str | None, Header(description="Honour Range only if this is the ETag")] = None,
) -> Response:
    if not is_valid_cid(cid):
        raise NotFound("Not a valid CID")
    cid = normalize_cid(cid)
    target = await run_in_threadpool(
        _resolve, session=session, request=request, settings=services.settings, ipfs=services.ipfs, cid=cid)
    etag = f'"{cid}"'
    headers = {
        **_SECURITY_HEADERS,
        "Cache-Control": _PRIVATE_CACHE if target.private else _PUBLIC_CACHE,
        "ETag": etag,
        "Accept-Ranges": "bytes",
    }
    if target.private:
        headers["Vary"] = "Cookie, Authorization"
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)

    if not target.media_type.startswith(_INLINE):
        headers["Content-Disposition"] = f'attachment; filename="{_safe_filename(target.filename or cid)}"'
    head = request.method == "HEAD"
    byte_range = None
    if range_ is not None and (if_range is None or if_range.strip() == etag):
        parsed = parse_range(range_, target.size)
        if parsed is UNSATISFIABLE:
            headers["Content-Range"] = f"bytes */{target.size}"
            detail = {"detail": f"The range {range_[:100]!r} is outside the content ({target.size} bytes).",
                      "code": "range_not_satisfiable"}
            if head:
                return Response(status_code=416, headers=headers)
            return JSONResponse(detail, status_code=416, headers=headers)
        byte_range = parsed

    if byte_range is None:
        status, offset, length = 200, 0, target.size
    else:
        start, end = byte_range
        status, offset, length = 206, start, end - start + 1
        headers["Content-Range"] = f"bytes {start}-{end}/{target.size}"
    headers["Content-Length"] = str(length)
    if head:
        return Response(status_code=status, headers=headers, media_type=target.media_type)

    chunks = services.ipfs.cat_range(cid, offset=offset, length=length)
    # Pull the first chunk before answering, so an unreachable node gives a 503 instead of a broken stream.
    try:
        first = await run_in_threadpool(next, chunks, b"")
    except NotFound:
        raise NotFound(_NOT_FOUND) from None

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

    return StreamingResponse(body(), status_code=status, media_type=target.media_type, headers=headers)


def _resolve(*, session: Session, request: Request, settings: Settings, ipfs: IpfsClient, cid: str) -> _Target:
    """What `cid` is (a known work's media, cover, thumbnail or metadata, or just content on the node), its size, and
    whether the caller may see it. Blocking (database, node): runs in the thread pool."""
    work, drafts = catalog_service.works_holding_cid(session=session, cid=cid)
    private = False
    if work is None:
        if drafts:  # only drafts have these bytes: visible as the drafts are (catalog's one rule)
            viewer = _viewer(session=session, request=request, settings=settings)
            work = next((d for d in drafts if catalog_service.can_see(d, viewer)), None)
            if work is None:
                raise NotFound(_NOT_FOUND)
            private = True

    media_type, size, filename = "application/octet-stream", None, None
    if work is not None:
        if work.media_cid == cid:
            media_type, size, filename = work.media_mime, work.media_size, work.media_filename or None
        elif work.cover_cid == cid:
            media_type = work.cover_mime or "application/octet-stream"
        elif work.thumbnail_cid == cid:
            media_type = "image/webp"
        else:
            media_type = "application/json"
    elif profiles.is_avatar(session=session, cid=cid):  # a profile's avatar: resized as thumbnails are
        media_type = "image/webp"
    elif (licence := licences.by_cid(cid)) is not None:
        media_type, size, filename = _TERMS_TYPE, len(licence.document), f"{licence.id}.md"
    elif _is_token_metadata(session, cid):  # an edition's own metadata: its token id is the digest of these bytes
        media_type = "application/json"
    if size is None:
        try:
            info = ipfs.stat(cid)
        except NotFound:
            raise NotFound(_NOT_FOUND) from None
        if info["type"] != "file":
            raise NotFound(_NOT_FOUND)
        size = info["size"]
    return _Target(cid=cid, media_type=media_type, size=size, private=private, filename=filename)


def _is_token_metadata(session: Session, cid: str) -> bool:
    """Is `cid` the metadata of a token the chain index knows (a raw block whose sha2-256 is the token id)?"""
    try:
        token_id = int.from_bytes(raw_cid_digest(cid), "big")
    except InvalidInput:
        return False
    return indexer_service.owner_of(session, token_id) is not None


def _viewer(*, session: Session, request: Request, settings: Settings) -> Account | None:
    """The signed-in caller, by bearer token or by the pages' session cookie (what <img> and <video> send);
    a bad or expired credential is the same as none here."""
    secret = settings.auth_secret.get_secret_value()
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    for candidate in (token.strip() if scheme.lower() == "bearer" else None, request.cookies.get(SESSION_COOKIE)):
        if candidate:
            account = accounts_service.account_for_token(session=session, token=candidate, secret=secret)
            if account is not None:
                return account
    return None


# --------------------------------------------------------------------------------------------------------------
# HTTP semantics (RFC 9110): Range and If-None-Match
# --------------------------------------------------------------------------------------------------------------

UNSATISFIABLE = object()
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def parse_range(header: str, size: int) -> tuple[int, int] | object | None:
    """The single byte range `(first, last)` (inclusive) that `header` asks for in content of `size` bytes.

    None when the whole content should be sent instead: the header is malformed, not in bytes, or asks for
    several ranges (we answer those with the whole body, 200, as RFC 9110 allows). UNSATISFIABLE (answer 416)
    when the range starts at or past the end, or is an empty suffix (`bytes=-0`).
    """
    if "," in header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None  # "bytes=-"
        suffix = _number(last_text)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - suffix), size - 1
    first = _number(first_text)
    last = _number(last_text) if last_text else None
    if last is not None and last < first:
        return None  # syntactically invalid: ignore the header
    if first >= size:
        return UNSATISFIABLE
    return first, size - 1 if last is None else min(last, size - 1)


def _number(digits: str) -> int:
    """A byte position; anything longer than 30 digits is past the end of any file (and never a huge int)."""
    return int(digits) if len(digits) <= 30 else 10**30


def etag_matches(if_none_match: str, etag: str) -> bool:
    """`If-None-Match` weak comparison: `*`, or any listed tag equal to ours with `W/` ignored on both."""
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_none_match.split(","))


def _safe_filename(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:120] or "download"
