"""What keeps the pages safe: CSRF tokens for form posts, the session cookie, and the security headers.

CSRF: a signed double-submit token. A random nonce lives in an HttpOnly cookie; forms (and htmx, via a header)
send HMAC(AUTH_SECRET, nonce). A cross-site page can neither read the nonce nor compute the token, and a cookie
planted by a sibling domain is useless without the secret. Requests that announce a foreign Origin or
`Sec-Fetch-Site: cross-site` are refused as well.

Every page carries a Content-Security-Policy without 'unsafe-inline': scripts and styles only from our own
origin, so even text that slipped through escaping could not run.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import Response

from marketplace.accounts.dependencies import SESSION_COOKIE
from marketplace.core.config import REAL_STRIPE_API, Settings
from marketplace.core.exceptions import Forbidden

CSRF_COOKIE = "mp_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
STRIPE_CONNECT_ORIGIN = "https://connect.stripe.com"  # Connect's hosted onboarding (Set up payouts)


class CsrfFailed(Forbidden):
    """The form expired or did not come from this site. Reload the page and try again."""

    code = "csrf_failed"


def _secret(settings: Settings) -> bytes:
    return settings.auth_secret.get_secret_value().encode()


def _sign(settings: Settings, nonce: str) -> str:
    return hmac.new(_secret(settings), f"csrf/v1/{nonce}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request, settings: Settings) -> str:
    """The token for this browser's forms; a new nonce (set on the response by `finish`) when it has none."""
    nonce = getattr(request.state, "csrf_nonce", None) or request.cookies.get(CSRF_COOKIE)
    if not nonce or len(nonce) > 100:
        nonce = secrets.token_urlsafe(32)
        request.state.csrf_new_nonce = nonce
    request.state.csrf_nonce = nonce
    return _sign(settings, nonce)


def verify_csrf(request: Request, settings: Settings, form: FormData | None) -> None:
    site = request.headers.get("sec-fetch-site")
    if site == "cross-site":
        raise CsrfFailed()
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise CsrfFailed()
    nonce = request.cookies.get(CSRF_COOKIE)
    sent = (form.get(CSRF_FIELD) if form is not None else None) or request.headers.get(CSRF_HEADER)
    if not nonce or not isinstance(sent, str) or not hmac.compare_digest(sent, _sign(settings, nonce)):
        raise CsrfFailed()


def cookies_secure(settings: Settings) -> bool:
    """Cookies are `Secure` when the site is served over https (PUBLIC_BASE_URL)."""
    return settings.public_base_url.startswith("https://")


_secure = cookies_secure


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.access_token_minutes * 60, httponly=True,
                        samesite="lax", secure=_secure(settings), path="/")


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(settings))


def checkout_origin(settings: Settings) -> str:
    """Where Buy redirects: Stripe's hosted page, or the Stripe double's (same origin as its API) locally."""
    if settings.stripe_api_base.rstrip("/") == REAL_STRIPE_API:
        return STRIPE_CHECKOUT_ORIGIN
    parts = urlsplit(settings.stripe_api_base)
    return f"{parts.scheme}://{parts.netloc}"


def connect_origin(settings: Settings) -> str:
    """Where Set up payouts redirects, besides the checkout origin: Stripe's onboarding (the double's is its own)."""
    return f" {STRIPE_CONNECT_ORIGIN}" if settings.stripe_api_base.rstrip("/") == REAL_STRIPE_API else ""


def content_security_policy(settings: Settings, *, styles: tuple[str, ...] = (), workers: tuple[str, ...] = ()) -> str:
    """The page policy. `styles`: hashes of <style> elements that may apply too; `workers`: where workers may
    come from besides our origin (both only for the ReDoc page, web/api_docs.py)."""
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        " ".join(("style-src 'self'", *styles)),
        *((" ".join(("worker-src 'self'", *workers)),) if workers else ()),
        "img-src 'self' data: blob:",  # blob: the upload preview of a file chosen on this page
        "media-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        # Chromium applies form-action to the redirect after a post too: Buy -> 303 -> the checkout page
        f"form-action 'self' {checkout_origin(settings)}{connect_origin(settings)}",
    ))


def finish(request: Request, response: Response, settings: Settings) -> Response:
    """Security headers on every page, and the CSRF cookie when this request created the nonce."""
    response.headers["Content-Security-Policy"] = content_security_policy(settings)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie, Accept-Language, HX-Request"
    new_nonce = getattr(request.state, "csrf_new_nonce", None)
    if new_nonce:
        response.set_cookie(CSRF_COOKIE, new_nonce, httponly=True, samesite="lax", secure=_secure(settings),
                            path="/")
    return response


# JSON, media and anything else that is not a page: nothing in it may load or run, and no one may frame it
_NON_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeaders:
    """Pure ASGI, outermost: every response -- pages, JSON, media, redirects, errors raised anywhere, the
    last-resort 500 -- carries nosniff, DENY framing, the referrer policy and a Content-Security-Policy (the
    page policy for HTML, `default-src 'none'` for the rest), HSTS over https, and `no-store` on errors. Headers a
    route set itself (the pages' `finish`, /ipfs's sandbox) are kept."""

    def __init__(self, app, *, settings: Settings) -> None:
        self.app = app
        self.page_csp = content_security_policy(settings).encode()
        self.hsts = _secure(settings)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")

                def add(name: bytes, value: bytes) -> None:
                    if name not in present:
                        headers.append((name, value))

                add(b"x-content-type-options", b"nosniff")
                add(b"x-frame-options", b"DENY")
                add(b"referrer-policy", b"same-origin")
                add(b"content-security-policy",
                    self.page_csp if content_type.startswith(b"text/html") else _NON_PAGE_CSP.encode())
                if self.hsts:
                    add(b"strict-transport-security", b"max-age=31536000; includeSubDomains")
                if message["status"] >= 400:
                    add(b"cache-control", b"no-store")
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
