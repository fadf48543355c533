"""The profile and the account on the web: the studio's Profile page (the same service as PUT /api/me/profile and
PUT / DELETE /api/me/avatar), and the account page: download my data (GET /api/me/export's document) and delete my
account, with a confirmation step (the same service as DELETE /api/me)."""

from __future__ import annotations

from functools import partial

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import Response

from marketplace.accounts import profiles
from marketplace.accounts.dependencies import PasswordHashingDep
from marketplace.accounts.models import MAX_BIO_CHARS, MAX_LINKS, MAX_LOCATION_CHARS, MAX_SKILLS
from marketplace.catalog import avatars
from marketplace.core.config import DISCIPLINES
from marketplace.core.deps import RateLimiterDep, SessionDep, client_address
from marketplace.core.exceptions import (
    MarketplaceError,
    PayloadTooLarge,
    ServerBusy,
    TooManyRequests,
    UnsupportedMediaType,
)
from marketplace.core.limits import MAX_DISPLAY_NAME_CHARS
from marketplace.integrations.adapters import AdaptersDep
from marketplace.privacy import service as privacy_service
from marketplace.web import security
from marketplace.web.dependencies import CsrfForm, TranslatorDep, Viewer
from marketplace.web.forms import text
from marketplace.web.i18n import Translator
from marketplace.web.templating import redirect, render, settings_of

router = APIRouter(include_in_schema=False)

AVATAR_ACCEPT = "image/png,image/jpeg,image/gif,image/webp,image/avif,image/tiff"


def _field_message(field: str, t: Translator) -> str:
    return {
        "display_name": t.gettext("A name of 1 to %(n)s characters, without control characters.",
                                  n=MAX_DISPLAY_NAME_CHARS),
        "bio": t.gettext("At most %(n)s characters, without control characters.", n=MAX_BIO_CHARS),
        "location": t.gettext("At most %(n)s characters on one line, without control characters.",
                              n=MAX_LOCATION_CHARS),
        "links": t.gettext("At most %(n)s links, one per line, each an http:// or https:// address.", n=MAX_LINKS),
        "skills": t.gettext("At most %(n)s skills, separated by commas, each up to 40 characters.", n=MAX_SKILLS),
        "disciplines": t.gettext("Choose disciplines from the list."),
    }.get(field, t.gettext("Please correct this field."))


def profile_form(form, t: Translator) -> tuple[profiles.ProfileIn | None, dict[str, str], dict]:
    """The Profile form -> ProfileIn, or the errors by field (in the reader's language) and the values typed."""
    values = {
        "display_name": text(form, "display_name"), "bio": text(form, "bio"), "location": text(form, "location"),
        "links": text(form, "links"), "skills": text(form, "skills"),
        "disciplines": [d for d in form.getlist("disciplines") if isinstance(d, str)],
    }
    body = {
        "display_name": values["display_name"], "bio": values["bio"], "location": values["location"],
        "links": [line.strip() for line in values["links"].splitlines() if line.strip()],
        "skills": [s.strip() for s in values["skills"].split(",") if s.strip()],
        "disciplines": values["disciplines"],
    }
    try:
        return profiles.ProfileIn.model_validate(body), {}, values
    except ValidationError as exc:
        fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        return None, {field: _field_message(field, t) for field in sorted(fields)}, values


def _values_of(profile: profiles.ProfilePublic) -> dict:
    return {"display_name": profile.display_name, "bio": profile.bio, "location": profile.location,
            "links": "\n".join(profile.links), "skills": ", ".join(profile.skills),
            "disciplines": profile.disciplines}


def _profile_page(request: Request, session, viewer, *, values: dict | None = None, errors: dict | None = None,
                  notice: str | None = None, status_code: int = 200) -> HTMLResponse:
    profile = profiles.profile_public(session=session, account=viewer)
    return render(request, "profile_edit.html", {
        "profile": profile, "values": values or _values_of(profile), "errors": errors or {}, "notice": notice,
        "all_disciplines": DISCIPLINES, "avatar_accept": AVATAR_ACCEPT, "max_links": MAX_LINKS,
        "max_avatar_mb": f"{settings_of(request).max_avatar_bytes / (1024 * 1024):g}",
        "limits": {"display_name": MAX_DISPLAY_NAME_CHARS, "bio": MAX_BIO_CHARS, "location": MAX_LOCATION_CHARS},
    }, account=viewer, status_code=status_code)


