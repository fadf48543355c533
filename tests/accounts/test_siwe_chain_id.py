"""SIWE fails closed without a known chain id: with neither CHAIN_ID nor a chain configured, no message is written
(the nonce endpoint and the account page's message endpoint answer 503 and say why) and none is accepted (linking
answers 503 and links nothing), instead of writing chain id 1 and skipping the check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from marketplace.accounts import siwe
from marketplace.accounts.models import LinkedWallet, SiweNonce
from marketplace.core import db
from tests.conftest import Api
from tests.resale.wallet_helpers import WALLET, sign, stamp
from tests.web.helpers import csrf_from

pytestmark = [pytest.mark.chain]


def _message(chain_id: int, nonce: str) -> str:
    now = datetime.now(UTC)
    return siwe.render(siwe.SiweMessage(
        domain="testserver", address=WALLET.address, statement="Link this wallet to my account.",
        uri="http://testserver/account", chain_id=chain_id, nonce=nonce, issued_at=stamp(now),
        expiration_time=stamp(now + timedelta(minutes=5))))


def test_without_a_known_chain_id_no_message_is_written_and_none_links(make_client):
    client = make_client(contract_address=None, chain_id=None)
    assert client.app.state.services.chain is None
    api = Api(client)
    me = api.register(role="buyer")
    with Session(db.get_engine()) as session:
        before = len(session.exec(select(SiweNonce)).all())

    r = client.get("/api/auth/siwe/nonce", headers=me["headers"])
    assert r.status_code == 503, r.text
    assert "chain id" in r.json()["detail"]

    # the account page's message endpoint says so too (it used to write "Chain ID: 1")
    browser = TestClient(client.app, base_url=str(client.base_url), follow_redirects=False)
    browser.cookies.set("mp_session", me["headers"]["Authorization"].split()[1])
    token = csrf_from(browser.get("/signin").text)
    r = browser.post("/account/wallets/message", data={"csrf_token": token, "address": WALLET.address})
    assert r.status_code == 503, r.text
    assert "chain id" in r.json()["detail"] and "message" not in r.json()
    with Session(db.get_engine()) as session:
        assert len(session.exec(select(SiweNonce)).all()) == before  # no nonce handed out

    # a message naming any chain (here 1, what the builder used to write) does not link
    with Session(db.get_engine()) as session:
        session.add(SiweNonce(nonce="f" * 24, account_id=me["id"], expires_at=db.utcnow() + timedelta(minutes=5),
                              created_at=db.utcnow()))
        session.commit()
    text = _message(1, "f" * 24)
    r = client.post("/api/me/wallets", json={"message": text, "signature": sign(text)}, headers=me["headers"])
    assert r.status_code == 503, r.text
    with Session(db.get_engine()) as session:
        assert session.exec(select(LinkedWallet).where(LinkedWallet.account_id == me["id"])).all() == []


def test_chain_id_set_without_a_chain_is_enough(make_client):
    client = make_client(contract_address=None, chain_id=31337)
    me = Api(client).register(role="buyer")
    r = client.get("/api/auth/siwe/nonce", headers=me["headers"])
    assert r.status_code == 200, r.text
    assert r.json()["chain_id"] == 31337
    wrong = _message(1, r.json()["nonce"])
    r = client.post("/api/me/wallets", json={"message": wrong, "signature": sign(wrong)}, headers=me["headers"])
    assert r.status_code == 400 and "chain" in r.json()["detail"]
    right = _message(31337, client.get("/api/auth/siwe/nonce", headers=me["headers"]).json()["nonce"])
    r = client.post("/api/me/wallets", json={"message": right, "signature": sign(right)}, headers=me["headers"])
    assert r.status_code == 201, r.text
