"""The FastAPI dependencies every router shares: the database session, settings, the rate limiter, bounded path ids.

The only module of core that knows FastAPI (services never import it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from marketplace.core.config import Settings
from marketplace.core.db import get_engine, is_unavailable
from marketplace.core.limits import MAX_DB_ID
from marketplace.core.ratelimit import RateLimiter


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def _db_id(description: str):
    return Path(ge=1, le=MAX_DB_ID, description=description)


# Path ids, bounded before they reach the database (a 2^63 id was a 500 from SQLite's integer overflow)
WorkId = Annotated[int, _db_id("a work's id")]
PurchaseId = Annotated[int, _db_id("a purchase's id")]
AccountId = Annotated[int, _db_id("an account's id")]
CallId = Annotated[int, _db_id("a call's id")]
ProposalId = Annotated[int, _db_id("a proposal's id")]
ListingId = Annotated[int, _db_id("a listing's id")]
ReportId = Annotated[int, _db_id("a report's id")]


def get_session() -> Iterator[Session]:
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
    finally:
        try:
            session.close()  # rolls back what is left open
        except DBAPIError as exc:
            # the connection died after the request was answered (its transaction died with it; the pool drops
            # it): nothing to undo, and the answer must still go out
            if not is_unavailable(exc):
                raise


SessionDep = Annotated[Session, Depends(get_session)]


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy, run uvicorn with --proxy-headers and
    --forwarded-allow-ips so this is the client's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


def get_rate_limiter(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
