"""One exception hierarchy for the whole service.

Services raise these; `marketplace.main` maps them to JSON responses in one handler.
Nothing here imports FastAPI.
"""

from __future__ import annotations


class MarketplaceError(Exception):
    """Base error: carries an HTTP status code and a message a user can read."""

    status_code: int = 500
    code: str = "internal_error"
    headers: dict[str, str] | None = None  # extra response headers (e.g. Retry-After), sent by the one handler

    def __init__(self, message: str | None = None, *, status_code: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.message = message or self.__class__.__doc__ or "Error"
        if status_code is not None:
            self.status_code = status_code
        if headers:
            self.headers = {**(self.headers or {}), **headers}
        super().__init__(self.message)


class BadRequest(MarketplaceError):
    """The request is malformed."""

    status_code = 400
    code = "bad_request"


class Unauthorized(MarketplaceError):
    """Sign-in required or credentials invalid."""

    status_code = 401
    code = "unauthorized"


class Forbidden(MarketplaceError):
    """You are not allowed to do this."""

    status_code = 403
    code = "forbidden"


class NotFound(MarketplaceError):
    """Not found."""

    status_code = 404
    code = "not_found"


class Conflict(MarketplaceError):
    """The resource is not in a state that allows this."""

    status_code = 409
    code = "conflict"


class PriceFixed(Conflict):
    """The price of this work cannot change now."""

    code = "price_fixed"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # "sold" or "checkout": pages say it in the reader's language


class RequestTimeout(MarketplaceError):
    """The request body did not arrive in time."""

    status_code = 408
    code = "request_timeout"


class PayloadTooLarge(MarketplaceError):
    """The upload is larger than allowed."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(MarketplaceError):
    """This kind of file is not accepted."""

    status_code = 415
    code = "unsupported_media_type"


class InvalidInput(MarketplaceError):
    """A field is invalid. `loc` names it as FastAPI does (("query", "min_price_cents")); the response's
    `detail` is a list of field errors like every other 422."""

    status_code = 422
    code = "invalid_input"

    def __init__(self, message: str | None = None, *, loc: tuple[str | int, ...] = ("body",)) -> None:
        super().__init__(message)
        self.loc = loc


class TooManyRequests(MarketplaceError):
    """Too many attempts; try again later."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, headers={"Retry-After": str(self.retry_after)})


class InsufficientStorage(MarketplaceError):
    """The server has no disk space left to receive this upload; nothing was stored. Try again later."""

    status_code = 507
    code = "insufficient_storage"


class ServiceUnavailable(MarketplaceError):
    """A backing service is unreachable; nothing was changed."""

    status_code = 503
    code = "service_unavailable"


class ServerBusy(ServiceUnavailable):
    """The server is busy; nothing was changed. Try again in a moment."""

    code = "server_busy"

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, headers={"Retry-After": str(self.retry_after)})


class StorageUnavailable(ServiceUnavailable):
    """The IPFS node is unreachable or timed out; nothing was changed."""

    code = "ipfs_unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The database connection was lost or the database is unreachable; try again."""

    code = "database_unavailable"


class ChainUnavailable(ServiceUnavailable):
    """The chain node is unreachable; nothing was changed."""

    code = "chain_unavailable"


class ChainTransactionFailed(MarketplaceError):
    """A transaction was mined but reverted."""

    status_code = 502
    code = "chain_transaction_failed"
