"""What the own-wallet tests do: ask a nonce, write the EIP-4361 message a wallet would be asked to sign, sign it
with a known key (personal_sign), link it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct
from sqlmodel import Session

from marketplace.accounts import siwe
from marketplace.core import db
from marketplace.payments.models import TokenWithdrawal
from tests.resale.helpers import wait_row

WALLET = EthAccount.from_key("0x" + "5e" * 32)  # the collector's own wallet (a key the platform never holds)
OTHER_WALLET = EthAccount.from_key("0x" + "6f" * 32)


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def nonce(shop, user: dict | None) -> dict:
    r = shop.client.get("/api/auth/siwe/nonce", headers=user["headers"] if user else {})
    assert r.status_code == 200, r.text
    return r.json()


def message(shop, user: dict | None, address: str, **fields) -> str:
    """The EIP-4361 text for `address`, naming what GET /api/auth/siwe/nonce says (fields override)."""
    given = nonce(shop, user)
    values = {"domain": given["domain"], "address": address, "statement": "Link this wallet to my account.",
              "uri": given["uri"], "chain_id": given["chain_id"], "nonce": given["nonce"],
              "issued_at": stamp(datetime.now(UTC)),
              "expiration_time": stamp(datetime.now(UTC) + timedelta(minutes=5))}
    values.update(fields)
    return siwe.render(siwe.SiweMessage(**values))


def sign(text: str, key=WALLET) -> str:
    return key.sign_message(encode_defunct(text=text)).signature.to_0x_hex()


def link(shop, user: dict, key=WALLET, **fields):
    text = message(shop, user, key.address, **fields)
    return shop.client.post("/api/me/wallets", json={"message": text, "signature": sign(text, key)},
                            headers=user["headers"])


def wallets(shop, user: dict) -> list[str]:
    r = shop.client.get("/api/me/wallets", headers=user["headers"])
    assert r.status_code == 200, r.text
    return [w["address"] for w in r.json()]


def withdrawal_row(withdrawal_id: int) -> TokenWithdrawal:
    with Session(db.get_engine()) as session:
        return session.get(TokenWithdrawal, withdrawal_id)


def wait_withdrawal(withdrawal_id: int, status: str, timeout: float = 30.0) -> TokenWithdrawal:
    return wait_row(TokenWithdrawal, withdrawal_id, status, timeout)


def link_directly(account_id: int, address: str) -> None:
    """A linked wallet written straight into the table (a fixture: for addresses no key signs for, such as a
    contract that refuses tokens)."""
    from eth_utils import to_checksum_address

    from marketplace.accounts.models import LinkedWallet

    with Session(db.get_engine()) as session:
        session.add(LinkedWallet(account_id=account_id, address=to_checksum_address(address), via="test"))
        session.commit()
