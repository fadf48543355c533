"""The index of our contracts' events: what the rest of the product reads (who owns a token, a token's history,
an address's activity) and how the indexer worker writes it.

Owners shown anywhere come from here, never from the database's belief of what the product did: a token moved by
anyone (a `cast send` from a custody key, the holder of an own wallet) is seen the same way as a delivery.

Writes are idempotent and guarded: events are inserted on their identity (block hash, log index), so reading a
block again adds nothing; each step moves the cursor only from where it read it (a compare-and-set taken first, so
two indexers, in two processes, never both apply one step). Other domains learn of transfers through handlers
(register_transfer_handler) run inside the indexer's transaction: what they change commits with the index, or not
at all (the step is retried).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import delete, func, insert, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from marketplace.core.db import utcnow
from marketplace.indexer.models import ChainEvent, IndexedBlock, IndexerCursor, TokenOwner
from marketplace.integrations.chain.client import ZERO_ADDRESS, BlockHeader, ChainLog

CURSOR_ID = 1
_CHUNK = 500  # rows per multi-row statement (13 columns: well inside SQLite's 32,766 bound parameters)
TRANSFER = "Transfer"
# which argument of an event names the address it moved from, and the one it went to (an address's activity)
_PARTIES: dict[str, tuple[str | None, str | None]] = {
    TRANSFER: ("from", "to"),
    "TokenRoyaltySet": (None, "receiver"),
    "Distributed": ("split", None),
    "Withdrawn": (None, "account"),
}
_JS_SAFE_INT = 2**53  # larger integers go into the JSON as strings (browsers read JSON numbers as doubles)

TransferHandler = Callable[[Session, int, str, str, "ChainEvent | None"], None]
_transfer_handlers: list[TransferHandler] = []


def register_transfer_handler(fn: TransferHandler) -> None:
    """Call fn(session, token_id, from_address, to_address, event) in the indexer's transaction for each Transfer
    newly indexed (once per event, however often its block is read), and after a reorganisation for each token
    whose owner it changed (event None; to_address the zero address when the token no longer exists). Raising
    rolls the whole step back: it is retried. Registering the same function again changes nothing."""
    if fn not in _transfer_handlers:
        _transfer_handlers.append(fn)


# ---------------------------------------------------------------------- reads
def get_cursor(session: Session) -> IndexerCursor | None:
    return session.get(IndexerCursor, CURSOR_ID)


def owner_of(session: Session, token_id: int) -> str | None:
    """The token's holder as the indexed Transfers say; None: not indexed (yet), or no such token."""
    row = session.get(TokenOwner, str(token_id))
    return row.owner_address if row is not None else None


def owners_of(session: Session, token_ids: Sequence[int | str]) -> dict[int, str]:
    """owner_of for many tokens at once (token id -> holder; tokens not indexed are missing)."""
    ids = [str(t) for t in token_ids]
    if not ids:
        return {}
    rows = session.exec(select(TokenOwner).where(col(TokenOwner.token_id).in_(ids))).all()
    return {int(row.token_id): row.owner_address for row in rows}


def tokens_of(session: Session, address: str | Sequence[str]) -> list[int]:
    """The tokens the index says this address (or any of these addresses) holds, the latest arrival first."""
    addresses = _checksummed([address] if isinstance(address, str) else address)
    if not addresses:
        return []
    rows = session.exec(select(TokenOwner.token_id).where(col(TokenOwner.owner_address).in_(addresses))
        .order_by(col(TokenOwner.block_number).desc(), col(TokenOwner.log_index).desc())).all()
    return [int(token_id) for token_id in rows]


def moved_away(session: Session, token_id: int, holder: str) -> bool:
    """Does the index know the token is held by someone other than `holder`? (Not indexed yet: no.)"""
    owner = owner_of(session, token_id)
    return owner is not None and owner.lower() != holder.lower()


def token_transfers(session: Session, token_id: int) -> list[ChainEvent]:
    """A token's indexed Transfer events, oldest first."""
    return list(session.exec(select(ChainEvent).where(
        ChainEvent.token_id == str(token_id), ChainEvent.event == TRANSFER)
        .order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))).all())


def known_token(session: Session, token_id: int) -> bool:
    return session.exec(select(ChainEvent.id).where(ChainEvent.token_id == str(token_id)).limit(1)).first() is not None


def address_events(session: Session, addresses: Sequence[str], *, events: Sequence[str] | None = None,
                   offset: int = 0, limit: int = 20) -> tuple[list[ChainEvent], int]:
    """The indexed events naming any of these addresses (as sender or receiver), of these kinds (None: all),
    newest first, and their count."""
    wanted = _checksummed(addresses)
    if not wanted:
        return [], 0
    where = or_(col(ChainEvent.from_address).in_(wanted), col(ChainEvent.to_address).in_(wanted))
    if events is not None:
        where = where & col(ChainEvent.event).in_(list(events))
    count = session.exec(select(func.count()).select_from(ChainEvent).where(where)).one()
    rows = session.exec(select(ChainEvent).where(where).order_by(
        col(ChainEvent.block_number).desc(), col(ChainEvent.log_index).desc()).offset(offset).limit(limit)).all()
    return list(rows), count


