"""Stripe-style object ids and the request context events record (shared by the store and its Connect part)."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class RequestContext:
    """What Stripe puts in `event.request`: the API request (and its idempotency key) that caused the event.
    Both are None for events caused by the customer on the hosted page or by Stripe itself (expiry).
    `account` is the `Stripe-Account` header of the request (a connected account the platform acts for)."""

    request_id: str | None = None
    idempotency_key: str | None = None
    account: str | None = None


NO_REQUEST = RequestContext()
