"""Password hashing (Argon2id) and access tokens (signed JWT)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from marketplace.core.exceptions import ServerBusy

log = logging.getLogger(__name__)
_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
_ALGORITHM = "HS256"


@cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown e-mails, so they cost as much time as known ones (made on first use,
    not at import: every process and CLI command imports this module)."""
    return _hasher.hash("not-a-real-password-used-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class PasswordHashing:
    """Argon2 off the event loop in its own small pool, so a flood of sign-ins never takes the threads (and CPU) that
    every other sync endpoint and page runs on. At most `workers` hashes run at once and `queue` more wait; a caller
    beyond that is refused at once (ServerBusy, 503 with Retry-After) instead of waiting behind the flood.

    A slot is held until the hash is done, not until its caller gives up, so abandoned requests cannot let more
    hashes run than the pool allows. The pool's threads run at a lower CPU priority (`nice`, Linux niceness is per
    thread and inherited by the threads Argon2 starts for its lanes): when the CPU is short, the event loop and the
    other endpoints get it first and sign-ins wait, not the other way round."""

    def __init__(self, *, workers: int, queue: int, nice: int = 0) -> None:
        self.workers = workers
        self.queue = queue
        self.nice = nice
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password-hash",
                                            initializer=self._lower_priority)
        self._slots = threading.BoundedSemaphore(workers + queue)

    def _lower_priority(self) -> None:
        if self.nice <= 0 or not hasattr(os, "setpriority"):
            return
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + self.nice))
        except OSError as exc:  # not allowed here: hashing still works, only without the lower priority
            log.warning("could not lower the password hashing threads' priority: %s", exc)

    async def _run(self, fn, *args):
        if not self._slots.acquire(blocking=False):
            raise ServerBusy("Too many sign-ins are being checked right now; try again in a moment")
        try:
            future = self._executor.submit(fn, *args)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _f: self._slots.release())
        return await asyncio.wrap_future(future)

    @property
    def free_slots(self) -> int:
        """How many more hashes would be accepted now (running or queued)."""
        return self._slots._value

    async def hash(self, password: str) -> str:
        return await self._run(hash_password, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """As `verify_password`: an unknown account (None) costs one verification against the dummy hash too."""
        return await self._run(verify_password, password, password_hash)

    def warm_up(self) -> None:
        """Make the dummy hash now, in the pool, so the first unknown e-mail costs no more than a known one."""
        self._executor.submit(_dummy_hash)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class AccessToken:
    account_id: int
    token_id: str  # the JWT's jti: what signing out revokes
    expires_at: datetime
    epoch: int = 0  # the account's token_epoch when it was made: signing out everywhere raises that


def new_link_secret() -> str:
    """The secret of a single-use link mailed to an account (only its hash is stored)."""
    return secrets.token_urlsafe(32)


def link_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_access_token(*, account_id: int, secret: str, minutes: int, epoch: int = 0) -> str:
    now = datetime.now(UTC)
    payload = {"sub": str(account_id), "jti": uuid.uuid4().hex, "iat": now, "exp": now + timedelta(minutes=minutes),
               "ep": int(epoch)}
    return jwt.encode(payload, secret, algorithm=_ALGORITHM)


def read_access_token(token: str, *, secret: str) -> AccessToken | None:
    """The token's claims when its signature and expiry hold (revocation is the service's business), else None."""
    try:
        payload = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["sub", "exp", "jti"]})
        return AccessToken(account_id=int(payload["sub"]), token_id=str(payload["jti"])[:64],
                           expires_at=datetime.fromtimestamp(payload["exp"], UTC),
                           epoch=int(payload.get("ep", 0)))
    except (jwt.PyJWTError, ValueError, KeyError, TypeError):
        return None