@router.get("/studio/profile", response_class=HTMLResponse)
def profile_page(request: Request, session: SessionDep, viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/studio/profile")
    notice = request.query_params.get("m")
    return _profile_page(request, session, viewer, notice=notice if notice in ("saved", "avatar", "removed") else None)


@router.post("/studio/profile", response_class=HTMLResponse)
def save_profile(request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
                 t: TranslatorDep) -> Response:
    """The Profile form: profiles.update_profile, as PUT /api/me/profile."""
    if viewer is None:
        return redirect(request, "/signin?next=/studio/profile")
    profile_in, errors, values = profile_form(form, t)
    if profile_in is None:
        errors = {"form": t.gettext("Please correct the fields marked below."), **errors}
        return _profile_page(request, session, viewer, values=values, errors=errors, status_code=422)
    profiles.update_profile(session=session, account=viewer, profile_in=profile_in)
    return redirect(request, "/studio/profile?m=saved")


def _avatar_error(exc: MarketplaceError, t: Translator, max_mb: str) -> str:
    if isinstance(exc, PayloadTooLarge):
        return t.gettext("The image is larger than the %(mb)s MB limit.", mb=max_mb)
    if exc.code == "image_too_large":
        return t.gettext("The image has too many pixels to process: choose a smaller one.")
    if isinstance(exc, UnsupportedMediaType):
        return t.gettext("An avatar must be a PNG, JPEG, GIF, WebP, AVIF or TIFF image.")
    return t.gettext("A service we depend on is unavailable right now; nothing was saved. Please try again.")


@router.post("/studio/profile/avatar", response_class=HTMLResponse)
def upload_avatar(request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep, viewer: Viewer,
                  t: TranslatorDep) -> Response:
    """The avatar form: avatars.upload_avatar, as PUT /api/me/avatar."""
    if viewer is None:
        return redirect(request, "/signin?next=/studio/profile")
    settings = settings_of(request)
    upload = form.get("avatar")
    max_mb = f"{settings.max_avatar_bytes / (1024 * 1024):g}"
    if not isinstance(upload, UploadFile) or not (upload.filename or upload.size):
        return _profile_page(request, session, viewer, errors={"avatar": t.gettext("Choose an image.")},
                             status_code=422)
    try:
        avatars.upload_avatar(session=session, account=viewer, source=upload.file,
                              staging_dir=settings.media_dir / "staging", max_bytes=settings.max_avatar_bytes,
                              avatar_px=settings.avatar_px, ipfs=services.ipfs,
                              max_image_pixels=settings.max_image_pixels,
                              image_concurrency=settings.image_work_concurrency)
    except MarketplaceError as exc:
        status = exc.status_code if exc.status_code < 500 else 503
        return _profile_page(request, session, viewer, errors={"avatar": _avatar_error(exc, t, max_mb)},
                             status_code=status)
    return redirect(request, "/studio/profile?m=avatar")


@router.post("/studio/profile/avatar/delete", response_class=HTMLResponse)
def delete_avatar(request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep,
                  viewer: Viewer) -> Response:
    if viewer is None:
        return redirect(request, "/signin?next=/studio/profile")
    avatars.remove_avatar(session=session, account=viewer, ipfs=services.ipfs)
    return redirect(request, "/studio/profile?m=removed")


# ------------------------------------------------------------------------------------------------ the account
# (the /account page itself, with these links, is web/account.py's)
@router.get("/account/export")
def export_download(request: Request, session: SessionDep, viewer: Viewer) -> Response:
    """My data as a JSON download: the document GET /api/me/export gives."""
    if viewer is None:
        return redirect(request, "/signin?next=/account")
    document = privacy_service.export(session=session, account=viewer)
    response = JSONResponse(document, headers={
        "Content-Disposition": f'attachment; filename="marketplace-export-{viewer.id}.json"'})
    return security.finish(request, response, settings_of(request))


@router.get("/account/delete", response_class=HTMLResponse)
def delete_page(request: Request, viewer: Viewer) -> Response:
    """The confirmation step: what is kept and what goes, the password, a tick."""
    if viewer is None:
        return redirect(request, "/signin?next=/account/delete")
    return render(request, "account_delete.html", {"errors": {}}, account=viewer)


@router.post("/account/delete", response_class=HTMLResponse)
async def delete_account(request: Request, form: CsrfForm, session: SessionDep, services: AdaptersDep,
                         viewer: Viewer, t: TranslatorDep, limiter: RateLimiterDep,
                         hashing: PasswordHashingDep) -> Response:
    """privacy_service.delete_account, as DELETE /api/me: the password confirms it; then signed out."""
    if viewer is None:
        return redirect(request, "/signin?next=/account/delete")
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    errors: dict[str, str] = {}
    if form.get("confirm") != "yes":
        errors["confirm"] = t.gettext("Tick the box to confirm that you want to delete your account.")
    if not password:
        errors["password"] = t.gettext("Enter your password to confirm.")
    if not errors:
        try:
            await privacy_service.confirm_password(account=viewer, password=password,
                                                   address=client_address(request), limiter=limiter,
                                                   hashing=hashing)
        except privacy_service.WrongPassword:
            errors["password"] = t.gettext("This is not your password: nothing was deleted.")
        except (TooManyRequests, ServerBusy) as exc:
            errors["form"] = t.gettext("Too many attempts. Please wait %(seconds)s s and try again.",
                                       seconds=getattr(exc, "retry_after", 1))
    if errors:
        return render(request, "account_delete.html", {"errors": errors}, account=viewer, status_code=400)
    await anyio.to_thread.run_sync(partial(privacy_service.delete_account, session=session, account=viewer,
                                           ipfs=services.ipfs))
    response = redirect(request, "/signin?m=deleted")
    security.clear_session_cookie(response, settings_of(request))
    return response
