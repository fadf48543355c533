"""Password hashing (Argon2id) and access tokens (signed JWT)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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


@dataclass(frozen=True)
class AccessToken:
    account_id: int
    token_id: str  # the JWT's jti: what signing out revokes
    expires_at: datetime


def create_access_token(*, account_id: int, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    payload = {"sub": str(account_id), "jti": uuid.uuid4().hex, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(payload, secret, algorithm=_ALGORITHM)


def read_access_token(token: str, *, secret: str) -> AccessToken | None:
    """The token's claims when its signature and expiry hold (revocation is the service's business), else None."""
    try:
        payload = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["sub", "exp", "jti"]})
        return AccessToken(account_id=int(payload["sub"]), token_id=str(payload["jti"])[:64],
                           expires_at=datetime.fromtimestamp(payload["exp"], UTC))
    except (jwt.PyJWTError, ValueError, KeyError, TypeError):
        return None
