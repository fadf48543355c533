"""Own wallets: addresses a person proves are theirs by signing an EIP-4361 (Sign-In with Ethereum) message.

GET /api/auth/siwe/nonce hands out a nonce (random, single use, expiring); POST /api/me/wallets links the message's
address when the message is well formed, names this server's domain, origin, chain id and one of its live unused
nonces (the caller's: a nonce is handed out to a signed-in account only), is valid now, and its signature is the address's: an EOA's `personal_sign`
(recovered with eth_account), or, for an address with code, the contract's EIP-1271 `isValidSignature`. Anything
else is a BadRequest (400) and links nothing; an address linked to another account is a Conflict (409).

`account.linked_address` stays the account's first linked wallet (read by the API and older code).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from urllib.parse import urlsplit

from eth_utils import is_address, to_checksum_address
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.accounts import siwe
from marketplace.accounts.models import Account, LinkedWallet, SiweNonce
from marketplace.core.db import utcnow
from marketplace.core.exceptions import BadRequest, ChainUnavailable, Conflict, NotFound

NONCE_BYTES = 12  # 16 base62-ish characters from token_urlsafe would allow "-" and "_": hex of 12 bytes is 24 alnum


@dataclass(frozen=True)
class Expected:
    """What a message must name to be this server's."""

    domain: str  # the authority of PUBLIC_BASE_URL
    origin: str  # scheme://authority of PUBLIC_BASE_URL: the message's URI must be on it
    chain_id: int


def expected_of(public_base_url: str, chain_id: int) -> Expected:
    parts = urlsplit(public_base_url)
    return Expected(domain=parts.netloc, origin=f"{parts.scheme}://{parts.netloc}", chain_id=chain_id)


def expected_for(settings, chain) -> Expected:
    """What messages must name on this server: PUBLIC_BASE_URL's domain and origin, CHAIN_ID (else the node's).
    With neither (no CHAIN_ID, no chain configured) no chain id is known: ChainUnavailable (503), so no message is
    written for, and none is accepted from, a chain we cannot check (fail closed)."""
    chain_id = settings.chain_id
    if chain_id is None and chain is not None:
        chain_id = chain.chain_id()
    if chain_id is None:
        raise ChainUnavailable("No chain id is known (set CHAIN_ID or CONTRACT_ADDRESS): wallets cannot be linked")
    return expected_of(settings.public_base_url, chain_id)


def message_for(*, address: str, nonce: SiweNonce, expected: Expected, statement: str) -> str:
    """The EIP-4361 text the account page asks the browser's wallet to sign for `address` (valid while the nonce
    is)."""
    now = utcnow()
    return siwe.render(siwe.SiweMessage(
        domain=expected.domain, address=to_checksum_address(address), statement=statement,
        uri=expected.origin + "/account", chain_id=expected.chain_id, nonce=nonce.nonce,
        issued_at=_stamp(now), expiration_time=_stamp(nonce.expires_at)))


def _stamp(when) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def issue_nonce(*, session: Session, account_id: int, minutes: int) -> SiweNonce:
    """A fresh nonce of the account's; the expired ones (nobody can spend them any more) are purged on the way."""
    now = utcnow()
    session.execute(delete(SiweNonce).where(col(SiweNonce.expires_at) <= now))
    row = SiweNonce(nonce=secrets.token_hex(NONCE_BYTES), account_id=account_id,
                    expires_at=now + timedelta(minutes=minutes), created_at=now)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def linked_wallets(*, session: Session, account_id: int) -> list[LinkedWallet]:
    return list(session.exec(select(LinkedWallet).where(LinkedWallet.account_id == account_id)
                             .order_by(col(LinkedWallet.linked_at), col(LinkedWallet.id))).all())


def linked_addresses(*, session: Session, account_id: int) -> list[str]:
    return [wallet.address for wallet in linked_wallets(session=session, account_id=account_id)]


def holding_addresses(*, session: Session, account: Account) -> list[str]:
    """The addresses whose tokens are the account's: its custody wallet and every wallet it linked."""
    return holding_addresses_of(session=session, accounts=[account])[account.id]


def holding_addresses_of(*, session: Session, accounts: Sequence[Account]) -> dict[int, list[str]]:
    """holding_addresses of each account (by id), in one query for all of them."""
    linked: dict[int, list[str]] = {}
    if accounts:
        for account_id, address in session.exec(
                select(LinkedWallet.account_id, LinkedWallet.address)
                .where(col(LinkedWallet.account_id).in_([a.id for a in accounts]))
                .order_by(col(LinkedWallet.linked_at), col(LinkedWallet.id))).all():
            linked.setdefault(account_id, []).append(address)
    result: dict[int, list[str]] = {}
    for account in accounts:
        addresses = [account.custodial_address] if account.custodial_address else []
        for address in [*linked.get(account.id, []), account.linked_address]:
            if address and address not in addresses:
                addresses.append(address)
        result[account.id] = addresses
    return result


