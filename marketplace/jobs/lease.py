"""The job helper every worker shares: claim rows with a lease, release them, retry them later with backoff, settle.

A job is a row of a domain's own table (`mint_job`, `purchase`, ...) with `claimed_by` and `claimed_until`
columns; the domain says which rows are ready (`ready`, a condition on its table) and what settling means (the
states it moves between). The helper only writes those rows' lease, retry and state columns, inside the session
the domain's worker gives it, so the domain stays the one owner of its table and decides when to commit.

- claim: read the oldest ready ids whose lease is free, then take them in one guarded UPDATE ... RETURNING that
  re-checks each row (a concurrent claim waits for SQLite's one writer, then finds the condition false): no row is
  ever taken twice. Reading first keeps an idle worker from taking SQLite's write lock. On PostgreSQL the read is
  `SELECT ... FOR UPDATE SKIP LOCKED`: the rows another process is claiming right now are passed over rather than
  waited for, so workers in several processes take disjoint batches at once (the guarded UPDATE stays: a row
  whose lock was released between the two statements is still re-checked).
- release: let this worker's claims go (at once, or not before `hold` has passed).
- retry_later: give the claims back with an error and a backoff that doubles with every attempt (capped).
- settle: the guarded state change (db.transition_rows) that also lets the claims go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, or_, update
from sqlmodel import Session, select

from marketplace.core.db import transition_rows, utcnow
from marketplace.core.observability import JOB_FAILURES

# the job kind of each job table (the metrics' `kind` label)
JOB_KINDS = {"mint_job": "mint", "purchase": "delivery", "payout": "payout", "mail_outbox": "mail",
             "token_withdrawal": "withdrawal"}


@dataclass(frozen=True)
class Backoff:
    """How long a job waits before its next attempt: base_s x 2^(attempts - 1), at most cap_s (base 0: at once)."""

    base_s: float = 0.0
    cap_s: float = 60.0

    def delay(self, attempts: int) -> timedelta:
        if self.base_s <= 0 or attempts <= 0:
            return timedelta(0)
        return timedelta(seconds=min(self.cap_s, self.base_s * 2 ** min(attempts - 1, 30)))


def lease_free(table: Table, now: datetime) -> ColumnElement[bool]:
    return or_(table.c.claimed_until.is_(None), table.c.claimed_until < now)


def has_ready(session: Session, table: Table, *, ready: ColumnElement[bool], now: datetime | None = None) -> bool:
    """Is any row ready and unclaimed? (A read: an idle worker asks this before anything else.)"""
    now = now or utcnow()
    return session.scalars(select(table.c.id).where(ready, lease_free(table, now)).limit(1)).first() is not None


def claim(session: Session, table: Table, *, ready: ColumnElement[bool], worker: str, lease: timedelta, limit: int,
          returning: Sequence[Any] | None = None, entity: type | None = None,
          now: datetime | None = None) -> list[Any]:
    """Take up to `limit` ready rows, oldest first, for `lease`. Returns them sorted by id, as RETURNING gives
    them: the columns of `returning` (by default the whole row), or objects of the mapped class `entity` (not
    synchronised with the session: plain snapshots). Nothing is committed here."""
    now = now or utcnow()
    claimable = ready & lease_free(table, now)
    candidates_q = select(table.c.id).where(claimable).order_by(table.c.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates_q = candidates_q.with_for_update(skip_locked=True, of=table)
    candidates = list(session.scalars(candidates_q).all())
    if not candidates:
        return []
    if entity is not None:
        rows = session.scalars(
            update(entity).where(table.c.id.in_(candidates), claimable)
            .values(claimed_by=worker, claimed_until=now + lease)
            .returning(entity).execution_options(synchronize_session=False)).all()
    else:
        rows = session.execute(
            update(table).where(table.c.id.in_(candidates), claimable)
            .values(claimed_by=worker, claimed_until=now + lease)
            .returning(*(returning if returning is not None else table.c))).all()
    return sorted(rows, key=lambda row: row.id)


def release(session: Session, table: Table, ids: Sequence[int] | None, *, worker: str | None,
            where: ColumnElement[bool] | None = None, hold: timedelta | None = None, **values: Any) -> int:
    """Let claims go: those of `worker` (None: whoever holds them) on `ids` (None: all of the worker's), optionally
    only where `where` holds. `hold`: not claimable again before it has passed. `values`: other columns to set."""
    conditions = [table.c.id.in_(list(ids))] if ids is not None else []
    if worker is not None:
        conditions.append(table.c.claimed_by == worker)
    if where is not None:
        conditions.append(where)
    until = utcnow() + hold if hold else None
    return session.execute(update(table).where(*conditions)
                           .values(claimed_by=None, claimed_until=until, **values)).rowcount


def retry_later(session: Session, table: Table, ids: Sequence[int], *, attempts: int, backoff: Backoff,
                error: str, where: ColumnElement[bool] | None = None, **values: Any) -> int:
    """Give rows back for another attempt after backoff.delay(attempts), with why the last one failed."""
    conditions = [table.c.id.in_(list(ids))]
    if where is not None:
        conditions.append(where)
    delay = backoff.delay(attempts)
    now = utcnow()
    JOB_FAILURES.labels(JOB_KINDS.get(table.name, table.name)).inc()
    return session.execute(update(table).where(*conditions).values(
        claimed_by=None, claimed_until=now + delay if delay else None, last_error=error[:500], updated_at=now,
        **values)).rowcount


def settle(session: Session, table: Table, ids: Sequence[int], *, from_: Sequence[str], to: str,
           **values: Any) -> list[int]:
    """Move claimed rows to their next state and let their claims go: db.transition_rows (guarded, once)."""
    return transition_rows(session, table, ids, from_=from_, to=to, claimed_by=None, claimed_until=None, **values)
