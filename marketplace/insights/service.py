"""The insights: aggregate figures of the marketplace, each a list of rows of plain values. No FastAPI.

Every figure is one keyword-only function `name(*, session) -> list[dict]` registered in FIGURES under its public
name (`sales-by-month`, ...); `figure(session=..., name=...)` runs one by name. Rows have stable snake_case keys
(FIGURES[name].columns, in order), money in integer cents with its `currency`, months as `YYYY-MM` (UTC), and
nothing else than str and int, so the JSON and the CSV of a figure hold the same values. The README ("Insights")
defines each figure: what counts, which date, how it rounds.

What counts as a sale everywhere: a purchase of a work (not a call's budget) whose status is `delivered`. A refunded
sale's purchase is `refunded`, so it is never counted; the ledger figures sum the signed entries, in which a refund's
reversal cancels its credit.

Reads the payments' ledger and purchases, the payouts, the calls, the catalog, the organisations, the collaboration
network and the chain index; writes nothing.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func
from sqlmodel import Session, col, select

from marketplace.calls.models import Call, Proposal
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import Work, WorkCollaborator, WorkStatus
from marketplace.core.config import DISCIPLINES
from marketplace.core.exceptions import NotFound
from marketplace.core.money import BPS_WHOLE
from marketplace.indexer.models import ChainEvent
from marketplace.network import service as network_service
from marketplace.organisations import service as organisations_service
from marketplace.payments.models import LedgerEntry, LedgerEntryType, Purchase, PurchaseKind, PurchaseStatus
from marketplace.payouts.models import Payout, PayoutKind, PayoutStatus

Row = dict[str, str | int]
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400
CREATOR_ENTRIES = (LedgerEntryType.sale_creator.value, LedgerEntryType.refund_creator.value,
                   LedgerEntryType.royalty_creator.value, LedgerEntryType.refund_royalty.value)
ROYALTY_ENTRIES = (LedgerEntryType.royalty_creator.value, LedgerEntryType.refund_royalty.value)
SPLIT_ENTRIES = (LedgerEntryType.sale_creator.value, LedgerEntryType.refund_creator.value)


# ------------------------------------------------------------------------------------------------ arithmetic
def share_bps(part: int, whole: int) -> int:
    """`part / whole` in basis points, rounded half up (exact integers); 0 when `whole` is 0. 0 <= result <= 10,000
    for 0 <= part <= whole."""
    if part < 0 or whole < 0:
        raise ValueError("counts are >= 0")
    if whole == 0:
        return 0
    return (2 * part * BPS_WHOLE + whole) // (2 * whole)


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator (> 0) rounded half up, for numerator >= 0, in exact integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def median_seconds(durations: Sequence[int]) -> int:
    """The median of whole-second durations: the middle one, or of an even count the mean of the two middle ones
    rounded half up to the second. 0 for none."""
    if not durations:
        return 0
    ordered = sorted(durations)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return round_half_up(ordered[middle - 1] + ordered[middle], 2)


# ------------------------------------------------------------------------------------------------ SQL helpers
def month_of(session: Session, column):
    """`YYYY-MM` of a timestamp column, in SQL, on SQLite and PostgreSQL (both store UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _sales():
    """The condition of a sale: a work's purchase, delivered."""
    return and_(col(Purchase.work_id).is_not(None), Purchase.status == PurchaseStatus.delivered.value)


def _on_chain():
    """The sale's delivery is in the chain index: a Transfer of its token in its delivery transaction."""
    return exists().where(ChainEvent.event == "Transfer", col(ChainEvent.token_id) == col(Purchase.token_id),
                          func.lower(ChainEvent.tx_hash) == func.lower(Purchase.delivery_tx_hash))


# ------------------------------------------------------------------------------------------------ the figures
def sales_by_month(*, session: Session) -> list[Row]:
    """Sales (primary and resale) by the month they were delivered: their count, their volume (what the buyers paid)
    and how many of them the chain index holds (a Transfer of the token in the delivery transaction)."""
    month = month_of(session, Purchase.delivered_at)
    on_chain = func.sum(case((_on_chain(), 1), else_=0))
    rows = session.exec(select(month, Purchase.currency, func.count(), func.sum(Purchase.amount_cents), on_chain)
                        .where(_sales()).group_by(month, Purchase.currency).order_by(month, Purchase.currency)).all()
    return [{"month": m, "count": int(n), "volume_cents": int(v or 0), "currency": c, "on_chain_count": int(o or 0)}
            for m, c, n, v, o in rows]


def sales_by_discipline(*, session: Session) -> list[Row]:
    """Sales (primary and resale) by the discipline of the work sold: every discipline, in the product's order
    (DISCIPLINES), with 0 where nothing sold."""
    rows = session.exec(select(Work.discipline, Purchase.currency, func.count(), func.sum(Purchase.amount_cents))
                        .join(Work, col(Work.id) == col(Purchase.work_id)).where(_sales())
                        .group_by(Work.discipline, Purchase.currency)).all()
    found = {(d, c): (int(n), int(v or 0)) for d, c, n, v in rows}
    currencies = sorted({c for _, c in found} or {"EUR"})
    order = {d: i for i, d in enumerate(DISCIPLINES)}
    keys = sorted({(d, c) for d in DISCIPLINES for c in currencies} | set(found),
                  key=lambda k: (order.get(k[0], len(order)), k[0], k[1]))
    return [{"discipline": d, "count": found.get((d, c), (0, 0))[0], "volume_cents": found.get((d, c), (0, 0))[1],
             "currency": c} for d, c in keys]


def primary_vs_resale(*, session: Session) -> list[Row]:
    """Sales by kind: first sales (`primary`) and resales (`resale`), their count and volume; both kinds always."""
    rows = session.exec(select(Purchase.kind, Purchase.currency, func.count(), func.sum(Purchase.amount_cents))
                        .where(_sales()).group_by(Purchase.kind, Purchase.currency)).all()
    found = {(k, c): (int(n), int(v or 0)) for k, c, n, v in rows}
    currencies = sorted({c for _, c in found} or {"EUR"})
    kinds = [PurchaseKind.primary.value, PurchaseKind.resale.value]
    return [{"kind": k, "count": found.get((k, c), (0, 0))[0], "volume_cents": found.get((k, c), (0, 0))[1],
             "currency": c} for k in kinds for c in currencies]


def royalties_and_splits(*, session: Session) -> list[Row]:
    """What the ledger credited to creators, by the month of the sale (its delivery; a call's budget: its payment),
    net of refunds: royalties (royalty_creator + refund_royalty) and split payouts (sale_creator + refund_creator of
    the sales whose creators' part was split between two or more creators: a co-created work, a call's team)."""
    split_purchases = (select(LedgerEntry.purchase_id).where(LedgerEntry.entry_type == LedgerEntryType.sale_creator.value)
                       .group_by(LedgerEntry.purchase_id).having(func.count() > 1))
    month = month_of(session, func.coalesce(Purchase.delivered_at, Purchase.paid_at, Purchase.created_at))
    is_royalty = col(LedgerEntry.entry_type).in_(ROYALTY_ENTRIES)
    is_split = and_(col(LedgerEntry.entry_type).in_(SPLIT_ENTRIES), col(LedgerEntry.purchase_id).in_(split_purchases))
    rows = session.exec(
        select(month, LedgerEntry.currency,
               func.sum(case((is_royalty, LedgerEntry.amount_cents), else_=0)),
               func.sum(case((is_split, LedgerEntry.amount_cents), else_=0)))
        .join(Purchase, col(Purchase.id) == col(LedgerEntry.purchase_id))
        .where(col(LedgerEntry.account_id).is_not(None), is_royalty | is_split)
        .group_by(month, LedgerEntry.currency).order_by(month, LedgerEntry.currency)).all()
    return [{"month": m, "royalties_cents": int(r or 0), "splits_cents": int(s or 0), "currency": c}
            for m, c, r, s in rows if (r or 0) or (s or 0)]


def _published():
    return and_(Work.status == WorkStatus.minted.value, col(Work.hidden_at).is_(None))


def co_creation(*, session: Session) -> list[Row]:
    """Of the published works (minted, not hidden): how many are co-created (two or more creators, every one
    accepted: the list their sales are split by), made across disciplines (co-created, and its creators' disciplines
    as the collaboration network gives them are not all one) and made across organisations (co-created, its
    creators belong to two or more organisations between them and no organisation has all of them as members).
    Each with its share of the published works in basis points, rounded half up."""
    total = int(session.exec(select(func.count()).select_from(Work).where(_published())).one())
    listed = select(WorkCollaborator.work_id).group_by(WorkCollaborator.work_id).having(func.count() > 1)
    candidates = list(session.exec(select(Work).where(_published(), col(Work.id).in_(listed))).all())
    crews = {work_id: [a for a, _ in shares]
             for work_id, shares in catalog_service.creator_shares(session, candidates).items() if len(shares) > 1}
    discipline = {int(n.id[1:]): n.discipline for n in network_service.build_network(session).nodes
                  if n.id.startswith("a")} if crews else {}
    organisations: dict[int, set[int]] = defaultdict(set)
    for org_id, account_id, _role in organisations_service.all_memberships(session):
        organisations[account_id].add(org_id)

    def across_disciplines(crew: list[int]) -> bool:
        return len({discipline.get(a) for a in crew} - {None}) > 1

    def across_organisations(crew: list[int]) -> bool:
        every = set().union(*(organisations[a] for a in crew))
        return len(every) > 1 and not set.intersection(*(organisations[a] for a in crew))

    counts = {"co_created": len(crews),
              "across_disciplines": sum(across_disciplines(c) for c in crews.values()),
              "across_organisations": sum(across_organisations(c) for c in crews.values())}
    return [{"measure": m, "works": n, "of_works": total, "share_bps": share_bps(n, total)} for m, n in counts.items()]


def calls(*, session: Session) -> list[Row]:
    """Open calls by the month they were posted: posted, answered (at least one proposal submitted by its whole
    team) and awarded (a proposal was awarded; paid and delivered calls included)."""
    month = month_of(session, Call.created_at)
    answered = exists().where(Proposal.call_id == Call.id, col(Proposal.submitted_at).is_not(None))
    awarded = col(Call.awarded_proposal_id).is_not(None)
    rows = session.exec(select(month, func.count(), func.sum(case((answered, 1), else_=0)),
                               func.sum(case((awarded, 1), else_=0)))
                        .group_by(month).order_by(month)).all()
    return [{"month": m, "posted": int(p), "answered": int(a or 0), "awarded": int(w or 0)} for m, p, a, w in rows]


def time_to_first_sale(*, session: Session) -> list[Row]:
    """How long works wait for their first sale: from the upload (the work's created_at) to the delivery of its
    first delivered first sale, in whole seconds (rounded down); the median of those (README: the middle one, or
    the mean of the two middle ones rounded half up), in hours and in days rounded half up. One row for every
    work (`discipline` = `all`), then one per discipline with a sold work, in the product's order."""
    first = (select(Purchase.work_id, func.min(Purchase.delivered_at).label("first_at"))
             .where(_sales(), Purchase.kind == PurchaseKind.primary.value).group_by(Purchase.work_id).subquery())
    rows = session.exec(select(Work.discipline, Work.created_at, first.c.first_at)
                        .join(first, first.c.work_id == col(Work.id))).all()
    by: dict[str, list[int]] = defaultdict(list)
    for discipline, created_at, first_at in rows:
        seconds = max(0, int((_naive(first_at) - _naive(created_at)).total_seconds()))
        by["all"].append(seconds)
        by[discipline].append(seconds)
    order = {d: i for i, d in enumerate(DISCIPLINES)}
    keys = ["all", *sorted((d for d in by if d != "all"), key=lambda d: (order.get(d, len(order)), d))]
    out = []
    for key in keys:
        median = median_seconds(by[key])
        out.append({"discipline": key, "works": len(by[key]), "median_seconds": median,
                    "median_hours": round_half_up(median, SECONDS_PER_HOUR),
                    "median_days": round_half_up(median, SECONDS_PER_DAY)})
    return out


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo else moment  # both stored as UTC


def payouts(*, session: Session) -> list[Row]:
    """Euros paid out to creators through Stripe Connect, by the month Stripe made them (settled_at): transfers
    made (`paid`) of creators' credits (a sale's share, a royalty), reversals made (`reversed`, negative) of their
    refunds, and the net; resale sellers' payouts are not counted. Amounts as they went through Stripe."""
    month = month_of(session, Payout.settled_at)
    made = col(Payout.status).in_((PayoutStatus.paid.value, PayoutStatus.reversed.value))
    is_transfer = Payout.kind == PayoutKind.transfer.value
    rows = session.exec(
        select(month, Payout.currency,
               func.sum(case((is_transfer, Payout.stripe_cents), else_=0)),
               func.sum(case((is_transfer, 0), else_=Payout.stripe_cents)),
               func.sum(case((is_transfer, 1), else_=0)))
        .join(LedgerEntry, col(LedgerEntry.id) == col(Payout.ledger_entry_id))
        .where(made, col(Payout.settled_at).is_not(None), col(LedgerEntry.entry_type).in_(CREATOR_ENTRIES))
        .group_by(month, Payout.currency).order_by(month, Payout.currency)).all()
    return [{"month": m, "transfers": int(n or 0), "paid_cents": int(p or 0), "reversed_cents": int(r or 0),
             "net_cents": int(p or 0) + int(r or 0), "currency": c} for m, c, p, r, n in rows]


# ------------------------------------------------------------------------------------------------ the registry
@dataclass(frozen=True)
class Figure:
    name: str
    compute: Callable[..., list[Row]]
    columns: tuple[str, ...]  # the rows' keys, in order (the CSV's header)


FIGURES: dict[str, Figure] = {f.name: f for f in (
    Figure("sales-by-month", sales_by_month, ("month", "count", "volume_cents", "currency", "on_chain_count")),
    Figure("sales-by-discipline", sales_by_discipline, ("discipline", "count", "volume_cents", "currency")),
    Figure("primary-vs-resale", primary_vs_resale, ("kind", "count", "volume_cents", "currency")),
    Figure("royalties-and-splits", royalties_and_splits, ("month", "royalties_cents", "splits_cents", "currency")),
    Figure("co-creation", co_creation, ("measure", "works", "of_works", "share_bps")),
    Figure("calls", calls, ("month", "posted", "answered", "awarded")),
    Figure("time-to-first-sale", time_to_first_sale,
           ("discipline", "works", "median_seconds", "median_hours", "median_days")),
    Figure("payouts", payouts, ("month", "transfers", "paid_cents", "reversed_cents", "net_cents", "currency")),
)}


def get_figure_or_raise(name: str) -> Figure:
    found = FIGURES.get(name)
    if found is None:
        raise NotFound(f"No such figure: the figures are {', '.join(FIGURES)}")
    return found


def figure(*, session: Session, name: str, since: str | None = None, until: str | None = None) -> list[Row]:
    """The rows of one figure by its public name (NotFound for another name); a figure by month keeps only the
    months from `since` to `until` (`YYYY-MM`, both included) when given."""
    return in_months(get_figure_or_raise(name).compute(session=session), since=since, until=until)


def in_months(rows: list[Row], *, since: str | None = None, until: str | None = None) -> list[Row]:
    """The rows whose `month` is within [since, until] (`YYYY-MM` compare as text); rows without a month, all."""
    return [row for row in rows if "month" not in row or (
        (since is None or str(row["month"]) >= since) and (until is None or str(row["month"]) <= until))]


def all_figures(*, session: Session) -> dict[str, list[Row]]:
    return {name: f.compute(session=session) for name, f in FIGURES.items()}


def to_csv(found: Figure, rows: list[Row]) -> str:
    """The rows as CSV (RFC 4180, CRLF line ends): a header of the figure's columns, then one line per row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(found.columns)
    for row in rows:
        writer.writerow([row[c] for c in found.columns])
    return out.getvalue()
