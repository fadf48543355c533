"""Custodial wallets: one key per account, derived on demand from the platform's WALLET_SECRET.

The key is HMAC-SHA256(secret, "custodial-wallet/v1/<account id>") reduced into the secp256k1 range. Only the
address is stored; the key exists in memory only while signing and is never logged or returned.
"""

from __future__ import annotations

import hashlib
import hmac

from eth_account import Account as EthAccount
from eth_account.signers.local import LocalAccount

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _derive_key(secret: str, account_id: int) -> bytes:
    digest = hmac.new(secret.encode(), f"custodial-wallet/v1/{account_id}".encode(), hashlib.sha256).digest()
    scalar = int.from_bytes(digest, "big") % (_SECP256K1_N - 1) + 1
    return scalar.to_bytes(32, "big")


def custodial_signer(secret: str, account_id: int) -> LocalAccount:
    """The signer of an account's custodial wallet (for delivery and transfers; never expose it)."""
    return EthAccount.from_key(_derive_key(secret, account_id))


def custodial_address(secret: str, account_id: int) -> str:
    return custodial_signer(secret, account_id).address

