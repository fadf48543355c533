"""create_app(): lifespan (database, IPFS, chain, mint worker), routers, one error handler, static files."""

from __future__ import annotations

import asyncio
import hmac
import logging
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from marketplace.accounts.care_router import router as account_care_router
from marketplace.accounts.router import router as accounts_router
from marketplace.accounts.security import PasswordHashing
from marketplace.calls.router import router as calls_router
from marketplace.catalog import licences
from marketplace.catalog.avatars_router import router as avatars_router
from marketplace.catalog.collaborators_router import router as collaborators_router
from marketplace.catalog.media_router import router as ipfs_router
from marketplace.catalog.router import licences_router
from marketplace.catalog.router import router as catalog_router
from marketplace.chainwatch.router import router as chain_router
from marketplace.core import db, observability
from marketplace.core.api_errors import field_errors
from marketplace.core.config import Settings, get_settings
from marketplace.core.exceptions import (
    DatabaseUnavailable,
    InvalidInput,
    MarketplaceError,
    PayloadTooLarge,
    RequestTimeout,
)
from marketplace.core.ratelimit import RateLimiter
from marketplace.exhibitions.router import router as exhibitions_router
from marketplace.insights.router import router as insights_router
from marketplace.minting.router import router as minting_router
from marketplace.moderation.router import router as moderation_router
from marketplace.network.router import router as network_router
from marketplace.operations import RequestContext, ScrapeCollector, SignerBalance, readiness
from marketplace.organisations.router import router as organisations_router
from marketplace.payments.router import router as payments_router
from marketplace.payouts.router import router as payouts_router
from marketplace.privacy.router import router as privacy_router
from marketplace.provenance.router import router as provenance_router
from marketplace.resale.router import router as resale_router
from marketplace.services import Services, build_services, start_workers, stop_workers
from marketplace.web import api_docs
from marketplace.web import errors as web_errors
from marketplace.web.router import router as web_router
from marketplace.web.security import SecurityHeaders

log = logging.getLogger(__name__)

# py_ecc (imported by web3) raises the interpreter's recursion limit to 100,000. At that depth a JSON body of a
# few hundred kB of nested brackets overflows the C stack inside json.loads and kills the whole server (SIGSEGV)
# instead of raising. With a sane limit the parser raises RecursionError, which FastAPI answers as a 400. Nothing
# the service runs recurses deeper (signing is coincurve; BLS pairings, py_ecc's reason, are never used here).
SAFE_RECURSION_LIMIT = 4000
sys.setrecursionlimit(min(sys.getrecursionlimit(), SAFE_RECURSION_LIMIT))
FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"


