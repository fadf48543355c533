"""A token's history and an account's activity: the indexed Transfer events (the chain's word on who held the
token, whoever moved it), each told as what it was for the marketplace:

- from the zero address: `minted` (an edition minted to its buyer at sale carries its price);
- the delivery of a purchase here (its transaction and its buyer's wallet): `sold`, or `resold` for a resale
  (a purchase whose kind is `resale`), with what it cost;
- from an account's custody wallet to the wallet that account linked: `withdrawn`;
- anything else, made here or outside: `transferred`.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from marketplace.accounts import own_wallets
from marketplace.accounts.models import Account
from marketplace.catalog import service as catalog_service
from marketplace.catalog.models import Work
from marketplace.indexer import service as indexer_service
from marketplace.indexer.models import ChainEvent
from marketplace.integrations.chain.client import ZERO_ADDRESS
from marketplace.payments.models import Purchase
from marketplace.provenance.schemas import ActivityEntry, HistoryEntry, HistoryKind

RESALE = "resale"


def token_history(session: Session, token_id: int) -> list[HistoryEntry] | None:
    """The token's transfers, oldest first; None for a token neither the index nor the catalogue knows."""
    events = indexer_service.token_transfers(session, token_id)
    if not events and catalog_service.get_minted_by_token(session=session, token_id=token_id) is None:
        return None
    return _entries(session, events)


def account_activity(session: Session, account: Account, *, page: int, page_size: int
                     ) -> tuple[list[ActivityEntry], int]:
    """The transfers to and from the account's wallets (custody and linked), newest first, and their count."""
    wallets = own_wallets.holding_addresses(session=session, account=account)
    events, count = indexer_service.address_events(session, wallets, events=(indexer_service.TRANSFER,),
                                                   offset=(page - 1) * page_size, limit=page_size)
    mine = {w.lower() for w in wallets}
    token_ids = {e.token_id for e in events if e.token_id}
    works = {w.token_id: w.id for w in session.exec(select(Work).where(col(Work.token_id).in_(token_ids))).all()}
    return [ActivityEntry(**entry.model_dump(), token_id=event.token_id, work_id=works.get(event.token_id),
                          direction="in" if (event.to_address or "").lower() in mine else "out")
            for event, entry in zip(events, _entries(session, events), strict=True)], count


def _entries(session: Session, events: list[ChainEvent]) -> list[HistoryEntry]:
    tx_hashes = {e.tx_hash for e in events}
    sales = {(p.delivery_tx_hash, p.token_id, (p.wallet_address or "").lower()): p for p in session.exec(
        select(Purchase).where(col(Purchase.delivery_tx_hash).in_(tx_hashes))).all()} if tx_hashes else {}
    senders = {e.from_address for e in events if e.from_address and e.from_address != ZERO_ADDRESS}
    custody = {a.custodial_address: a for a in session.exec(
        select(Account).where(col(Account.custodial_address).in_(senders))).all()} if senders else {}
    holding = {account_id: {a.lower() for a in addresses} for account_id, addresses in
               own_wallets.holding_addresses_of(session=session, accounts=list(custody.values())).items()}
    entries = []
    for event in events:
        kind, price, currency = HistoryKind.transferred, None, None
        sale = sales.get((event.tx_hash, event.token_id, (event.to_address or "").lower()))
        owner = custody.get(event.from_address)
        if event.from_address == ZERO_ADDRESS:
            kind = HistoryKind.minted
            if sale is not None:  # an edition, minted to its buyer at sale: the mint carries what it cost
                price, currency = sale.amount_cents, sale.currency
        elif sale is not None:
            kind = HistoryKind.resold if getattr(sale, "kind", None) == RESALE else HistoryKind.sold
            price, currency = sale.amount_cents, sale.currency
        elif owner is not None and (event.to_address or "").lower() in holding[owner.id]:
            kind = HistoryKind.withdrawn  # from the account's custody wallet to one it linked
        entries.append(HistoryEntry(kind=kind, from_address=event.from_address, to_address=event.to_address,
                                    tx_hash=event.tx_hash, block_number=event.block_number,
                                    timestamp=event.timestamp, price_cents=price, currency=currency))
    return entries