def _checksummed(addresses: Sequence[str | None]) -> list[str]:
    """The index stores addresses checksummed, as the chain's events decode: compare the same spelling."""
    return [to_checksum_address(a) for a in addresses if a]


def event_args(event: ChainEvent) -> dict[str, Any]:
    return json.loads(event.args)


# ---------------------------------------------------------------------- writes (the worker's)
@dataclass(frozen=True)
class Step:
    """What one read of the chain found: the blocks [start, end.number], the headers of the blocks holding events
    (and of `end`), and the decoded events."""

    start: int
    end: BlockHeader
    headers: dict[int, BlockHeader]
    logs: list[ChainLog]


def record_step(session: Session, *, cursor: IndexerCursor | None, contract_address: str, step: Step,
                keep_blocks: int) -> int | None:
    """Store one step: its blocks, its events (new ones only), the owners they give, and the cursor at its end.
    None when another indexer moved the cursor first (nothing written: roll back). Returns how many events were new.

    Set-based: the blocks, the events and the owners each go in one executemany (a step holds up to thousands of
    events). The transfer handlers then hear of each new Transfer in chain order, with every owner of the step
    already stored (a handler reading an owner reads the step's end state)."""
    if not _move_cursor(session, cursor, contract_address=contract_address, number=step.end.number,
                        block_hash=step.end.hash):
        return None
    _upsert_blocks(session, {**step.headers, step.end.number: step.end}.values())
    rows = [_event_values(log, step.headers[log.block_number]) for log in step.logs]
    fresh = _insert_new_events(session, rows)
    transfers = [ChainEvent(**row) for row in rows if row["event"] == TRANSFER and row["token_id"] is not None
                 and (row["block_hash"], row["log_index"]) in fresh]
    _give(session, transfers)
    for event in transfers:
        for handler in _transfer_handlers:
            handler(session, int(event.token_id), event.from_address, event.to_address, event)
    session.exec(delete(IndexedBlock).where(col(IndexedBlock.number) < step.end.number - keep_blocks))
    return len(fresh)


def recent_blocks(session: Session, *, at_most: int, limit: int) -> list[IndexedBlock]:
    """The stored blocks at or below `at_most`, newest first: where a reorganisation's common ancestor is sought."""
    return list(session.exec(select(IndexedBlock).where(col(IndexedBlock.number) <= at_most)
                             .order_by(col(IndexedBlock.number).desc()).limit(limit)).all())


def rewind(session: Session, *, cursor: IndexerCursor, to_number: int, to_hash: str) -> dict[int, tuple[str, str]] | None:
    """Undo everything above block `to_number` (a reorganisation took it): its events and blocks go, each affected
    token's owner is derived again from the Transfers that remain, the cursor goes back to (to_number, to_hash),
    and the handlers hear of every owner that changed. None when another indexer moved the cursor first. Returns
    token id -> (owner before, owner now; the zero address for none)."""
    if not _move_cursor(session, cursor, contract_address=cursor.contract_address, number=to_number,
                        block_hash=to_hash, reorg=True):
        return None
    affected = session.exec(select(ChainEvent.token_id).where(
        ChainEvent.event == TRANSFER, col(ChainEvent.block_number) > to_number,
        col(ChainEvent.token_id).is_not(None)).distinct()).all()
    session.exec(delete(ChainEvent).where(col(ChainEvent.block_number) > to_number))
    session.exec(delete(IndexedBlock).where(col(IndexedBlock.number) > to_number))
    changed: dict[int, tuple[str, str]] = {}
    for token_id in affected:
        before = session.get(TokenOwner, token_id)
        was = before.owner_address if before is not None else ZERO_ADDRESS
        latest = session.exec(select(ChainEvent).where(ChainEvent.token_id == token_id, ChainEvent.event == TRANSFER)
                              .order_by(col(ChainEvent.block_number).desc(), col(ChainEvent.log_index).desc())
                              .limit(1)).first()
        if latest is None:
            session.exec(delete(TokenOwner).where(TokenOwner.token_id == token_id))
            now = ZERO_ADDRESS
        else:
            session.exec(update(TokenOwner).where(TokenOwner.token_id == token_id).values(
                owner_address=latest.to_address, block_number=latest.block_number, log_index=latest.log_index,
                updated_at=utcnow()))
            now = latest.to_address
        if now != was:
            changed[int(token_id)] = (was, now)
            for handler in _transfer_handlers:
                handler(session, int(token_id), was, now, None)
    return changed


