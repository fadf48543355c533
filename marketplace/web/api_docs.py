"""The API's documentation pages: /docs (Swagger UI) and /redoc (ReDoc), served from our own static files.

Both libraries are vendored, pinned, in frontend/static/vendor/ (scripts/vendor_docs_ui.sh copies them from the
npm packages package.json pins), so the pages work without internet and under the site's Content-Security-Policy
without 'unsafe-inline': each page is a small template with no inline script (FastAPI's get_swagger_ui_html and
get_redoc_html write the configuration into an inline <script>, ReDoc's also an inline <style>); the settings
travel in data attributes and static/js/swagger-init.js or redoc-init.js starts the viewer.

Swagger UI runs under the page policy as it is. ReDoc 2.5.4 needs three things more, allowed on /redoc only:
- the stylesheet of perfect-scrollbar, which its bundle writes into a <style> element as it loads: allowed by
  the hash of that fixed text (a new ReDoc version may change it: tests/web/test_api_docs_browser.py tells);
- the empty <style> elements styled-components fills through the CSSOM (insertRule, which CSP does not govern):
  allowed by the hash of the empty text, which lets no style text in;
- its search index, which runs in a worker made from a blob: URL by its own script (`worker-src blob:`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from marketplace.web import security
from marketplace.web.templating import settings_of, templates, translator

router = APIRouter(include_in_schema=False)

OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
REDOC_SCROLLBAR_STYLE = "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='"


def _page(request: Request, template: str, context: dict | None = None, **policy) -> HTMLResponse:
    settings = settings_of(request)
    t = translator(request)
    response = templates(t.lang).TemplateResponse(request, template, {
        "title": request.app.title, "openapi_url": request.app.openapi_url, "lang": t.lang, "t": t,
        **(context or {})})
    security.finish(request, response, settings)
    response.headers["Content-Security-Policy"] = security.content_security_policy(settings, **policy)
    return response


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return _page(request, "api_docs/swagger.html", {"oauth2_redirect_url": OAUTH2_REDIRECT_PATH})


@router.get(OAUTH2_REDIRECT_PATH, response_class=HTMLResponse)
def swagger_ui_oauth2_redirect(request: Request) -> HTMLResponse:
    """Where an OAuth2 authorization flow started from Swagger UI returns (Swagger UI's own redirect script)."""
    return _page(request, "api_docs/oauth2_redirect.html")


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return _page(request, "api_docs/redoc.html", styles=(EMPTY_STYLE, REDOC_SCROLLBAR_STYLE), workers=("blob:",))
