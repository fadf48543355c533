"""Each signer key's nonces, shared by every process on one PostgreSQL database (the `signer_nonce` table).

One process alone keeps a key's next nonce in memory (integrations.chain.client.Signer: a lock, a counter seeded
from the node's pending count). Two processes signing with the same key would both read the same pending count
and sign two transactions with one nonce. With SharedNonces (wired in when DATABASE_URL is PostgreSQL) the counter
is a row instead, taken `FOR UPDATE` in its own short transaction for each nonce:

- take: the row's next nonce (the node's pending count when the row has none yet, or after a reset), +1. A nonce
  handed back (free) before is taken first, so a gap is filled before the counter moves on;
- free(nonce): a nonce taken for a transaction that will never be sent (recording it failed, the claim was lost):
  when nobody took a later one the counter steps back, else it is kept in `free_nonces` for the next take (never
  re-read from the node: a later nonce another process signed may not have reached it yet);
- reset: forget the counter (the next take reads the pending count again): after a chain rewind, a lost
  transaction, "nonce too low". As with one process, a reset while another transaction of the key is signed but
  not yet sent can give that nonce out twice: the node refuses the second (or it replaces the first, whose
  recorded hash then counts as lost), and the workers' state machines retry it.

SQLite (one process) keeps the in-memory counter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import BigInteger, String, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, Session, SQLModel

from marketplace.core import db


class SignerNonce(SQLModel, table=True):
    """A signer key's next nonce across processes (PostgreSQL only)."""

    __tablename__ = "signer_nonce"

    address: str = Field(primary_key=True, max_length=42)
    next_nonce: int | None = Field(default=None, sa_type=BigInteger)  # None: read the node's pending count
    free_nonces: str = Field(default="", sa_type=String(2000))  # nonces handed back, comma-separated
    updated_at: datetime = Field(default_factory=db.utcnow)


_T = SignerNonce.__table__


def _parse(free: str) -> list[int]:
    return sorted(int(n) for n in free.split(",") if n)


def _join(nonces: list[int]) -> str:
    return ",".join(str(n) for n in sorted(set(nonces)))


class SharedNonces:
    """The nonce source of every Signer of a process on PostgreSQL (see the module's text)."""

    def _row(self, session: Session, address: str):
        session.execute(insert(_T).values(address=address, next_nonce=None, free_nonces="", updated_at=db.utcnow())
                        .on_conflict_do_nothing(index_elements=[_T.c.address]))
        return session.execute(select(_T.c.next_nonce, _T.c.free_nonces).where(_T.c.address == address)
                               .with_for_update()).one()

    def take(self, address: str, pending: Callable[[], int]) -> int:
        with Session(db.get_engine()) as session:
            row = self._row(session, address)
            free = _parse(row.free_nonces)
            if row.next_nonce is None:
                nonce, following, free = pending(), None, []
            elif free:
                nonce, following, free = free[0], row.next_nonce, free[1:]
            else:
                nonce, following = row.next_nonce, None
            session.execute(update(_T).where(_T.c.address == address).values(
                next_nonce=following if following is not None else nonce + 1, free_nonces=_join(free),
                updated_at=db.utcnow()))
            session.commit()
        return nonce

    def free(self, address: str, nonce: int) -> None:
        with Session(db.get_engine()) as session:
            row = self._row(session, address)
            if row.next_nonce is None or nonce >= row.next_nonce:
                pass  # reset since (the pending count is read again) or never given out: nothing to keep
            elif nonce == row.next_nonce - 1:
                free = [n for n in _parse(row.free_nonces) if n < nonce]
                following = nonce
                while free and free[-1] == following - 1:  # the freed ones just below step back too
                    following = free.pop()
                session.execute(update(_T).where(_T.c.address == address).values(
                    next_nonce=following, free_nonces=_join(free), updated_at=db.utcnow()))
            else:
                session.execute(update(_T).where(_T.c.address == address).values(
                    free_nonces=_join([*_parse(row.free_nonces), nonce]), updated_at=db.utcnow()))
            session.commit()

    def reset(self, address: str) -> None:
        with Session(db.get_engine()) as session:
            session.execute(update(_T).where(_T.c.address == address).values(
                next_nonce=None, free_nonces="", updated_at=db.utcnow()))
            session.commit()
