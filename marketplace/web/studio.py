"""The creator studio: upload (with progress, from `static/js/upload.js`), my works and their mint status (htmx
polling), price edits, the creators of a co-created draft (`static/js/crew.js`: find creators, shares summed
live) and the invitations to co-sign, my sales and earnings, and the open calls' invitations to join a team."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.responses import Response

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Account, Role
from marketplace.calls import service as calls_service
from marketplace.catalog import collaborators
from marketplace.catalog import service as catalog_service
from marketplace.catalog import upload as catalog_upload
from marketplace.catalog.media import CoverRefused
from marketplace.catalog.models import Work, WorkStatus
from marketplace.catalog.schemas import WorkFilters, WorkUpdate
from marketplace.core import limits
from marketplace.core.deps import SessionDep, WorkId
from marketplace.core.exceptions import (
    MarketplaceError,
    PayloadTooLarge,
    PriceFixed,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from marketplace.integrations.adapters import AdaptersDep
from marketplace.mail.outbox import Sender
from marketplace.minting import service as minting_service
from marketplace.payments import service as payments_service
from marketplace.web import labels, security
from marketplace.web.dependencies import CsrfForm, TranslatorDep, Viewer
from marketplace.web.forms import (
    cover_file,
    crew_form,
    crew_refusal,
    pending_message,
    price_error,
    text,
    work_form,
)
from marketplace.web.i18n import DEFAULT_LANGUAGE, Translator
from marketplace.web.templating import redirect, render, settings_of

router = APIRouter(include_in_schema=False)

# what the file picker offers (the server decides from the bytes; this only guides the picker)
ACCEPT = ("image/*,audio/*,video/*,application/pdf,model/gltf-binary,model/gltf+json,.glb,.gltf,.mp3,.wav,.flac,"
          ".ogg,.m4a,.mp4,.mov,.webm,.pdf,.png,.jpg,.jpeg,.gif,.webp,.avif,.tif,.tiff,.svg")
COVER_ACCEPT = "image/png,image/jpeg,image/gif,image/webp,image/avif,image/tiff,image/svg+xml,.avif,.tif,.tiff,.svg"


def _is_creator(account: Account | None) -> bool:
    return account is not None and account.role in (Role.creator, Role.admin)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _own_work(session, work_id: int, account: Account | None) -> Work:
    if not _is_creator(account):
        raise HTTPException(404)
    return catalog_service.get_own_work_or_raise(session=session, work_id=work_id, account=account)


def _crew_rows(work: Work, crew, uploader: Account) -> list[dict]:
    """The rows of a draft's creators form: its list, or the uploader alone (all of it)."""
    if not crew:
        return [{"user_id": str(uploader.id), "name": uploader.display_name, "share": "100", "role": "",
                 "status": "accepted"}]
    return [{"user_id": str(c.user_id), "name": c.display_name, "share": f"{c.share_bps / 100:g}", "role": c.role,
             "status": c.status} for c in crew]


def _studio(request: Request, session, account: Account, *, errors: dict | None = None,
            values: dict | None = None, status_code: int = 200, crew_edit: dict | None = None,
            alert: str | None = None) -> HTMLResponse:
    """`crew_edit`: a refused list of a work's creators to show again ({work_id, rows, errors}); `alert`: why an
    answer to an invitation was refused."""
    if not _is_creator(account):
        return render(request, "studio.html", {"creator": False}, account=account)
    rows, _ = catalog_service.list_works(
        session=session, filters=WorkFilters(creator_id=account.id, page_size=100), viewer=account,
        hidden_to=account)
    uploaded = request.query_params.get("uploaded")
    uploaded_work = next((w for w, _ in rows if uploaded and str(w.id) == uploaded), None)
    mine = [w for w, _ in rows]
    crews = catalog_service.collaborators_by_work(session, [w.id for w in mine])
    crew_rows = {w.id: _crew_rows(w, crews.get(w.id), account) for w in mine}
    crew_errors: dict = {}
    if crew_edit:
        crew_rows[crew_edit["work_id"]] = crew_edit["rows"]
        crew_errors[crew_edit["work_id"]] = crew_edit["errors"]
    return render(request, "studio.html", {
        "creator": True, "works": mine, "errors": errors or {}, "values": values or {},
        "crews": crews, "crew_rows": crew_rows, "crew_errors": crew_errors, "alert": alert,
        "invitations": collaborators.invitations_for(session, account=account),
        "sales": payments_service.creator_sales(session=session, creator_id=account.id),
        "balance_cents": payments_service.balance_cents(session=session, account_id=account.id),
        "call_invitations": calls_service.invitations(session=session, account=account),
        "uploaded_work": uploaded_work, "accept": ACCEPT, "cover_accept": COVER_ACCEPT,
        "max_upload_bytes": settings_of(request).max_upload_bytes,
        "max_cover_bytes": settings_of(request).max_cover_bytes,
        "limits": limits,
        "max_cover_mb": f"{settings_of(request).max_cover_bytes / (1024 * 1024):g}",
    }, account=account, status_code=status_code)


