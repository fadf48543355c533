"""Errors on pages are pages (in the visitor's language); the API keeps its JSON errors."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from marketplace.accounts import service as accounts_service
from marketplace.accounts.dependencies import SESSION_COOKIE
from marketplace.core import db
from marketplace.web.templating import render, translator

_JSON_PREFIXES = ("/api/", "/ipfs/", "/docs", "/redoc", "/openapi.json", "/static/")


def wants_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith(_JSON_PREFIXES) or path in ("/api", "/ipfs"))


def _viewer(request: Request):
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    secret = request.app.state.settings.auth_secret.get_secret_value()
    try:
        with db.session_scope() as session:
            return accounts_service.account_for_token(session=session, token=token, secret=secret)
    except Exception:  # noqa: BLE001 - an error page must render even when the database is the problem
        return None


def error_page(request: Request, status_code: int, message: str | None = None, code: str | None = None) -> Response:
    t = translator(request)
    if status_code == 404:
        title = t.gettext("Page not found")
        text = t.gettext("The page you are looking for does not exist or is not public.")
    elif code == "csrf_failed":
        title, text = t.gettext("Something went wrong"), t.gettext("Your form expired. Reload the page and try again.")
    elif status_code == 403:
        title, text = t.gettext("Something went wrong"), t.gettext("You are not allowed to do this.")
    elif status_code == 413:
        title, text = t.gettext("Something went wrong"), message or ""
    elif status_code >= 500:
        title, text = t.gettext("Something went wrong"), t.gettext(
            "A service we depend on is unavailable right now; nothing was saved. Please try again.")
    else:
        title, text = t.gettext("Something went wrong"), message or t.gettext("This request could not be understood.")
    return render(request, "error.html", {"title": title, "text": text}, account=_viewer(request),
                  status_code=status_code)
