"""The error bodies the API answers with, for the OpenAPI schema: `{detail, code}` everywhere, and for 422 a
`detail` that is always a list of field errors (FastAPI's own and the services' InvalidInput alike)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ErrorBody(BaseModel):
    detail: str
    code: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    detail: list[FieldError]
    code: Literal["invalid_input"]


_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Sign-in required, or the access token is invalid, expired or signed out",
    403: "Not allowed for this account",
    404: "Not found (or not visible to this account)",
    408: "The request body did not arrive in time",
    409: "The resource is not in a state that allows this",
    413: "The upload is larger than allowed",
    415: "This kind of file is not accepted",
    422: "Invalid fields",
    429: "Too many requests: wait for Retry-After seconds",
    502: "The payment provider or the chain refused the request",
    503: "A backing service (database, IPFS, chain, payment provider) is unavailable, or the server is busy; "
         "nothing was changed",
    507: "The server's upload storage is full; nothing was stored",
}


def errors(*codes: int) -> dict[int | str, dict]:
    """`responses=` for a route: each status code with its documented body."""
    return {code: {"model": ValidationErrorBody if code == 422 else ErrorBody, "description": _DESCRIPTIONS[code]}
            for code in codes}


def field_errors(errors_: list[dict]) -> list[dict]:
    """FastAPI's / pydantic's error list, reduced to the documented FieldError shape."""
    return [{"loc": [part if isinstance(part, (int, str)) else str(part) for part in e.get("loc", ())],
             "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))} for e in errors_]
