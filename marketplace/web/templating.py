"""Rendering pages: the Jinja2 environment (autoescaped), what every template gets, and the response headers."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, RedirectResponse, Response

from marketplace.accounts import lifecycle
from marketplace.accounts.models import Account, Role
from marketplace.core.config import DISCIPLINES, LICENSES, Settings
from marketplace.web import security
from marketplace.web.i18n import LANG_COOKIE, LANGUAGE_NAMES, LANGUAGES, Translator, negotiate, translations

FRONTEND_DIR = Path(__file__).resolve().parents[2] / "frontend"


def _short(value: str | None, head: int = 8, tail: int = 6) -> str:
    if not value:
        return ""
    value = str(value)
    return value if len(value) <= head + tail + 1 else f"{value[:head]}…{value[-tail:]}"


def _token_hex(token_id: str | int | None) -> str:
    return f"0x{int(token_id):064x}" if token_id not in (None, "") else ""


@cache
def templates(lang: str) -> Jinja2Templates:
    """One Jinja environment per language, with that language's catalogue installed (Jinja's i18n extension,
    newstyle: `_()`, `ngettext()`, `pgettext()` and `{% trans %}` fill `%(name)s` placeholders and escape them)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(FRONTEND_DIR / "templates"),
                             autoescape=jinja2.select_autoescape(), trim_blocks=True, lstrip_blocks=True,
                             extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(lang), newstyle=True)
    env.filters["short"] = _short
    env.filters["token_hex"] = _token_hex
    return Jinja2Templates(env=env)


def translator(request: Request) -> Translator:
    lang = getattr(request.state, "lang", None)
    if lang is None:
        lang = negotiate(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))
        request.state.lang = lang
    return Translator(lang)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           account: Account | None = None, status_code: int = 200) -> HTMLResponse:
    settings = settings_of(request)
    t = translator(request)
    query = dict(request.query_params)

    def url_with(**changes) -> str:
        """This page's URL with some query parameters changed (None removes one)."""
        merged = {**query, **{k: v for k, v in changes.items()}}
        merged = {k: v for k, v in merged.items() if v not in (None, "")}
        return f"{request.url.path}?{urlencode(merged)}" if merged else request.url.path

    ctx = {
        "account": account,
        "t": t,
        "lang": t.lang,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "csrf_token": security.csrf_token(request, settings),
        "csrf_field": security.CSRF_FIELD,
        "current_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "url_with": url_with,
        "disciplines": DISCIPLINES,
        "licenses": LICENSES,
        "settings": settings,
        "max_upload_mb": f"{settings.max_upload_bytes / (1024 * 1024):g}",
        "test_mode": not settings.stripe_api_key.get_secret_value().startswith("sk_live_"),
        "is_htmx": request.headers.get("hx-request") == "true",
        "unread_notices": (lifecycle.unread_notices(account.id)
                           if account is not None and account.id is not None else 0),
    }
    ctx.update(context or {})
    response = templates(t.lang).TemplateResponse(request, template, ctx, status_code=status_code)
    return security.finish(request, response, settings)


def redirect(request: Request, url: str, *, status_code: int = 303) -> Response:
    """A redirect after a post; htmx requests get HX-Redirect (htmx would otherwise swap the target in place)."""
    if request.headers.get("hx-request") == "true":
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=status_code)
    return security.finish(request, response, settings_of(request))


def admin_or_refusal(request: Request, viewer: Account | None, back: str) -> Response | None:
    """An admins' page: None for an admin; a visitor signed out is sent to sign in (then back to `back`); anyone
    else gets 403."""
    if viewer is None:
        return redirect(request, f"/signin?next={back}")
    if viewer.role != Role.admin:
        raise HTTPException(403)
    return None


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths: never `//host` or `https://host` (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value