def owns_address(*, session: Session, account: Account, address: str) -> bool:
    """Is `address` the account's custody wallet or one of its linked wallets? (Case-insensitive.)"""
    return address.lower() in {a.lower() for a in holding_addresses(session=session, account=account)}


def _check_message(message: siwe.SiweMessage, expected: Expected) -> None:
    if message.domain != expected.domain:
        raise BadRequest("The message names another domain than this site's")
    uri = urlsplit(message.uri)
    if f"{uri.scheme}://{uri.netloc}" != expected.origin:
        raise BadRequest("The message's URI is not on this site")
    if message.chain_id != expected.chain_id:
        raise BadRequest("The message names another chain than this site's")
    if message.scheme is not None and message.scheme != urlsplit(expected.origin).scheme:
        raise BadRequest("The message names another scheme than this site's")
    now = utcnow()
    if not message.valid_at(now):
        raise BadRequest("The message has expired (or is not valid yet)")
    if message.issued_at_time() > now + timedelta(minutes=5):
        raise BadRequest("The message was issued in the future")


def signature_valid(text: str, address: str, signature: str, chain) -> bool:
    """An EOA's `personal_sign` of `text`, or, when `address` is a contract, its EIP-1271 yes."""
    if siwe.recover_eoa(text, signature) == address:
        return True
    if chain is None:
        return False
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        return False
    return chain.has_code(address) and chain.is_valid_signature(address, siwe.eip191_hash(text), raw)


def link_wallet(*, session: Session, account: Account, message: str, signature: str, expected: Expected,
                chain) -> tuple[LinkedWallet, bool]:
    """Link the signed message's address to the account. (The wallet, True when linked now; False: it was the
    account's already.) The nonce is spent in the same transaction as the link."""
    try:
        parsed = siwe.parse(message)
    except siwe.SiweError as exc:
        raise BadRequest(f"Not a well-formed EIP-4361 message: {exc}") from None
    _check_message(parsed, expected)
    row = session.get(SiweNonce, parsed.nonce)
    now = utcnow()
    if row is None or row.used_at is not None or row.expires_at <= now \
            or row.account_id != account.id:
        raise BadRequest("The message's nonce is unknown, used, expired or another account's")
    if not signature_valid(message, parsed.address, signature, chain):
        raise BadRequest("The signature is not the message's address's")
    address = to_checksum_address(parsed.address)
    existing = session.exec(select(LinkedWallet).where(LinkedWallet.address == address)).first()
    if existing is not None and existing.account_id != account.id:
        raise Conflict("This wallet is linked to another account")
    if address == account.custodial_address or session.exec(select(Account.id).where(
            Account.custodial_address == address, Account.id != account.id)).first() is not None:
        raise Conflict("This address is a custody wallet of the platform")
    spent = session.execute(update(SiweNonce).where(
        col(SiweNonce.nonce) == parsed.nonce, col(SiweNonce.used_at).is_(None), col(SiweNonce.expires_at) > now,
    ).values(used_at=now)).rowcount
    if spent != 1:
        session.rollback()
        raise BadRequest("The message's nonce is unknown, used, expired or another account's")
    if existing is not None:
        session.commit()
        return existing, False
    wallet = LinkedWallet(account_id=account.id, address=address, via="siwe", linked_at=now)
    session.add(wallet)
    if not account.linked_address:
        session.execute(update(Account).where(col(Account.id) == account.id).values(linked_address=address))
    try:
        session.commit()
    except IntegrityError:  # linked concurrently
        session.rollback()
        raise Conflict("This wallet is linked to another account") from None
    session.refresh(wallet)
    session.refresh(account)
    return wallet, True


def unlink_wallet(*, session: Session, account: Account, address: str) -> None:
    if not is_address(address):
        raise NotFound("No such linked wallet")
    address = to_checksum_address(address)
    wallet = session.exec(select(LinkedWallet).where(LinkedWallet.address == address,
                                                     LinkedWallet.account_id == account.id)).first()
    if wallet is None:
        raise NotFound("No such linked wallet")
    session.delete(wallet)
    session.flush()
    if account.linked_address == address:
        remaining = linked_addresses(session=session, account_id=account.id)
        session.execute(update(Account).where(col(Account.id) == account.id).values(
            linked_address=remaining[0] if remaining else None))
    session.commit()
    session.refresh(account)
