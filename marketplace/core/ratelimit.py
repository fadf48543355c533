"""Rate limits for the actions an attacker repeats (sign-in, sign-up, checkout), per account and per client address.

Counted with the `limits` library in a moving window: in this process's memory by default, in Redis
(RATE_LIMIT_STORAGE_URL=redis://...) when several processes serve the app, so they share one count. Everything here is
async and awaited on the event loop (the Redis client is redis-py's asyncio one): nothing blocks a thread.

Keys never hold an e-mail or an address in clear: they are hashed (a shared Redis should not become a list of users).
A store that cannot be reached refuses the action (503) rather than letting it through unlimited.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from marketplace.core.config import Settings
from marketplace.core.exceptions import ServiceUnavailable, TooManyRequests

ACTIONS = ("signin", "register", "checkout", "mail", "report")
_REFUSALS = {
    "signin": "Too many sign-in attempts",
    "register": "Too many sign-ups",
    "checkout": "Too many checkouts",
    "mail": "Too many e-mails asked for",
    "report": "Too many reports",
}
_REDIS_OPTIONS = {"implementation": "redispy", "socket_timeout": 2.0, "socket_connect_timeout": 2.0}


def _storage(url: str, key_prefix: str):
    """An async `limits` storage for a plain URL (memory://, redis://...): the async variant of the same scheme."""
    async_url = url if url.startswith("async+") else f"async+{url}"
    options: dict = {"wrap_exceptions": True}
    if "redis" in async_url.split("://", 1)[0]:
        options.update(_REDIS_OPTIONS, key_prefix=key_prefix)
    return storage_from_string(async_url, **options)


def _opaque(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class RateLimiter:
    """`hit(action, account=..., address=...)` counts one attempt and raises TooManyRequests (with Retry-After) when
    either key is over its limit; `failed_signin` / `signed_in` keep the failed sign-in count that slows guessing."""

    def __init__(self, *, storage_url: str, key_prefix: str, rules: dict[str, tuple[str, str]],
                 failure_delay_s: float, failure_delay_max_s: float, failure_window_s: int) -> None:
        self._storage = _storage(storage_url, key_prefix)
        self._window = MovingWindowRateLimiter(self._storage)
        self._rules: dict[str, tuple[list[RateLimitItem], list[RateLimitItem]]] = {
            action: (parse_many(per_account), parse_many(per_address)) for action, (per_account, per_address)
            in rules.items()}
        self.failure_delay_s = failure_delay_s
        self.failure_delay_max_s = failure_delay_max_s
        self.failure_window_s = failure_window_s
        self.storage_url = storage_url

    @classmethod
    def from_settings(cls, settings: Settings) -> "RateLimiter":
        return cls(
            storage_url=settings.rate_limit_storage_url, key_prefix=settings.rate_limit_key_prefix,
            rules={
                "signin": (settings.rate_limit_signin, settings.rate_limit_signin_address),
                "register": (settings.rate_limit_register, settings.rate_limit_register_address),
                "checkout": (settings.rate_limit_checkout, settings.rate_limit_checkout_address),
                "mail": (settings.rate_limit_mail, settings.rate_limit_mail_address),
                "report": (settings.rate_limit_report, settings.rate_limit_report_address),
            },
            failure_delay_s=settings.signin_failure_delay_s, failure_delay_max_s=settings.signin_failure_delay_max_s,
            failure_window_s=settings.signin_failure_window_s,
        )

    async def hit(self, action: str, *, account: str | None, address: str | None) -> None:
        """Count one `action` by this account (an e-mail, an account id) from this address; refuse it with
        TooManyRequests when one of the limits of either is used up (a refused attempt is not counted)."""
        per_account, per_address = self._rules[action]
        checks = [(item, (action, scope, _opaque(key)))
                  for scope, key, items in (("address", address, per_address), ("account", account, per_account))
                  if key is not None for item in items]
        for item, ident in checks:  # first see that every limit has room: a refused attempt counts for none
            if not await self._guard(self._window.test(item, *ident)):
                await self._refuse(action, item, ident)
        for item, ident in checks:
            if not await self._guard(self._window.hit(item, *ident)):  # filled up meanwhile by a concurrent one
                await self._refuse(action, item, ident)

    async def _refuse(self, action: str, item: RateLimitItem, ident: tuple[str, ...]) -> None:
        stats = await self._guard(self._window.get_window_stats(item, *ident))
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(f"{_REFUSALS[action]}; try again in {retry_after} s", retry_after=retry_after)

    async def failed_signin(self, *, email: str, address: str | None) -> float:
        """Record a failed sign-in for the e-mail and the address; returns how long to wait before answering:
        base * 2^(n-1) seconds, capped, n = the larger of their recent failure counts. The same for an e-mail that
        has an account and one that has none."""
        counts = [await self._guard(self._storage.incr(self._failure_key("account", email), self.failure_window_s))]
        if address is not None:
            counts.append(await self._guard(self._storage.incr(self._failure_key("address", address),
                                                               self.failure_window_s)))
        return self.failure_delay(max(counts))

    async def signed_in(self, *, email: str) -> None:
        """A correct password: the e-mail's failed attempts are forgiven (the address's are not)."""
        await self._guard(self._storage.clear(self._failure_key("account", email)))

    def failure_delay(self, failures: int) -> float:
        if failures <= 0 or self.failure_delay_s <= 0:
            return 0.0
        return min(self.failure_delay_max_s, self.failure_delay_s * 2 ** min(failures - 1, 30))

    @staticmethod
    def _failure_key(scope: str, key: str) -> str:
        return f"signin-failures/{scope}/{_opaque(key)}"

    @staticmethod
    async def _guard(awaitable):
        try:
            return await awaitable
        except StorageError as exc:
            raise ServiceUnavailable("The rate limit store is unreachable; nothing was changed") from exc

    async def aclose(self) -> None:
        """Close the Redis connections, if any (best effort, at shutdown)."""
        bridge = getattr(self._storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        if client is not None and hasattr(client, "aclose"):
            try:
                await client.aclose()
            except Exception:  # noqa: BLE001, S110 - shutting down: nothing left to tell
                pass