class UploadSizeLimit:
    """Refuses request bodies larger than the upload limit (plus form overhead) while they stream in, so an
    oversized upload is never spooled to disk whole. Pure ASGI: it only counts bytes."""

    def __init__(self, app, *, limit_bytes: int, form_overhead: int = 1024 * 1024) -> None:
        self.app = app
        self.limit_bytes = limit_bytes
        self.max_body = limit_bytes + form_overhead

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                return await _too_large(self.limit_bytes, send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _BodyTooLarge(self.limit_bytes)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(self.limit_bytes, send)


class _BodyTooLarge(StarletteHTTPException):
    """Raised from receive(); FastAPI re-raises HTTPExceptions from body parsing untouched."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(413, _too_large_message(limit_bytes))


def _too_large_message(limit_bytes: int) -> str:
    return f"The upload is larger than the {limit_bytes / (1024 * 1024):g} MB limit"


def error_response(exc: MarketplaceError, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one JSON shape of an error, `{detail, code}` (a 422's detail a list of field errors), with the error's
    own headers (Retry-After ...): the exception handler and the pure-ASGI guards below all answer with it."""
    headers = {**(exc.headers or {}), **(headers or {})}
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    detail = ([{"loc": list(exc.loc), "msg": exc.message, "type": "value_error"}] if isinstance(exc, InvalidInput)
              else exc.message)
    return JSONResponse({"detail": detail, "code": exc.code}, status_code=exc.status_code, headers=headers or None)


async def _send_error(send, exc: MarketplaceError, **kwargs) -> None:
    """Answer from an ASGI layer (outside the app's handlers)."""
    response = error_response(exc, **kwargs)
    await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


async def _too_large(limit_bytes: int, send) -> None:
    await _send_error(send, PayloadTooLarge(_too_large_message(limit_bytes)))


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 408: "request_timeout", 409: "conflict",
               413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limited"}


class MarketplaceApp(FastAPI):
    """FastAPI with the security headers outside every other layer, so even the last-resort 500 from Starlette's
    ServerErrorMiddleware, and errors raised before routing, carry them."""

    def __init__(self, *, settings: Settings, **kwargs) -> None:
        self._security_settings = settings
        super().__init__(**kwargs)

    def build_middleware_stack(self):
        return RequestContext(SecurityHeaders(super().build_middleware_stack(), settings=self._security_settings))


class BodyReadTimeout:
    """Bounds the wait for each piece of a request body (BODY_READ_TIMEOUT_S): a client that announces more than it
    sends (a short body under a long Content-Length, a stalled upload) gets 408 and the connection closed, instead
    of holding a connection and a task forever. Pure ASGI: it only times `receive` until the body is complete."""

    def __init__(self, app, *, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body_done = timed_out = started = False

        async def timed_receive():
            nonlocal body_done, timed_out
            if body_done:  # after the body, receive() waits for a disconnect: no deadline on that
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except TimeoutError:
                timed_out = True
                raise _BodyReadTimedOut() from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def guarded_send(message):
            nonlocal started
            if timed_out and not started:  # whatever the app answers to the timeout, the 408 below replaces it
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except Exception:
            if not timed_out or started:
                raise
        if timed_out and not started:
            await _send_error(send, RequestTimeout(f"The request body did not arrive within {self.timeout_s:g} s"),
                              headers={"Connection": "close"})


class _BodyReadTimedOut(StarletteHTTPException):
    """Raised from receive(); FastAPI re-raises HTTPExceptions from body parsing untouched (and BodyReadTimeout
    answers in place of whatever the app makes of it)."""

    def __init__(self) -> None:
        super().__init__(408, RequestTimeout.__doc__)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The app. `services`: adapters built beforehand (`marketplace dev` seeds the demo with them, so one chain
    client, and one nonce counter per key, serves the whole process); by default built at start-up."""
    settings = settings or get_settings()
    prebuilt = services
    observability.configure_logging(level=settings.log_level, fmt=settings.log_format)
    for secret in settings.secret_values():
        observability.register_secret(secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if db._engine is None:
            db.init_engine(settings.effective_database_url)
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        services = prebuilt or build_services(settings)
        app.state.services = services
        app.state.scrape_registry = CollectorRegistry(auto_describe=False)
        app.state.scrape_registry.register(ScrapeCollector(
            services, SignerBalance(services, low_wei=settings.signer_low_balance_wei)))
        await run_in_threadpool(licences.pin_documents, services.ipfs)  # the terms every token names, on the node
        app.state.password_hashing.warm_up()
        start_workers(services, mint=settings.run_mint_worker, delivery=settings.run_delivery_worker,
                      indexer=settings.run_indexer, payouts=settings.run_payout_worker, mail=settings.run_mail_worker)
        try:
            yield
        finally:
            stop_workers(services)
            app.state.password_hashing.shutdown()
            await app.state.rate_limiter.aclose()

    app = MarketplaceApp(
        settings=settings,
        title="Luxembourg Creative Marketplace",
        version="0.1.0",
        description="Creators mint their works as NFTs (IPFS + Ethereum) and sell them in euros.",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: our own pages (web/api_docs.py), on vendored files, under our CSP
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter.from_settings(settings)
    app.state.password_hashing = PasswordHashing(workers=settings.password_hash_workers,
                                                 queue=settings.password_hash_queue, nice=settings.password_hash_nice)

    @app.exception_handler(MarketplaceError)
    async def _marketplace_error(request: Request, exc: MarketplaceError):
        if web_errors.wants_page(request):
            page = await run_in_threadpool(web_errors.error_page, request, exc.status_code, exc.message, exc.code)
            page.headers.update(exc.headers or {})
            return page
        return error_response(exc)

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError):
        """A connection lost mid-request (its transaction rolled back) is a 503 to try again, not a 500."""
        if not db.is_unavailable(exc):
            raise exc
        log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc.orig)
        return await _marketplace_error(request, DatabaseUnavailable())

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code >= 400 and web_errors.wants_page(request):
            return await run_in_threadpool(web_errors.error_page, request, exc.status_code, str(exc.detail))
        if exc.status_code < 400:
            return await http_exception_handler(request, exc)
        return JSONResponse({"detail": str(exc.detail), "code": _HTTP_CODES.get(exc.status_code, "http_error")},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(ValidationError)
    async def _validation_error(request: Request, exc: ValidationError):
        if web_errors.wants_page(request):
            return await run_in_threadpool(web_errors.error_page, request, 400)
        return JSONResponse({"detail": field_errors(exc.errors(include_url=False)), "code": "invalid_input"},
                            status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _request_validation_error(request: Request, exc: RequestValidationError):
        if web_errors.wants_page(request):  # e.g. /works/abc: for a page, that is a page that does not exist
            in_path = any((e.get("loc") or ("",))[0] == "path" for e in exc.errors())
            return await run_in_threadpool(web_errors.error_page, request, 404 if in_path else 400)
        return JSONResponse({"detail": field_errors(exc.errors()), "code": "invalid_input"}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        """The last resort (Starlette's ServerErrorMiddleware calls it, then re-raises for the logs): the same
        `{detail, code}` or error page as every other error, and no traceback to the client."""
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        if web_errors.wants_page(request):
            return await run_in_threadpool(web_errors.error_page, request, 500)
        return JSONResponse({"detail": "Internal error", "code": "internal_error"}, status_code=500)

    @app.get("/api/health", tags=["health"])
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict:
        """Alive: the process answers (nothing else is checked; /readyz checks the dependencies)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "A dependency is down"}})
    async def readyz(request: Request) -> JSONResponse:
        """`database`, `ipfs`, `chain`, `stripe`: each `ok` or its error; 503 when one is not ok."""
        parts = await readiness(request.app.state.services, timeout_s=settings.readyz_timeout_s)
        ready = all(value == "ok" for value in parts.values())
        return JSONResponse(parts, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})

    @app.get("/metrics", tags=["health"], response_class=Response,
             responses={200: {"content": {"text/plain": {}}}, 401: {"description": "METRICS_TOKEN is set"}})
    async def metrics(request: Request) -> Response:
        """Prometheus text format. Public unless METRICS_TOKEN is set: then `Authorization: Bearer <token>`."""
        if settings.metrics_token is not None:
            expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return JSONResponse({"detail": "A metrics token is required", "code": "unauthorized"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
        # the scrape-time reads first: the alarm counter they may raise is in this answer
        body = await run_in_threadpool(
            lambda: generate_latest(request.app.state.scrape_registry) + generate_latest(observability.REGISTRY))
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    app.include_router(accounts_router)
    app.include_router(privacy_router)
    app.include_router(avatars_router)
    app.include_router(account_care_router)
    app.include_router(catalog_router)
    app.include_router(collaborators_router)
    app.include_router(licences_router)
    app.include_router(minting_router)
    app.include_router(chain_router)
    app.include_router(payments_router)
    app.include_router(payouts_router)
    app.include_router(provenance_router)
    app.include_router(resale_router)
    app.include_router(calls_router)
    app.include_router(organisations_router)
    app.include_router(network_router)
    app.include_router(insights_router)
    app.include_router(moderation_router)
    app.include_router(exhibitions_router)
    app.include_router(ipfs_router)
    app.include_router(web_router)
    app.include_router(api_docs.router)
    app.mount("/static", StaticFiles(directory=FRONTEND_DIR / "static"), name="static")
    # the media and an audio or video work's cover image in one body (each is checked against its own limit)
    app.add_middleware(UploadSizeLimit, limit_bytes=settings.max_upload_bytes,
                       form_overhead=settings.max_cover_bytes + 1024 * 1024)
    app.add_middleware(BodyReadTimeout, timeout_s=settings.body_read_timeout_s)
    return app
