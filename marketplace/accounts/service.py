"""Account logic: registration, sign-in, lookups. Keyword-only functions, no FastAPI."""

from __future__ import annotations

import uuid
from asyncio import sleep
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import anyio
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts import security, wallets
from marketplace.accounts.models import Account, AccountCreate, LinkedWallet, RevokedToken, Role
from marketplace.core import db
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Conflict, Forbidden, NotFound, Unauthorized
from marketplace.core.text import refused_character

if TYPE_CHECKING:
    from marketplace.core.ratelimit import RateLimiter


def get_account(*, session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def get_account_by_address(*, session: Session, address: str | None) -> Account | None:
    """The account whose wallet (custodial or linked) is this address, if any."""
    if not address:
        return None
    account = session.exec(select(Account).where(
        (col(Account.custodial_address) == address) | (col(Account.linked_address) == address))).first()
    if account is None:
        account = session.exec(select(Account).join(LinkedWallet, col(LinkedWallet.account_id) == col(Account.id))
                               .where(LinkedWallet.address == address)).first()
    return account


def account_for_token(*, session: Session, token: str | None, secret: str) -> Account | None:
    """The account an access token signs in (bearer or session cookie), or None: bad signature, expired, signed
    out, or the account is gone."""
    claims = security.read_access_token(token, secret=secret) if token else None
    if claims is None:
        return None
    if session.exec(select(RevokedToken.token_id).where(RevokedToken.token_id == claims.token_id)).first():
        return None
    account = get_account(session=session, account_id=claims.account_id)
    if account is None or account.deleted_at is not None or claims.epoch != (account.token_epoch or 0):
        # a deleted account's every token is void; so are those made before a sign-out everywhere
        return None
    return account


def sign_out(*, session: Session, token: str | None, secret: str) -> bool:
    """Revoke this access token until it expires (other sessions of the account stay signed in). True when a valid
    token was revoked now; signing out twice, or with a bad token, changes nothing."""
    claims = security.read_access_token(token, secret=secret) if token else None
    if claims is None:
        return False
    revoked = RevokedToken.__table__
    session.execute(delete(revoked).where(revoked.c.expires_at < utcnow()))  # the list only holds live tokens
    try:
        with session.begin_nested():
            session.execute(insert(revoked).values(token_id=claims.token_id, expires_at=claims.expires_at,
                                                   revoked_at=utcnow()))
    except IntegrityError:  # already signed out
        session.commit()
        return False
    session.commit()
    return True


def set_display_name(*, session: Session, account_id: int, name: str) -> None:
    """The account's display name (from the profile form). Not committed: the caller's transaction."""
    session.execute(update(Account).where(col(Account.id) == account_id).values(display_name=name))


DELETED_NAME = "Deleted account"
DELETED_EMAIL_DOMAIN = "deleted.invalid"  # RFC 2606: .invalid never resolves, no mail can reach it
UNUSABLE_PASSWORD = "!deleted"  # not an Argon2 hash: no password verifies against it


def anonymise(*, session: Session, account: Account) -> None:
    """Account deletion, the account's own row: the e-mail becomes a unique placeholder no mail reaches (so the
    real address may register again), the name "Deleted account", the password unusable, the linked address
    forgotten, `deleted_at` set (every token of the account is void from now on). The row itself stays: purchases,
    ledger entries and published works refer to it. The custodial address stays: it is where the account's tokens
    are on chain. Not committed: the caller's transaction (marketplace/privacy)."""
    session.execute(update(Account).where(col(Account.id) == account.id).values(
        email=f"deleted-{account.id}-{uuid.uuid4().hex[:12]}@{DELETED_EMAIL_DOMAIN}", display_name=DELETED_NAME,
        password_hash=UNUSABLE_PASSWORD, linked_address=None, deleted_at=utcnow()))
    session.execute(delete(LinkedWallet).where(col(LinkedWallet.account_id) == account.id))


def get_account_or_raise(*, session: Session, account_id: int) -> Account:
    account = get_account(session=session, account_id=account_id)
    if account is None:
        raise NotFound(f"Account {account_id} not found")
    return account


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_account_by_email(*, session: Session, email: str) -> Account | None:
    """The account of an e-mail, or None. An "e-mail" with control characters is no account's (and PostgreSQL
    refuses NUL in text outright: asking would be a 500)."""
    if refused_character(email) is not None:
        return None
    return session.exec(select(Account).where(Account.email == normalise_email(email))).first()


def register(
    *, session: Session, account_in: AccountCreate, wallet_secret: str, allow_admin: bool = False,
    password_hash: str | None = None, on_created: Callable[[Session, Account], None] | None = None,
) -> Account:
    """`password_hash`: the password already hashed (by `sign_up`, in the hashing pool); hashed here otherwise.
    `on_created(session, account)`: runs in the same transaction, before the commit (sign-up queues the verification
    mail there: no account without its mail, no mail without its account)."""
    if account_in.role == Role.admin and not allow_admin:
        raise Forbidden("Admin accounts are created by an operator (`marketplace create-admin`), not by sign-up")
    email = normalise_email(str(account_in.email))
    if get_account_by_email(session=session, email=email) is not None:
        raise Conflict("An account with this e-mail already exists")
    account = Account(
        email=email,
        display_name=account_in.display_name,
        role=account_in.role,
        password_hash=password_hash or security.hash_password(account_in.password),
        language=account_in.language,
    )
    session.add(account)
    try:
        session.flush()  # assigns the id, from which the custodial wallet is derived
        account.custodial_address = wallets.custodial_address(wallet_secret, account.id)
        if on_created is not None:
            on_created(session, account)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("An account with this e-mail already exists") from None
    session.refresh(account)
    return account


# ------------------------------------------------------------------ sign-in and sign-up as the API and pages run them
# Async, awaited on the event loop: the limits are counted there, Argon2 runs in the hashing pool and the database in a
# worker thread, so neither the loop nor the server's shared thread pool waits on a password hash.

def _find_by_email(email: str) -> Account | None:
    with Session(db.get_engine(), expire_on_commit=False) as session:
        return get_account_by_email(session=session, email=email)


async def sign_in(*, email: str, password: str, address: str | None, limiter: RateLimiter,
                  hashing: security.PasswordHashing) -> Account:
    """The account for this e-mail and password, else Unauthorized -- after a delay that grows with the recent
    failures of the e-mail and of the address. A known and an unknown e-mail get the same answer after the same
    work: the same limits (keyed by the e-mail as typed, not by an account), one Argon2 verification (against a
    dummy hash when there is no account) and the same delay. Over a limit: TooManyRequests, before any hashing."""
    email = normalise_email(email)
    await limiter.hit("signin", account=email, address=address)
    account = await anyio.to_thread.run_sync(_find_by_email, email)
    if account is not None and account.deleted_at is not None:
        account = None
    verified = await hashing.verify(password, account.password_hash if account else None)
    if not verified or account is None:
        delay = await limiter.failed_signin(email=email, address=address)
        if delay:
            await sleep(delay)  # the event loop goes on meanwhile; no thread waits
        raise Unauthorized("Incorrect e-mail or password")
    await limiter.signed_in(email=email)
    return account


def _register_now(account_in: AccountCreate, wallet_secret: str, password_hash: str, on_created=None) -> Account:
    with Session(db.get_engine(), expire_on_commit=False) as session:
        return register(session=session, account_in=account_in, wallet_secret=wallet_secret,
                        password_hash=password_hash, on_created=on_created)


async def sign_up(*, account_in: AccountCreate, wallet_secret: str, address: str | None, limiter: RateLimiter,
                  hashing: security.PasswordHashing,
                  on_created: Callable[[Session, Account], None] | None = None) -> Account:
    """`register`, rate limited per e-mail and per address, the password hashed in the hashing pool (before the
    e-mail is looked up: a taken e-mail costs the same time as a free one)."""
    await limiter.hit("register", account=normalise_email(str(account_in.email)), address=address)
    password_hash = await hashing.hash(account_in.password)
    return await anyio.to_thread.run_sync(partial(_register_now, account_in, wallet_secret, password_hash, on_created))
