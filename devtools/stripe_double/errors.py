"""Stripe's error object: `{"error": {"type", "code", "message", "param", "doc_url"}}` with the HTTP status."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An API error rendered exactly like api.stripe.com renders it."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def missing_param(param: str) -> StripeError:
    return StripeError(f"Missing required param: {param}.", code="parameter_missing", param=param)


def unknown_param(param: str) -> StripeError:
    return StripeError(f"Received unknown parameter: {param}", code="parameter_unknown", param=param)


def unsupported_param(param: str) -> StripeError:
    """A real Stripe parameter that this double does not implement (so it refuses rather than ignores it)."""
    return StripeError(
        f"The Stripe double does not implement the parameter: {param} (api.stripe.com accepts it). "
        "See devtools/stripe_double/README.md.",
        code="parameter_unknown",
        param=param,
    )


def invalid_integer(param: str, value: Any) -> StripeError:
    return StripeError(f"Invalid integer: {value}", code="parameter_invalid_integer", param=param)


def invalid_value(param: str, message: str, code: str | None = None) -> StripeError:
    return StripeError(message, code=code, param=param)


def resource_missing(kind: str, object_id: str, param: str = "id", *, status: int = 404) -> StripeError:
    """404 for an id in the URL; Stripe answers 400 when the unknown id came in a body parameter."""
    return StripeError(f"No such {kind}: '{object_id}'", status=status, code="resource_missing", param=param)
