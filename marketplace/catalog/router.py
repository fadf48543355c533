from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from marketplace.accounts.dependencies import CurrentCreator, OptionalAccount
from marketplace.catalog import licences, upload
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import WorkPublic, WorksPublic, WorkStatus
from marketplace.catalog.schemas import (
    EDITION_SIZE_HELP,
    Discipline,
    License,
    SortKey,
    WorkCreate,
    WorkFilters,
    WorkUpdate,
)
from marketplace.core.api_errors import errors
from marketplace.core.deps import SessionDep, WorkId
from marketplace.core.limits import (
    MAX_DB_ID,
    MAX_DESCRIPTION_CHARS,
    MAX_DISPLAY_NAME_CHARS,
    MAX_EDITION_SIZE,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_PRICE_CENTS,
    MAX_ROYALTY_BPS,
    MAX_SEARCH_CHARS,
    MAX_TITLE_CHARS,
    Currency,
)
from marketplace.core.text import Line, OptionalLine, Text
from marketplace.integrations.adapters import AdaptersDep

router = APIRouter(prefix="/api/works", tags=["works"])
licences_router = APIRouter(prefix="/api/licenses", tags=["licences"])


@licences_router.get("", response_model=list[licences.LicencePublic])
def list_licences(services: AdaptersDep) -> list[licences.LicencePublic]:
    """The licences a work can be sold under, each with its full terms (`url`) and a summary in every language.
    Public."""
    return [licences.to_public(lic, public_base_url=services.settings.public_base_url)
            for lic in licences.LICENCES.values()]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WorkPublic,
             responses=errors(401, 403, 408, 413, 415, 422, 503, 507))
async def create_work(
    session: SessionDep,
    services: AdaptersDep,
    creator: CurrentCreator,
    file: Annotated[UploadFile, File(description="The media: image, audio, video, PDF or glTF model")],
    title: Annotated[Line, Form(min_length=1, max_length=MAX_TITLE_CHARS)],
    discipline: Annotated[Discipline, Form()],
    price_cents: Annotated[int, Form(gt=0, le=MAX_PRICE_CENTS)],
    license: Annotated[License, Form()],
    description: Annotated[Text, Form(max_length=MAX_DESCRIPTION_CHARS)] = "",
    currency: Annotated[Currency, Form()] = Currency.EUR,
    royalty_bps: Annotated[int, Form(ge=0, le=MAX_ROYALTY_BPS)] = 0,
    edition_size: Annotated[int, Form(ge=1, le=MAX_EDITION_SIZE, description=EDITION_SIZE_HELP)] = 1,
    cover: Annotated[UploadFile | None, File(
        description="Audio and video only: a cover image (PNG, JPEG, GIF, WebP, AVIF, TIFF or SVG without scripts), "
                    "the work's thumbnail and its token's `image`. Refused (422 at body.cover) on other works, or "
                    "if it is not an accepted image, over MAX_COVER_BYTES or too many pixels")] = None,
) -> WorkPublic:
    """A new draft. `file` is typed from its bytes; an audio or video work may bring a `cover` image."""
    work_in = WorkCreate(
        title=title, description=description, discipline=discipline, price_cents=price_cents,
        currency=currency, royalty_bps=royalty_bps, license=license, edition_size=edition_size,
    )
    settings = services.settings
    if cover is not None and not cover.filename and not cover.size:
        cover = None  # an empty file field (what a form sends when no cover is chosen)

    def _upload():
        work = upload.upload_work(
            session=session, creator=creator, work_in=work_in, source=file.file, filename=file.filename or "",
            staging_dir=settings.media_dir / "staging", max_bytes=settings.max_upload_bytes,
            thumbnail_px=settings.thumbnail_px, ipfs=services.ipfs, max_image_pixels=settings.max_image_pixels,
            image_concurrency=settings.image_work_concurrency,
            cover=cover.file if cover is not None else None, max_cover_bytes=settings.max_cover_bytes,
        )
        return catalog_service.to_public(work, creator)

    return await run_in_threadpool(_upload)


@router.get("", response_model=WorksPublic, responses=errors(401, 422, 503))
def list_works(
    session: SessionDep,
    viewer: OptionalAccount,
    discipline: Discipline | None = None,
    license: License | None = None,
    creator_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
    creator: Annotated[OptionalLine, Query(max_length=MAX_DISPLAY_NAME_CHARS,
                                           description="creator name (contains)")] = None,
    q: Annotated[OptionalLine, Query(max_length=MAX_SEARCH_CHARS,
                                     description="words in the title, description or creator name")] = None,
    min_price_cents: Annotated[int | None, Query(ge=0, le=MAX_PRICE_CENTS)] = None,
    max_price_cents: Annotated[int | None, Query(ge=0, le=MAX_PRICE_CENTS)] = None,
    status_: Annotated[WorkStatus | None, Query(alias="status")] = None,
    sort: SortKey = "newest",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 24,
) -> WorksPublic:
    filters = WorkFilters(
        discipline=discipline, license=license, creator_id=creator_id, creator=creator, q=q,
        min_price_cents=min_price_cents, max_price_cents=max_price_cents, status=status_, sort=sort,
        page=page, page_size=page_size,
    )
    rows, count = catalog_service.list_works(session=session, filters=filters, viewer=viewer, hidden_to=viewer)
    return WorksPublic(
        data=catalog_service.works_public(session, rows), count=count, page=page, page_size=page_size
    )


@router.get("/{work_id}", response_model=WorkPublic, responses=errors(401, 404, 422, 503))
def get_work(work_id: WorkId, session: SessionDep, viewer: OptionalAccount) -> WorkPublic:
    """A work; a draft, or a work moderation hid, only for its creators (the uploader and those invited to co-sign
    it) and admins (404 for everyone else; they see `hidden_at` and `hidden_reason`)."""
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=viewer)
    return catalog_service.work_public(session=session, work=work)


@router.patch("/{work_id}", response_model=WorkPublic, responses=errors(401, 403, 404, 408, 409, 422, 503))
def update_work(work_id: WorkId, work_in: WorkUpdate, session: SessionDep, creator: CurrentCreator) -> WorkPublic:
    work = catalog_service.get_own_work_or_raise(session=session, work_id=work_id, account=creator)
    work = catalog_service.update_work(session=session, work=work, work_in=work_in)
    return catalog_service.work_public(session=session, work=work)
