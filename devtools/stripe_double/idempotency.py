"""Stripe's idempotency layer for POST requests (`Idempotency-Key` header), per API key.

Same key + same endpoint + same parameters: the stored response is replayed (same status and body, headers
`Idempotent-Replayed: true` and `Original-Request`). Same key with other parameters or another endpoint: 400
`idempotency_error`. Same key while the first request still runs: 409 `idempotency_error` (the SDK retries 409).
Like Stripe, only requests that executed are saved: validation errors (4xx) are not, so a corrected retry with the
same key works. Keys are forgotten after 24 hours.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from devtools.stripe_double.errors import StripeError

TTL_S = 24 * 60 * 60
MAX_KEY_LENGTH = 255


@dataclass
class Saved:
    endpoint: str
    fingerprint: str
    created: float
    request_id: str
    status: int | None = None  # None while the first request is still running
    body: bytes = b""


class IdempotencyLayer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._saved: dict[tuple[str, str], Saved] = {}

    def reset(self) -> None:
        with self._lock:
            self._saved.clear()

    def begin(self, *, api_key: str, key: str, endpoint: str, params: dict[str, Any],
              request_id: str) -> Saved | None:
        """A saved response to replay, or None after reserving the key for this request."""
        if len(key) > MAX_KEY_LENGTH:
            raise StripeError(f"Idempotency-Key must be {MAX_KEY_LENGTH} characters or less.",
                              type="idempotency_error")
        fingerprint = json.dumps(params, sort_keys=True)
        now = time.time()
        with self._lock:
            for k in [k for k, s in self._saved.items() if now - s.created > TTL_S]:
                del self._saved[k]
            saved = self._saved.get((api_key, key))
            if saved is None:
                self._saved[(api_key, key)] = Saved(endpoint, fingerprint, now, request_id)
                return None
            if saved.endpoint != endpoint:
                raise StripeError(
                    f"Keys for idempotent requests can only be used for the same endpoint they were first used for "
                    f"('{endpoint}' vs '{saved.endpoint}'). Try using a key other than '{key}' if you meant to "
                    f"execute a different request.", type="idempotency_error")
            if saved.fingerprint != fingerprint:
                raise StripeError(
                    f"Keys for idempotent requests can only be used with the same parameters they were first used "
                    f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                    type="idempotency_error")
            if saved.status is None:
                raise StripeError(
                    f"There is currently another in-progress request using this Idempotent Key (that probably means "
                    f"you submitted twice, and the other request is still going through): '{key}'. Please try "
                    f"again later.", status=409, type="idempotency_error")
            return saved

    def finish(self, *, api_key: str, key: str, status: int, body: bytes) -> None:
        with self._lock:
            saved = self._saved.get((api_key, key))
            if saved is None:
                return
            if status >= 400:
                del self._saved[(api_key, key)]
            else:
                saved.status, saved.body = status, body
