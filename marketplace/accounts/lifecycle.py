"""What people expect of an account beyond signing in: a verified e-mail, a forgotten password reset, a new e-mail
or password, signing out everywhere, and notices. Keyword-only functions, no FastAPI.

Every mail is queued in the outbox (marketplace.mail) in the transaction of the change that causes it, and sent
by the mail worker after the commit. Links are single use: only the hash of their secret is stored, taking one is
one guarded UPDATE (used, expired, replaced by a newer link: refused).

Unverified accounts: every core flow stays open (sign in, buy, publish, sell), and the studio says the address is
unverified with a button that mails a new link. What an unverified address does not get is notice mails (sales,
invitations, awards, receipts): until someone proved they read it, it is mailed nothing but its verification link
and password resets (anyone could sign up with another person's address). The notices are in the studio meanwhile.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

import anyio
from sqlalchemy import delete as sa_delete
from sqlalchemy import update
from sqlmodel import Session, col, select

from marketplace.accounts import security
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Account, AccountCreate, AccountLink, LinkPurpose
from marketplace.core import db
from marketplace.core.config import Settings
from marketplace.core.db import utcnow
from marketplace.core.exceptions import BadRequest, Conflict
from marketplace.mail import outbox
from marketplace.mail.outbox import Sender
from marketplace.mail.texts import _, translate, values_for

if TYPE_CHECKING:
    from marketplace.core.ratelimit import RateLimiter

_LINKS = AccountLink.__table__
INVALID_LINK = "This link is invalid, has expired or was already used"


def _url(settings: Settings, path: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}{path}"


def _new_link(session: Session, *, account: Account, purpose: LinkPurpose, lifetime: timedelta,
              new_email: str | None = None) -> str:
    """A new single-use link of `purpose` for the account; its earlier unused ones of that purpose stop working."""
    now = utcnow()
    session.execute(update(_LINKS).where(_LINKS.c.account_id == account.id, _LINKS.c.purpose == purpose.value,
                                         _LINKS.c.used_at.is_(None)).values(used_at=now))
    secret = security.new_link_secret()
    session.add(AccountLink(account_id=account.id, purpose=purpose.value, token_hash=security.link_hash(secret),
                            new_email=new_email, expires_at=now + lifetime))
    session.flush()
    return secret


def _take_link(session: Session, *, secret: str, purpose: LinkPurpose, now: datetime | None = None):
    """Use the link now: (account_id, new_email) once, None when it is unknown, used, expired or replaced."""
    if not secret or len(secret) > 200:
        return None
    now = now or utcnow()
    return session.execute(
        update(_LINKS).where(_LINKS.c.token_hash == security.link_hash(secret), _LINKS.c.purpose == purpose.value,
                             _LINKS.c.used_at.is_(None), _LINKS.c.expires_at > now)
        .values(used_at=now).returning(_LINKS.c.account_id, _LINKS.c.new_email)).first()


def _mail(session: Session, settings: Settings, *, to: str, kind: str, subject: str, text: str) -> None:
    session.flush()  # the account's own pending changes are written by its owner, before the outbox's insert
    outbox.queue_mail(session, to=to, subject=subject, text=text, kind=kind, mail_from=settings.mail_from)


# ------------------------------------------------------------------------------------------------ verification

def queue_verification(session: Session, *, account: Account, settings: Settings) -> None:
    """Mail the account a link that verifies its current e-mail (in the caller's transaction)."""
    secret = _new_link(session, account=account, purpose=LinkPurpose.verify_email,
                       lifetime=timedelta(hours=settings.email_verification_hours), new_email=account.email)
    lang = account.language
    link = _url(settings, f"/verify-email?token={secret}")
    _mail(session, settings, to=account.email, kind="verify_email",
          subject=translate(lang, _("Please confirm your e-mail address")),
          text=translate(lang, _("Hello %(name)s,\n\nplease confirm your e-mail address by opening this link:\n"
                                 "%(link)s\n\nIf you did not sign up, ignore this mail."),
                         name=account.display_name, link=link))


async def sign_up(*, account_in: AccountCreate, settings: Settings, address: str | None, limiter: RateLimiter,
                  hashing: security.PasswordHashing) -> Account:
    """accounts.service.sign_up, with the verification mail queued in the sign-up's transaction."""
    account = await accounts_service.sign_up(
        account_in=account_in, wallet_secret=settings.wallet_secret.get_secret_value(), address=address,
        limiter=limiter, hashing=hashing, on_created=partial(_on_created, settings=settings))
    outbox.wake_sender()
    return account


def _on_created(session: Session, account: Account, *, settings: Settings) -> None:
    queue_verification(session, account=account, settings=settings)


def verify_email(session: Session, *, token: str) -> Account:
    """Take a verification link: the account's e-mail is verified (if it is still the address the link was sent
    to). BadRequest for a link that is unknown, used or expired."""
    taken = _take_link(session, secret=token, purpose=LinkPurpose.verify_email)
    account = accounts_service.get_account(session=session, account_id=taken.account_id) if taken else None
    if account is None or taken.new_email != account.email:
        session.rollback()
        raise BadRequest(INVALID_LINK)
    if account.email_verified_at is None:
        account.email_verified_at = utcnow()
    session.commit()
    session.refresh(account)
    return account


async def resend_verification(*, account_id: int, settings: Settings, address: str | None,
                              limiter: RateLimiter) -> bool:
    """Mail a new verification link (the earlier one stops working). False: already verified, nothing sent."""
    await limiter.hit("mail", account=f"account:{account_id}", address=address)

    def run() -> bool:
        with Session(db.get_engine(), expire_on_commit=False) as session:
            account = accounts_service.get_account_or_raise(session=session, account_id=account_id)
            if account.email_verified_at is not None:
                return False
            queue_verification(session, account=account, settings=settings)
            session.commit()
            return True

    sent = await anyio.to_thread.run_sync(run)
    outbox.wake_sender()
    return sent


# ------------------------------------------------------------------------------------------------ password reset

async def request_password_reset(*, email: str, settings: Settings, address: str | None,
                                 limiter: RateLimiter) -> None:
    """Mail a reset link when an account has this e-mail; the caller answers the same either way (no account
    enumeration: the same limits, keyed by the e-mail as typed, and the same answer)."""
    email = accounts_service.normalise_email(email)
    await limiter.hit("mail", account=email, address=address)

    def run() -> None:
        with Session(db.get_engine()) as session:
            account = accounts_service.get_account_by_email(session=session, email=email)
            if account is None:
                return
            secret = _new_link(session, account=account, purpose=LinkPurpose.password_reset,
                               lifetime=timedelta(minutes=settings.password_reset_minutes))
            lang = account.language
            _mail(session, settings, to=account.email, kind="password_reset",
                  subject=translate(lang, _("Reset your password")),
                  text=translate(lang, _("Hello %(name)s,\n\nto choose a new password, open this link within "
                                         "%(minutes)s minutes:\n%(link)s\n\nIf you did not ask for it, ignore this "
                                         "mail: your password stays as it is."),
                                 name=account.display_name, minutes=settings.password_reset_minutes,
                                 link=_url(settings, f"/reset-password?token={secret}")))
            session.commit()

    await anyio.to_thread.run_sync(run)
    outbox.wake_sender()


def reset_link_is_valid(session: Session, *, token: str) -> bool:
    """Would this reset link be taken now? (The reset form shows itself only for a live link.)"""
    if not token or len(token) > 200:
        return False
    return session.exec(
        select(AccountLink.id).where(AccountLink.token_hash == security.link_hash(token),
                                     AccountLink.purpose == LinkPurpose.password_reset.value,
                                     col(AccountLink.used_at).is_(None), AccountLink.expires_at > utcnow())
    ).first() is not None


async def reset_password(*, token: str, password: str, hashing: security.PasswordHashing) -> Account:
    """Take a reset link and set the new password: every session and token of the account is signed out, and the
    e-mail counts as verified (the link reached it). BadRequest for a link unknown, used, expired or replaced."""
    password_hash = await hashing.hash(password)

    def run() -> Account:
        with Session(db.get_engine(), expire_on_commit=False) as session:
            taken = _take_link(session, secret=token, purpose=LinkPurpose.password_reset)
            account = accounts_service.get_account(session=session, account_id=taken.account_id) if taken else None
            if account is None:
                session.rollback()
                raise BadRequest(INVALID_LINK)
            _set_password(session, account, password_hash)
            if account.email_verified_at is None:
                account.email_verified_at = utcnow()
            session.commit()
            session.refresh(account)
            return account

    return await anyio.to_thread.run_sync(run)


def _set_password(session: Session, account: Account, password_hash: str) -> None:
    account.password_hash = password_hash
    account.token_epoch = (account.token_epoch or 0) + 1  # every session and token made before: signed out
    session.execute(update(_LINKS).where(_LINKS.c.account_id == account.id,
                                         _LINKS.c.purpose == LinkPurpose.password_reset.value,
                                         _LINKS.c.used_at.is_(None)).values(used_at=utcnow()))


async def change_password(*, account_id: int, current_password: str, new_password: str,
                          hashing: security.PasswordHashing) -> Account:
    """A new password, given the current one (BadRequest otherwise). Every other session and token is signed
    out: the caller gets the account with its new epoch to sign its own session in again."""
    def load() -> Account:
        with Session(db.get_engine(), expire_on_commit=False) as session:
            return accounts_service.get_account_or_raise(session=session, account_id=account_id)

    account = await anyio.to_thread.run_sync(load)
    if not await hashing.verify(current_password, account.password_hash):
        raise BadRequest("The current password is not correct")
    password_hash = await hashing.hash(new_password)

    def run() -> Account:
        with Session(db.get_engine(), expire_on_commit=False) as session:
            fresh = accounts_service.get_account_or_raise(session=session, account_id=account_id)
            _set_password(session, fresh, password_hash)
            session.commit()
            session.refresh(fresh)
            return fresh

    return await anyio.to_thread.run_sync(run)


def sign_out_everywhere(session: Session, *, account_id: int) -> Account:
    """Every session cookie and bearer token of the account stops working (made before now: a later sign-in gets a
    token of the new epoch)."""
    account = accounts_service.get_account_or_raise(session=session, account_id=account_id)
    session.execute(update(Account).where(col(Account.id) == account_id)
                    .values(token_epoch=Account.token_epoch + 1))
    session.commit()
    session.refresh(account)
    return account


def access_token(account: Account, settings: Settings) -> str:
    """A new access token for the account's current epoch."""
    return security.create_access_token(account_id=account.id, secret=settings.auth_secret.get_secret_value(),
                                        minutes=settings.access_token_minutes, epoch=account.token_epoch or 0)


# ------------------------------------------------------------------------------------------------ change of e-mail

async def request_email_change(*, account_id: int, new_email: str, password: str, settings: Settings,
                               address: str | None, limiter: RateLimiter,
                               hashing: security.PasswordHashing) -> None:
    """Mail a confirmation link to the new address (the e-mail changes when it is followed). Needs the password
    (BadRequest); Conflict when another account has that address."""
    new_email = accounts_service.normalise_email(new_email)
    await limiter.hit("mail", account=f"account:{account_id}", address=address)

    def load() -> Account:
        with Session(db.get_engine(), expire_on_commit=False) as session:
            return accounts_service.get_account_or_raise(session=session, account_id=account_id)

    account = await anyio.to_thread.run_sync(load)
    if not await hashing.verify(password, account.password_hash):
        raise BadRequest("The password is not correct")

    def run() -> None:
        with Session(db.get_engine()) as session:
            fresh = accounts_service.get_account_or_raise(session=session, account_id=account_id)
            if new_email == fresh.email:
                raise Conflict("This is already the account's e-mail")
            if accounts_service.get_account_by_email(session=session, email=new_email) is not None:
                raise Conflict("An account with this e-mail already exists")
            secret = _new_link(session, account=fresh, purpose=LinkPurpose.email_change,
                               lifetime=timedelta(hours=settings.email_change_hours), new_email=new_email)
            lang = fresh.language
            _mail(session, settings, to=new_email, kind="email_change",
                  subject=translate(lang, _("Confirm your new e-mail address")),
                  text=translate(lang, _("Hello %(name)s,\n\nto use this address for your account, open this link:"
                                         "\n%(link)s\n\nIf you did not ask for it, ignore this mail."),
                                 name=fresh.display_name, link=_url(settings, f"/confirm-email?token={secret}")))
            session.commit()

    await anyio.to_thread.run_sync(run)
    outbox.wake_sender()


def confirm_email_change(session: Session, *, token: str, settings: Settings) -> Account:
    """Take a change-of-e-mail link: the account's e-mail is the new (verified) address, and the old one gets a
    notice. BadRequest for a link unknown, used or expired; Conflict when another account took the address since."""
    taken = _take_link(session, secret=token, purpose=LinkPurpose.email_change)
    account = accounts_service.get_account(session=session, account_id=taken.account_id) if taken else None
    if account is None or not taken.new_email:
        session.rollback()
        raise BadRequest(INVALID_LINK)
    if accounts_service.get_account_by_email(session=session, email=taken.new_email) is not None:
        session.rollback()
        raise Conflict("An account with this e-mail already exists")
    old = account.email
    account.email = taken.new_email
    account.email_verified_at = utcnow()
    session.flush()  # the account's change is written here, by its owner (the outbox's flush would carry it)
    lang = account.language
    _mail(session, settings, to=old, kind="email_changed",
          subject=translate(lang, _("Your e-mail address was changed")),
          text=translate(lang, _("Hello %(name)s,\n\nthe e-mail address of your account is now %(email)s. If you "
                                 "did not change it, reset your password at once:\n%(link)s"),
                         name=account.display_name, email=taken.new_email, link=_url(settings, "/forgot-password")))
    session.commit()
    session.refresh(account)
    outbox.wake_sender()
    return account


# ------------------------------------------------------------------------------------------------ notices

def notify_account(session: Session, *, account: Account, kind: str, subject: str, text: str,
                   link: str | None = None, params: dict | None = None, sender: Sender) -> int:
    """A notice for the account in the caller's transaction, mailed too when its e-mail is verified (see the module
    docstring). `subject` and `text` are already in the account's language (marketplace.mail.texts.translate):

        lifecycle.notify_account(session, account=a, kind="payout", sender=sender,
                                 subject=translate(a.language, _("A payout is on its way")),
                                 text=translate(a.language, _("%(amount)s ..."), amount=...), link="/studio")"""
    return outbox.notify(session, user_id=account.id, email=account.email if account.email_verified else None,
                         kind=kind, subject=subject, text=text, link=link, params=params, sender=sender)


def notify_accounts(session: Session, *, account_ids, kind: str, subject: str, text: str, link: str | None = None,
                    params: dict | None = None, sender: Sender) -> None:
    """The same notice for several accounts, each in its own language: `subject` and `text` are message ids
    (marked with texts._) translated for each with `params`."""
    for account_id in dict.fromkeys(account_ids):
        account = accounts_service.get_account(session=session, account_id=account_id)
        if account is None:
            continue
        values = values_for(account.language, params or {})
        notify_account(session, account=account, kind=kind, subject=translate(account.language, subject, **values),
                       text=translate(account.language, text, **values), link=link, params=params, sender=sender)


def notice_list(session: Session, *, account_id: int, limit: int = 50, offset: int = 0):
    return outbox.list_notices(session, user_id=account_id, limit=limit, offset=offset)


def unread_notices(account_id: int) -> int:
    """The header's unread count (its own short session: pages render it on every page)."""
    with Session(db.get_engine()) as session:
        return outbox.unread_count(session, user_id=account_id)


def mark_notices_read(session: Session, *, account_id: int, notice_id: int | None = None,
                      must_exist: bool = False) -> bool:
    """Mark one notice (or all) of the account read. With `must_exist`: False when it has no such notice (one
    read already counts as existing)."""
    if must_exist and notice_id is not None and not outbox.notice_exists(session, user_id=account_id,
                                                                          notice_id=notice_id):
        return False
    outbox.mark_read(session, user_id=account_id, notice_id=notice_id)
    return True


def forget(session: Session, *, account: Account) -> None:
    """Account deletion, this module's part (before the account's row is anonymised): its mailed links die (a reset
    or e-mail-change link must not revive the account), its notices and the mails to its address are deleted.
    Not committed: the caller's transaction (marketplace/privacy)."""
    session.execute(sa_delete(AccountLink).where(col(AccountLink.account_id) == account.id))
    outbox.forget(session, user_id=account.id, email=account.email)


def notice_export(session: Session, *, account_id: int) -> list[dict]:
    return outbox.export_of(session, user_id=account_id)
