"""Export my data (GDPR art. 15 and 20) and delete my account (art. 17), across the domains. No FastAPI.

**Export** (`export`): one JSON document of what the platform holds about the account: the account and its wallet
addresses, the profile, the works it uploaded or is named a creator of (with every creator's share and role: the
credit the works carry), its purchases, its ledger entries, the calls it posted and the proposals it is on, its
payouts (the Stripe account's state, balances and transfers), its notices and the reports of works it made.
Nothing of another account but the names and shares on the same works and teams (what those pages show anyone
involved); no e-mail but the account's own, no password hash.

**Deletion** (`delete_account`, one transaction, each table written by its owner):
- kept, because the law and the ledger need them: purchases (as buyer), ledger entries (every sum stays as it
  was), the Stripe events, and the works that were published (minted, sold or not) with their creators' shares:
  a buyer's licence and the royalty split name them. Such works show the creator as "Deleted account" from now on;
  the name written in the token metadata on IPFS at mint time cannot be erased (it is content-addressed).
  A published, unsold work of a deleted creator is no longer for sale (checkout answers 409).
- removed: the drafts the account uploaded (never published, never sold; their media is unpinned when nothing
  else holds it), the profile, its disciplines and skills and the avatar (unpinned), its notices, every mail to
  its address in the outbox (one still queued is not sent) and its mailed links (a password-reset or
  e-mail-change link dies with the account), its memberships of organisations.
- cancelled: its token withdrawals not sent yet (`cancelled`: the linked wallets they were going to are forgotten);
  one whose transaction was sent already settles as it is.
- withdrawn: invitations to co-sign other creators' drafts are declined (their uploader changes the list before
  minting); open calls it posted are closed; its proposals still forming or submitted are declined.
- anonymised: the e-mail becomes `deleted-<id>-<random>@deleted.invalid` (unique, non-routable: the real address
  may sign up again), the name "Deleted account", the password unusable, the linked wallet address forgotten,
  `deleted_at` set: every session and token of the account stops working and it cannot sign in again.
- on chain nothing moves: tokens owned by the account's custodial wallet stay there (a transfer needs a signed
  transaction, and the chain is not ours to rewrite). The wallet's key is derived from WALLET_SECRET and the
  account id, so an operator can still hand them over on a verified request; no one can through the site.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from marketplace.accounts import lifecycle, profiles
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Account, AccountPublic
from marketplace.calls import service as calls_service
from marketplace.catalog import avatars, collaborators
from marketplace.catalog import service as catalog_service
from marketplace.core.db import utcnow
from marketplace.core.exceptions import Forbidden
from marketplace.integrations.ipfs.client import IpfsClient
from marketplace.moderation import service as moderation_service
from marketplace.organisations import service as organisations_service
from marketplace.payments import service as payments_service
from marketplace.payments import withdrawals
from marketplace.payments.models import LedgerEntry
from marketplace.payouts import service as payouts_service

if TYPE_CHECKING:
    from marketplace.accounts.security import PasswordHashing
    from marketplace.core.ratelimit import RateLimiter

logger = logging.getLogger(__name__)
EXPORT_FORMAT = "marketplace-export/1"


def export(*, session: Session, account: Account) -> dict:
    """Everything the platform holds about the account, as JSON-ready data."""
    works = catalog_service.works_of(session, account_id=account.id)
    crews = catalog_service.collaborators_by_work(session, [w.id for w in works])
    uploaders = {a.id: a for a in session.exec(
        select(Account).where(col(Account.id).in_({w.creator_id for w in works}))).all()} if works else {}
    exported_works = []
    for work in works:
        public = catalog_service.to_public(work, uploaders[work.creator_id], crews.get(work.id))
        exported_works.append(public.model_dump(mode="json"))
    purchases = payments_service.list_purchases(session=session, buyer_id=account.id)
    ledger = session.exec(select(LedgerEntry).where(LedgerEntry.account_id == account.id)
                          .order_by(col(LedgerEntry.id))).all()
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "account": AccountPublic.model_validate(account, from_attributes=True).model_dump(mode="json"),
        "wallet_address": account.wallet_address,
        "profile": profiles.profile_public(session=session, account=account).model_dump(mode="json"),
        "works": exported_works,
        "purchases": [payments_service.to_public(p).model_dump(mode="json") for p in purchases],
        "ledger_entries": [{"id": e.id, "purchase_id": e.purchase_id, "work_id": e.work_id,
                            "entry_type": e.entry_type, "amount_cents": e.amount_cents, "currency": e.currency,
                            "created_at": e.created_at.isoformat()} for e in ledger],
        "balance_cents": sum(e.amount_cents for e in ledger),
        **calls_service.export_of(session=session, account_id=account.id),
        "payouts": payouts_service.summary(session=session, account_id=account.id).model_dump(mode="json"),
        "notices": lifecycle.notice_export(session, account_id=account.id),
        **moderation_service.export_of(session=session, account_id=account.id),
    }


class WrongPassword(Forbidden):
    """The confirmation password is not the account's (403): nothing was deleted."""

    code = "wrong_password"


async def confirm_password(*, account: Account, password: str, address: str | None, limiter: RateLimiter,
                           hashing: PasswordHashing) -> None:
    """The account's own password confirms its deletion: counted as a sign-in attempt (the same limits, 429
    beyond them), verified in the hashing pool; WrongPassword (403) otherwise."""
    await limiter.hit("signin", account=account.email, address=address)
    if not await hashing.verify(password, account.password_hash):
        raise WrongPassword("The password is not correct: the account was not deleted")


def delete_account(*, session: Session, account: Account, ipfs: IpfsClient) -> None:
    """Delete the account as the module's docstring says: one transaction; then what it held on IPFS alone is
    unpinned (best effort: a node that is down keeps the blocks, nothing refers to them any more)."""
    drafts = collaborators.withdraw_account(session, account_id=account.id)
    cids = catalog_service.delete_drafts(session, work_ids=drafts)
    calls_service.withdraw_account(session, account_id=account.id)
    organisations_service.withdraw_account(session, account_id=account.id)
    avatar = profiles.remove_profile(session=session, account_id=account.id)
    lifecycle.forget(session, account=account)
    withdrawals.cancel_pending_of_account(session, account.id)  # its linked wallets go: nothing is sent to them
    accounts_service.anonymise(session=session, account=account)
    session.commit()
    for cid in [*cids, *([avatar] if avatar else [])]:
        try:
            avatars.release_cid(session=session, ipfs=ipfs, cid=cid)
        except Exception:
            logger.warning("could not unpin %s after deleting account %s", cid, account.id, exc_info=True)
