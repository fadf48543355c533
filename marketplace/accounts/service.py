"""Account logic: registration, sign-in, lookups. Keyword-only functions, no FastAPI."""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from marketplace.accounts import security, wallets
from marketplace.accounts.models import Account, AccountCreate, RevokedToken, Role
from marketplace.db import utcnow
from marketplace.exceptions import Conflict, Forbidden, NotFound, Unauthorized


def get_account(*, session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def account_for_token(*, session: Session, token: str | None, secret: str) -> Account | None:
    """The account an access token signs in (bearer or session cookie), or None: bad signature, expired, signed
    out, or the account is gone."""
    claims = security.read_access_token(token, secret=secret) if token else None
    if claims is None:
        return None
    if session.exec(select(RevokedToken.token_id).where(RevokedToken.token_id == claims.token_id)).first():
        return None
    return get_account(session=session, account_id=claims.account_id)


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


def get_account_or_raise(*, session: Session, account_id: int) -> Account:
    account = get_account(session=session, account_id=account_id)
    if account is None:
        raise NotFound(f"Account {account_id} not found")
    return account


def get_account_by_email(*, session: Session, email: str) -> Account | None:
    return session.exec(select(Account).where(Account.email == email.strip().lower())).first()


def register(
    *, session: Session, account_in: AccountCreate, wallet_secret: str, allow_admin: bool = False
) -> Account:
    if account_in.role == Role.admin and not allow_admin:
        raise Forbidden("Admin accounts are created by an operator (`marketplace create-admin`), not by sign-up")
    email = str(account_in.email).strip().lower()
    if get_account_by_email(session=session, email=email) is not None:
        raise Conflict("An account with this e-mail already exists")
    account = Account(
        email=email,
        display_name=account_in.display_name,
        role=account_in.role,
        password_hash=security.hash_password(account_in.password),
    )
    session.add(account)
    try:
        session.flush()  # assigns the id, from which the custodial wallet is derived
        account.custodial_address = wallets.custodial_address(wallet_secret, account.id)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("An account with this e-mail already exists") from None
    session.refresh(account)
    return account


def authenticate(*, session: Session, email: str, password: str) -> Account:
    account = get_account_by_email(session=session, email=email)
    if not security.verify_password(password, account.password_hash if account else None) or account is None:
        raise Unauthorized("Incorrect e-mail or password")
    return account