def reset(session: Session) -> None:
    """Forget the whole index (another contract than the one it was read from): the worker reads it again."""
    for table in (ChainEvent, TokenOwner, IndexedBlock, IndexerCursor):
        session.exec(delete(table))


def _move_cursor(session: Session, cursor: IndexerCursor | None, *, contract_address: str, number: int,
                 block_hash: str, reorg: bool = False) -> bool:
    """Compare-and-set of the cursor: from where this step read it, or created by the first step."""
    values: dict[str, Any] = {"block_number": number, "block_hash": block_hash, "updated_at": utcnow()}
    if cursor is None:
        return _insert_new(session, IndexerCursor, dict(id=CURSOR_ID, contract_address=contract_address, **values))
    if reorg:
        values["reorgs"] = IndexerCursor.reorgs + 1
    moved = session.exec(update(IndexerCursor).where(
        IndexerCursor.id == CURSOR_ID, IndexerCursor.block_number == cursor.block_number,
        IndexerCursor.block_hash == cursor.block_hash).values(**values))
    return moved.rowcount == 1


def _give(session: Session, transfers: Sequence[ChainEvent]) -> None:
    """Each token's owner is the receiver of its latest Transfer, these new ones and the indexed ones alike (a
    Transfer older than the stored owner's changes nothing)."""
    latest: dict[str, ChainEvent] = {}
    for event in transfers:
        seen = latest.get(event.token_id)
        if seen is None or (event.block_number, event.log_index) > (seen.block_number, seen.log_index):
            latest[event.token_id] = event
    stored: dict[str, tuple[int, int]] = {}
    ids = list(latest)
    for start in range(0, len(ids), _CHUNK):
        stored.update((token_id, (number, index)) for token_id, number, index in session.exec(
            select(TokenOwner.token_id, TokenOwner.block_number, TokenOwner.log_index)
            .where(col(TokenOwner.token_id).in_(ids[start:start + _CHUNK]))).all())
    now = utcnow()
    rows = [{"token_id": token_id, "owner_address": event.to_address, "block_number": event.block_number,
             "log_index": event.log_index, "updated_at": now} for token_id, event in latest.items()
            if token_id not in stored or (event.block_number, event.log_index) > stored[token_id]]
    if new := [row for row in rows if row["token_id"] not in stored]:
        session.execute(insert(TokenOwner), new)
    if moved := [row for row in rows if row["token_id"] in stored]:
        session.execute(update(TokenOwner), moved)  # by primary key, one executemany


def _event_values(log: ChainLog, header: BlockHeader) -> dict[str, Any]:
    """The chain_event row of one decoded event (its columns, no id)."""
    sender, receiver = _PARTIES.get(log.event, (None, None))
    token_id = log.args.get("tokenId")
    return {"block_number": log.block_number, "block_hash": log.block_hash, "log_index": log.log_index,
            "tx_hash": log.tx_hash, "contract_address": log.contract, "event": log.event,
            "token_id": str(token_id) if isinstance(token_id, int) else None,
            "from_address": log.args.get(sender) if sender else None,
            "to_address": log.args.get(receiver) if receiver else None,
            "args": json.dumps(_jsonable(log.args), sort_keys=True),
            "timestamp": datetime.fromtimestamp(header.timestamp, UTC)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_JS_SAFE_INT < value < _JS_SAFE_INT else str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _insert_new(session: Session, model: type, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: did this row go in (no row with its unique key existed)?"""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = model.__table__
    inserted = session.execute(dialect.insert(table).values(**values).on_conflict_do_nothing()
                               .returning(*table.primary_key.columns))  # rowcount: -1 on PostgreSQL here
    return inserted.first() is not None


def _insert_new_events(session: Session, rows: Sequence[dict[str, Any]]) -> set[tuple[str, int]]:
    """INSERT ... ON CONFLICT DO NOTHING of events, one executemany (SQLAlchemy sends it as multi-row INSERTs with
    RETURNING): the (block hash, log index) of those that went in (an event indexed before is left as it is)."""
    if not rows:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ChainEvent.__table__
    statement = dialect.insert(table).on_conflict_do_nothing().returning(table.c.block_hash, table.c.log_index)
    return {(block_hash, log_index) for block_hash, log_index in session.execute(statement, list(rows))}


def _upsert_blocks(session: Session, headers: Iterable[BlockHeader]) -> None:
    """The blocks read, inserted or replaced (a block number read again after a reorganisation), one executemany."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(IndexedBlock.__table__)
    statement = statement.on_conflict_do_update(index_elements=["number"], set_={
        name: statement.excluded[name] for name in ("hash", "parent_hash", "timestamp")})
    rows = [{"number": header.number, "hash": header.hash, "parent_hash": header.parent_hash,
             "timestamp": datetime.fromtimestamp(header.timestamp, UTC)} for header in headers]
    if rows:
        session.execute(statement, rows)
