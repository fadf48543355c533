"""GET /api/auth/siwe/nonce: for signed-in accounts only (401 otherwise, nothing written), each nonce spendable by
its own account only, and expired nonces purged at expiry (the next nonce handed out deletes them)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from marketplace.accounts.models import LinkedWallet, SiweNonce
from marketplace.core import db
from tests.accounts.test_siwe_chain_id import _message
from tests.conftest import Api
from tests.resale.wallet_helpers import sign

pytestmark = [pytest.mark.chain]


def _count() -> int:
    with Session(db.get_engine()) as session:
        return session.exec(select(func.count()).select_from(SiweNonce)).one()


def test_nonces_are_for_signed_in_accounts_and_purged_at_expiry(make_client):
    client = make_client(contract_address=None, chain_id=31337)
    me = Api(client).register(role="buyer")
    before = _count()
    for _ in range(3):
        r = client.get("/api/auth/siwe/nonce")
        assert r.status_code == 401, r.text
    assert _count() == before  # a signed-out caller writes no row

    first = client.get("/api/auth/siwe/nonce", headers=me["headers"])
    assert first.status_code == 200, first.text
    with Session(db.get_engine()) as session:
        assert session.get(SiweNonce, first.json()["nonce"]).account_id == me["id"]
        # it expired a second ago
        session.execute(update(SiweNonce).where(col(SiweNonce.nonce) == first.json()["nonce"])
                        .values(expires_at=db.utcnow() - timedelta(seconds=1)))
        session.commit()
    second = client.get("/api/auth/siwe/nonce", headers=me["headers"])
    assert second.status_code == 200, second.text
    with Session(db.get_engine()) as session:
        assert session.get(SiweNonce, first.json()["nonce"]) is None  # purged at expiry, not a day later
        assert session.get(SiweNonce, second.json()["nonce"]) is not None


def test_a_nonce_of_nobody_links_nothing(make_client):
    client = make_client(contract_address=None, chain_id=31337)
    me = Api(client).register(role="buyer")
    with Session(db.get_engine()) as session:  # a row from before nonces needed an account
        session.add(SiweNonce(nonce="e" * 24, account_id=None, expires_at=db.utcnow() + timedelta(minutes=5),
                              created_at=db.utcnow()))
        session.commit()
    text = _message(31337, "e" * 24)
    r = client.post("/api/me/wallets", json={"message": text, "signature": sign(text)}, headers=me["headers"])
    assert r.status_code == 400 and "nonce" in r.json()["detail"], r.text
    with Session(db.get_engine()) as session:
        assert session.exec(select(LinkedWallet).where(LinkedWallet.account_id == me["id"])).all() == []