@router.get("/studio", response_class=HTMLResponse)
def studio_page(request: Request, session: SessionDep, viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/studio")
    return _studio(request, session, viewer)


def _upload_errors(exc: MarketplaceError, t: Translator, max_mb: str, max_cover_mb: str) -> dict[str, str]:
    if isinstance(exc, CoverRefused):  # the same refusal as the API's 422 at body.cover, in the reader's language
        if exc.reason == "kind":
            message = t.gettext("A cover image is for audio and video works only: remove it, or choose an audio or "
                                "video file.")
        elif exc.reason == "size":
            message = t.gettext("The cover image is larger than the %(mb)s MB limit.", mb=max_cover_mb)
        elif exc.reason == "pixels":
            message = t.gettext("The cover image has too many pixels to process: choose a smaller one.")
        else:
            message = t.gettext("The cover must be an image: PNG, JPEG, GIF, WebP, AVIF, TIFF or SVG without scripts.")
        return {"cover": message}
    if isinstance(exc, PayloadTooLarge):
        return {"file": t.gettext("The file is larger than the %(mb)s MB limit.", mb=max_mb)}
    if isinstance(exc, UnsupportedMediaType):
        if t.lang == DEFAULT_LANGUAGE:
            return {"file": exc.message}
        return {"file": t.gettext("This kind of file is not accepted. %(accepted)s",
                                  accepted=t.gettext(labels.ACCEPTED_SUMMARY))}
    if isinstance(exc, ServiceUnavailable):
        return {"form": t.gettext(
            "A service we depend on is unavailable right now; nothing was saved. Please try again.")}
    return {"form": exc.message}


@router.post("/studio/works", response_class=HTMLResponse)
def upload(request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep, viewer: Viewer,
           t: TranslatorDep) -> Response:
    """A new draft from the upload form. The upload script posts with XMLHttpRequest (for its progress bar) and
    gets JSON; without JavaScript the form posts normally and gets the page back, with messages by the fields."""
    if not _is_creator(viewer):
        raise HTTPException(403)
    settings = settings_of(request)
    max_mb = f"{settings.max_upload_bytes / (1024 * 1024):g}"
    max_cover_mb = f"{settings.max_cover_bytes / (1024 * 1024):g}"
    values = {k: text(form, k) for k in ("title", "description", "discipline", "license", "price", "royalty",
                                          "edition_size")}
    work_in, upload_file, errors = work_form(form, t)
    cover = cover_file(form)
    work = None
    if work_in is not None and upload_file is not None:
        try:
            work = catalog_upload.upload_work(
                session=session, creator=viewer, work_in=work_in, source=upload_file.file,
                filename=upload_file.filename or "", staging_dir=settings.media_dir / "staging",
                max_bytes=settings.max_upload_bytes, thumbnail_px=settings.thumbnail_px, ipfs=services.ipfs,
                max_image_pixels=settings.max_image_pixels, image_concurrency=settings.image_work_concurrency,
                cover=cover.file if cover is not None else None, max_cover_bytes=settings.max_cover_bytes)
        except MarketplaceError as exc:
            errors = _upload_errors(exc, t, max_mb, max_cover_mb)
    if work is None:
        if "form" not in errors:
            errors = {"form": t.gettext("Please correct the fields marked below."), **errors}
        if _wants_json(request):
            return security.finish(request, JSONResponse({"errors": errors}, status_code=422), settings)
        return _studio(request, session, viewer, errors=errors, values=values, status_code=422)
    target = f"/studio?uploaded={work.id}#work-{work.id}"
    if _wants_json(request):
        return security.finish(request, JSONResponse({"id": work.id, "redirect": target}, status_code=201),
                               settings)
    return redirect(request, target)


@router.get("/studio/works/{work_id}/status", response_class=HTMLResponse)
def work_status(work_id: WorkId, request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    """The mint status cell, polled by htmx while the work is minting (it stops polling once settled)."""
    work = _own_work(session, work_id, viewer)
    return render(request, "partials/mint_status.html", {"work": work}, account=viewer)


@router.post("/studio/works/{work_id}/mint", response_class=HTMLResponse)
def mint(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep,
         viewer: Viewer, t: TranslatorDep) -> Response:
    work = _own_work(session, work_id, viewer)
    error = None
    try:
        creator = accounts_service.get_account_or_raise(session=session, account_id=work.creator_id)
        work = minting_service.request_mint(session=session, work=work, creator=creator, ipfs=services.ipfs,
                                  chain=services.chain_or_raise(), public_base_url=services.settings.public_base_url)
    except collaborators.CreatorsPending as exc:
        error = pending_message(exc, t)
    except MarketplaceError as exc:
        error = exc.message
    if request.headers.get("hx-request") != "true":
        return redirect(request, f"/studio#work-{work.id}")
    return render(request, "partials/mint_status.html", {"work": work, "error": error}, account=viewer)


@router.post("/studio/works/{work_id}/price", response_class=HTMLResponse)
def edit_price(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
               t: TranslatorDep) -> Response:
    work = _own_work(session, work_id, viewer)
    cents, error = price_error(t, text(form, "price"))
    saved = False
    if error is None:
        try:
            work = catalog_service.update_work(session=session, work=work, work_in=WorkUpdate(price_cents=cents))
            saved = True
        except PriceFixed as exc:  # the same rule as the API's PATCH, in the reader's language
            error = (t.gettext("This work is sold: its price is the one it sold for.") if exc.reason == "sold" else
                     t.gettext("A buyer is paying for this work at its current price: change it once that checkout "
                               "ends."))
    if request.headers.get("hx-request") != "true":
        return redirect(request, f"/studio#work-{work.id}")
    return render(request, "partials/price_form.html", {"work": work, "saved": saved, "error": error,
                                                        "raw": text(form, "price")}, account=viewer)


@router.post("/studio/works/{work_id}/collaborators", response_class=HTMLResponse)
def set_crew(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
             t: TranslatorDep) -> Response:
    """The uploader's list of a draft's creators (collaborators.set_collaborators, as PUT /api/works/{id}/
    collaborators); refused: the studio again with the messages next to the fields, nothing changed."""
    work = _own_work(session, work_id, viewer)
    entries, typed, errors = crew_form(form, t)
    if entries is not None:
        try:
            collaborators.set_collaborators(session, work=work, account=viewer, entries=entries,
                                            sender=Sender.of(settings_of(request)))
            return redirect(request, f"/studio#work-{work.id}")
        except collaborators.CollaboratorsRefused as exc:
            errors = crew_refusal(exc, t, typed)
        except MarketplaceError as exc:
            session.rollback()
            errors = {"form": t.gettext("Only the uploader of a draft can change its creators.")
                      if exc.status_code == 403 else t.gettext("The creators of a work are fixed once minting "
                                                               "has started.")}
    statuses = {row["user_id"]: row["status"] for row in _crew_rows(
        work, catalog_service.collaborators_by_work(session, [work.id]).get(work.id), viewer)}
    rows = [{**row, "status": statuses.get(row["user_id"], "invited")} for row in typed]
    return _studio(request, session, viewer, status_code=422,
                   crew_edit={"work_id": work.id, "rows": rows, "errors": errors})


def _answer(work_id: int, request: Request, session, viewer: Account | None, t: Translator, *,
            accept: bool) -> Response:
    if viewer is None:
        raise HTTPException(404)
    work = catalog_service.get_visible_work_or_raise(session=session, work_id=work_id, viewer=viewer)
    try:
        collaborators.respond(session, work=work, account=viewer, accept=accept)
    except MarketplaceError as exc:
        if exc.status_code == 403:
            raise HTTPException(403) from None
        session.rollback()
        alert = (t.gettext("The creators of a work are fixed once minting has started.")
                 if work.status != WorkStatus.draft else t.gettext("You uploaded this work: there is no invitation "
                                                                   "to answer."))
        return _studio(request, session, viewer, status_code=exc.status_code, alert=alert)
    return redirect(request, f"/studio#invitation-{work.id}")


@router.post("/studio/works/{work_id}/collaborators/accept", response_class=HTMLResponse)
def accept_invitation(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
                      t: TranslatorDep) -> Response:
    return _answer(work_id, request, session, viewer, t, accept=True)


@router.post("/studio/works/{work_id}/collaborators/decline", response_class=HTMLResponse)
def decline_invitation(work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
                       t: TranslatorDep) -> Response:
    return _answer(work_id, request, session, viewer, t, accept=False)
