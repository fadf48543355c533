"""Payouts: the creators' connected accounts, the payout rows that follow the ledger, and what the studio shows.
No FastAPI; Stripe only through the gateway passed in (blocking: routers run it off the event loop).

The money (README, "Payouts"): every creator ledger entry (a sale's credit, a refund's reversal) gets one payout row,
written before Stripe is asked. A credit is transferred once it is due (PAYOUT_HOLD_DAYS) and the creator's
account is enabled; a refund before that cancels the credit's transfer (no reversal needed), after it reverses the
transfer by the creators' shares. A reversal Stripe refuses leaves the creator owing it: later credits pay the debt
first (core.money.transfer_after_debt). Everything in integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from marketplace.accounts import lifecycle
from marketplace.accounts.models import Account
from marketplace.core.db import utcnow
from marketplace.core.limits import Currency
from marketplace.integrations.stripe.gateway import ConnectedAccount, StripeGateway
from marketplace.mail.outbox import Sender
from marketplace.mail.texts import _
from marketplace.payments import service as payments_service
from marketplace.payments.models import LedgerEntry, LedgerEntryType
from marketplace.payouts.models import (
    AccountStatus,
    Payout,
    PayoutAccount,
    PayoutKind,
    PayoutsPublic,
    PayoutStatus,
    PayoutTransferPublic,
)

PAYOUT_WORKER = "payout"  # the kind of the worker that makes transfers and reversals
STUDIO_PAYOUTS_PATH = "/studio/payouts"
# every account credited by the ledger is paid the same way: a creator's sale or royalty, a resale's seller (a
# collector, onboarded to Stripe Connect like a creator: POST /api/me/payouts/onboarding)
KIND_OF_ENTRY = {LedgerEntryType.sale_creator.value: PayoutKind.transfer.value,
                 LedgerEntryType.refund_creator.value: PayoutKind.reversal.value,
                 LedgerEntryType.royalty_creator.value: PayoutKind.transfer.value,
                 LedgerEntryType.refund_royalty.value: PayoutKind.reversal.value,
                 LedgerEntryType.resale_seller.value: PayoutKind.transfer.value,
                 LedgerEntryType.refund_seller.value: PayoutKind.reversal.value}


# ------------------------------------------------------------------ connected accounts
def may_be_paid(session: Session, account: Account) -> bool:
    """Who may set up payouts: creators and admins, and a collector the ledger credits for a resale they sold (their
    credits wait, like a creator's, until their connected account is ready)."""
    if account.role in ("creator", "admin"):
        return True
    return session.exec(select(LedgerEntry.id).where(
        LedgerEntry.account_id == account.id,
        LedgerEntry.entry_type == LedgerEntryType.resale_seller.value).limit(1)).first() is not None


def payout_account(session: Session, account_id: int) -> PayoutAccount | None:
    return session.exec(select(PayoutAccount).where(PayoutAccount.account_id == account_id)).first()


def status_of(account: PayoutAccount | None) -> AccountStatus:
    if account is None:
        return AccountStatus.none
    if account.payouts_enabled:
        return AccountStatus.enabled
    if account.details_submitted:
        return AccountStatus.restricted
    return AccountStatus.onboarding


def start_onboarding(*, session: Session, account: Account, gateway: StripeGateway, public_base_url: str) -> str:
    """The creator's connected account (Express; created once, idempotently) and a fresh link to Stripe's hosted
    onboarding, which sends them back to the studio's payouts page."""
    existing = payout_account(session, account.id)
    if existing is None:
        connected = gateway.create_connected_account(account_id=account.id, email=account.email)
        session.exec(insert(PayoutAccount).values(account_id=account.id, stripe_account_id=connected.id,
                                                  details_submitted=connected.details_submitted,
                                                  payouts_enabled=connected.payouts_enabled,
                                                  requirements_due=",".join(connected.requirements_due)[:2000],
                                                  stripe_updated_at=0, created_at=utcnow(), updated_at=utcnow())
                     .prefix_with("OR IGNORE", dialect="sqlite"))
        session.commit()
        existing = payout_account(session, account.id)
    base = public_base_url.rstrip("/") + STUDIO_PAYOUTS_PATH
    return gateway.create_account_link(stripe_account_id=existing.stripe_account_id,
                                       refresh_url=f"{base}?onboarding=refresh", return_url=f"{base}?onboarding=return")


def apply_account_update(session: Session, connected: ConnectedAccount, *, stripe_time: int) -> str:
    """Stripe's view of a connected account (an `account.updated` event created at `stripe_time`, or a fresh read):
    applied unless a later one was (duplicates and reordered events change nothing). Returns what happened."""
    moved = session.exec(update(PayoutAccount).where(
        PayoutAccount.stripe_account_id == connected.id, col(PayoutAccount.stripe_updated_at) <= stripe_time,
    ).values(details_submitted=connected.details_submitted, payouts_enabled=connected.payouts_enabled,
             requirements_due=",".join(connected.requirements_due)[:2000], stripe_updated_at=stripe_time,
             updated_at=utcnow())).rowcount
    if moved:
        return "payouts enabled" if connected.payouts_enabled else "account updated"
    exists = session.exec(select(PayoutAccount.id).where(PayoutAccount.stripe_account_id == connected.id)).first()
    return "older than the state applied" if exists else "unknown account"


def refresh_account(*, session: Session, account_id: int, gateway: StripeGateway) -> None:
    """Read the creator's connected account from Stripe now (back from onboarding, before its event arrives)."""
    existing = payout_account(session, account_id)
    if existing is None:
        return
    connected = gateway.retrieve_connected_account(existing.stripe_account_id)
    apply_account_update(session, connected, stripe_time=int(utcnow().timestamp()))
    session.commit()


# ------------------------------------------------------------------ the payout rows (written by the worker)
def enqueue(session: Session, *, hold_days: int, now: datetime | None = None) -> int:
    """One payout row for each creator ledger entry that has none (per purchase, creator and kind: a sale booked
    again after an undone delivery keeps its row). A credit is due `hold_days` after it was earned. Returns how
    many rows were written. Nothing is committed here."""
    entry, payout = LedgerEntry.__table__, Payout.__table__
    rows = session.execute(select(entry).where(
        col(entry.c.entry_type).in_(tuple(KIND_OF_ENTRY)), entry.c.account_id.is_not(None),
        ~select(payout.c.id).where(payout.c.ledger_entry_id == entry.c.id).exists(),
    ).order_by(entry.c.id)).all()
    if not rows:
        return 0
    now = now or utcnow()
    taken = {(p.purchase_id, p.account_id, p.kind) for p in session.execute(select(
        payout.c.purchase_id, payout.c.account_id, payout.c.kind).where(
        col(payout.c.purchase_id).in_({r.purchase_id for r in rows}))).all()}
    values = []
    for row in rows:
        kind = KIND_OF_ENTRY[row.entry_type]
        key = (row.purchase_id, row.account_id, kind)
        if key in taken:
            continue
        taken.add(key)
        due = row.created_at + timedelta(days=hold_days) if kind == PayoutKind.transfer else row.created_at
        values.append({"ledger_entry_id": row.id, "purchase_id": row.purchase_id, "account_id": row.account_id,
                           "kind": kind, "status": PayoutStatus.pending.value, "amount_cents": row.amount_cents,
                           "currency": row.currency, "due_at": due, "attempts": 0, "created_at": now, "updated_at": now})
    if values:
        session.execute(insert(payout), values)
    return len(values)


def lock_account(session: Session, account_id: int) -> None:
    """Hold the creator's payout account row until the transaction ends (PostgreSQL: FOR UPDATE; SQLite has one
    writer and refuses a write on a stale read), so two workers never pay one debt from two credits."""
    session.exec(select(PayoutAccount.id).where(PayoutAccount.account_id == account_id).with_for_update()).first()


def owed_cents(session: Session, account_id: int) -> int:
    """What the creator owes back (>= 0): refused reversals not yet paid by later credits. The rows fixed so far
    (stripe_cents set) each leave `amount - stripe_cents`: a credit's part that paid a debt (> 0), a reversal's
    part Stripe did not take back (< 0)."""
    left = session.exec(select(func.coalesce(func.sum(col(Payout.amount_cents) - col(Payout.stripe_cents)), 0))
                        .where(Payout.account_id == account_id, col(Payout.stripe_cents).is_not(None))).one()
    return max(0, -int(left))


def ready_transfers_condition(now: datetime):
    """Transfers the worker may take: due, and to an enabled account (one refunded before it went is cancelled by
    its reversal row, which the worker looks at first)."""
    payout = Payout.__table__
    enabled = select(PayoutAccount.account_id).where(col(PayoutAccount.payouts_enabled).is_(True))
    return ((payout.c.kind == PayoutKind.transfer.value)
            & col(payout.c.status).in_((PayoutStatus.pending.value, PayoutStatus.sending.value))
            & (payout.c.due_at <= now) & col(payout.c.account_id).in_(enabled))


def ready_reversals_condition():
    payout = Payout.__table__
    return ((payout.c.kind == PayoutKind.reversal.value)
            & col(payout.c.status).in_((PayoutStatus.pending.value, PayoutStatus.sending.value)))


def transfer_of(session: Session, purchase_id: int, account_id: int) -> Payout | None:
    return session.exec(select(Payout).where(Payout.purchase_id == purchase_id, Payout.account_id == account_id,
                                             Payout.kind == PayoutKind.transfer.value)).first()


def transfers_of_purchase(session: Session, purchase_id: int) -> list[Payout]:
    return list(session.exec(select(Payout).where(Payout.purchase_id == purchase_id,
                                                  Payout.kind == PayoutKind.transfer.value)
                             .order_by(col(Payout.id))).all())


def write_ahead(session: Session, payout_id: int, *, worker: str, stripe_cents: int, status: PayoutStatus,
                fresh: bool) -> bool:
    """Fix what goes through Stripe before asking it (guarded on this worker's claim of a pending row). `fresh`:
    a new attempt, with a new idempotency key. True when this call wrote it."""
    now = utcnow()
    values = {"status": status.value, "stripe_cents": stripe_cents, "updated_at": now}
    if fresh:
        values["attempts"] = Payout.attempts + 1
    if status in (PayoutStatus.offset, PayoutStatus.cancelled):
        values.update(settled_at=now, claimed_by=None, claimed_until=None)
    return bool(session.exec(update(Payout).where(
        Payout.id == payout_id, Payout.status == PayoutStatus.pending.value, Payout.claimed_by == worker,
    ).values(**values)).rowcount)


def cancel_pair(session: Session, transfer: Payout, reversal: Payout) -> bool:
    """Refunded before the credit was transferred: neither happens (both rows fixed at 0 through Stripe)."""
    now = utcnow()
    moved = session.exec(update(Payout).where(
        Payout.id == transfer.id, col(Payout.status).in_((PayoutStatus.pending.value, PayoutStatus.failed.value)),
    ).values(status=PayoutStatus.cancelled.value, stripe_cents=0, settled_at=now, updated_at=now,
             claimed_by=None, claimed_until=None)).rowcount
    if not moved and transfer.status != PayoutStatus.offset:
        return False
    session.exec(update(Payout).where(Payout.id == reversal.id).values(
        status=PayoutStatus.cancelled.value, stripe_cents=0, settled_at=now, updated_at=now, claimed_by=None,
        claimed_until=None))
    return True


def record_sent(session: Session, payout: Payout, *, stripe_id: str, sender: Sender | None = None) -> None:
    """Stripe made it (the id of the transfer or the reversal): paid / reversed, once. A transfer made tells its
    creator (a notice, and a mail), in the same transaction: once, with the row's change."""
    now = utcnow()
    if payout.kind == PayoutKind.transfer:
        values = {"status": PayoutStatus.paid.value, "stripe_transfer_id": stripe_id}
    else:
        values = {"status": PayoutStatus.reversed.value, "stripe_reversal_id": stripe_id}
    changed = session.exec(update(Payout).where(
        Payout.id == payout.id, Payout.status == PayoutStatus.sending.value).values(
        **values, settled_at=now, updated_at=now, claimed_by=None, claimed_until=None, last_error=None)).rowcount
    if changed and sender is not None and payout.kind == PayoutKind.transfer:
        lifecycle.notify_accounts(
            session, account_ids=[payout.account_id], kind="payout", sender=sender, link=STUDIO_PAYOUTS_PATH,
            params={"amount_cents": payout.stripe_cents, "currency": payout.currency,
                    "purchase_id": payout.purchase_id},
            subject=_("%(amount)s transferred to your Stripe account"),
            text=_("%(amount)s, your share of a sale, was transferred to your Stripe account; Stripe pays it out "
                   "to your bank account on its schedule."))


def record_refused(session: Session, payout: Payout, *, error: str, retry: bool) -> None:
    """Stripe refused. A transfer goes back to pending (a later attempt, a new key) or, after the last attempt,
    fails with its credit still owed to the creator (stripe_cents cleared). A reversal fails at once: the creator
    owes what it did not take back (stripe_cents 0), which later credits pay first."""
    now = utcnow()
    if payout.kind == PayoutKind.transfer:
        values = {"status": (PayoutStatus.pending if retry else PayoutStatus.failed).value, "stripe_cents": None}
    else:
        values = {"status": PayoutStatus.failed.value, "stripe_cents": 0, "settled_at": now}
    session.exec(update(Payout).where(Payout.id == payout.id, Payout.status == PayoutStatus.sending.value).values(
        **values, last_error=error[:500], updated_at=now, claimed_by=None, claimed_until=None))


def confirm_from_event(session: Session, obj: dict, event_type: str,
                       sender: Sender | None = None) -> tuple[str, int | None]:
    """`transfer.created` / `transfer.reversed`: Stripe's word that a transfer (or its reversal) of one of our rows
    exists (metadata payout_id); a row still `sending` (a crash after Stripe answered) is settled by it, and its
    creator told, as when the worker settles it (record_sent: once, whichever settles it)."""
    meta = obj.get("metadata") or {}
    ref = str(meta.get("payout_id") or "")
    if not ref.isdigit():
        return "not a payout", None
    payout = session.get(Payout, int(ref))
    if payout is None:
        return "unknown payout", None
    if event_type == "transfer.created" and payout.kind == PayoutKind.transfer and obj.get("id"):
        if payout.status == PayoutStatus.sending and obj.get("amount") == payout.stripe_cents:
            record_sent(session, payout, stripe_id=str(obj["id"]), sender=sender)
            return "transfer confirmed", payout.purchase_id
        return f"no change ({payout.status})", payout.purchase_id
    return "recorded", payout.purchase_id


# ------------------------------------------------------------------ what the studio shows
def summary(*, session: Session, account_id: int, now: datetime | None = None) -> PayoutsPublic:
    """The creator's payouts: the account's state, and the money (integer cents):
    paid = transfers made net of reversals made; pending = credits held by PAYOUT_HOLD_DAYS; available = the rest
    of the ledger balance, earned and not transferred (negative: owed back). available + pending + paid = the
    ledger balance, to the cent."""
    now = now or utcnow()
    account = payout_account(session, account_id)
    rows = list(session.exec(select(Payout).where(Payout.account_id == account_id)
                             .order_by(col(Payout.created_at).desc(), col(Payout.id).desc())).all())
    paid = sum(p.stripe_cents or 0 for p in rows if p.status in (PayoutStatus.paid, PayoutStatus.reversed))
    pending = sum(p.amount_cents for p in rows if p.kind == PayoutKind.transfer and p.status == PayoutStatus.pending
                  and _aware(p.due_at) > now)
    balance = payments_service.balance_cents(session=session, account_id=account_id)
    return PayoutsPublic(
        account_status=status_of(account),
        details_submitted=bool(account and account.details_submitted),
        payouts_enabled=bool(account and account.payouts_enabled),
        requirements_due=[r for r in (account.requirements_due.split(",") if account else []) if r],
        available_cents=balance - paid - pending, pending_cents=pending, paid_cents=paid,
        transfers=[PayoutTransferPublic(
            id=p.id, purchase_id=p.purchase_id, currency=Currency(p.currency), status=PayoutStatus(p.status), created_at=p.created_at,
            amount_cents=p.stripe_cents if p.status in (PayoutStatus.sending, PayoutStatus.paid,
                                                        PayoutStatus.reversed) else p.amount_cents)
            for p in rows])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------ the earnings page and statements
@dataclass(frozen=True)
class StatementLine:
    """One line of a creator's earnings: a ledger credit (or a refund taking it back), or a transfer to their
    connected account (or its reversal). Signed cents: `amount_cents` as the ledger booked it; for transfers and
    reversals what went through Stripe (or, not yet sent, what is to go)."""

    at: datetime
    kind: str  # credit, refund, transfer, reversal
    purchase_id: int
    title: str
    amount_cents: int
    currency: str
    status: str  # a credit's: booked; a payout's: its PayoutStatus


def statement_lines(*, session: Session, account_id: int, since: datetime | None = None,
                    until: datetime | None = None) -> list[StatementLine]:
    """Every credit, refund, transfer and reversal of the account, oldest first (optionally in [since, until))."""
    entries, _ = payments_service.ledger_of(session=session, account_id=account_id, page=1, page_size=10**6)
    lines = [StatementLine(at=_aware(e.created_at), kind="credit" if e.amount_cents >= 0 else "refund",
                           purchase_id=e.purchase_id, title=e.work_title or e.call_title or "",
                           amount_cents=e.amount_cents, currency=e.currency, status="booked")
             for e in entries if e.entry_type in KIND_OF_ENTRY]
    titles = {e.purchase_id: e.work_title or e.call_title or "" for e in entries}
    for p in session.exec(select(Payout).where(Payout.account_id == account_id)).all():
        amount = p.stripe_cents if p.stripe_cents is not None and p.status != PayoutStatus.failed else p.amount_cents
        lines.append(StatementLine(at=_aware(p.settled_at or p.created_at), kind=p.kind, purchase_id=p.purchase_id,
                                   title=titles.get(p.purchase_id, ""), amount_cents=amount, currency=p.currency,
                                   status=p.status))
    lines = [line for line in lines if (since is None or line.at >= since) and (until is None or line.at < until)]
    return sorted(lines, key=lambda line: (line.at, line.purchase_id, line.kind))


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in UTC of `YYYY-MM`; ValueError otherwise."""
    year, _, number = month.partition("-")
    start = datetime(int(year), int(number), 1, tzinfo=UTC)
    end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass(frozen=True)
class Statement:
    """A month of a creator's earnings: its lines, oldest first, and their sums in integer cents (earned = credits
    + refunds; transferred = transfers + reversals made; each the exact sum of its lines)."""

    month: str
    lines: list[StatementLine]
    earned_cents: int
    transferred_cents: int


def monthly_statement(*, session: Session, account_id: int, month: str) -> Statement:
    since, until = month_bounds(month)
    lines = statement_lines(session=session, account_id=account_id, since=since, until=until)
    return Statement(
        month=month, lines=lines,
        earned_cents=sum(line.amount_cents for line in lines if line.kind in ("credit", "refund")),
        transferred_cents=sum(line.amount_cents for line in lines
                              if line.status in (PayoutStatus.paid, PayoutStatus.reversed)))
