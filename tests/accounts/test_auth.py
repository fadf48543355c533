from __future__ import annotations

from eth_utils import is_checksum_address
from sqlmodel import Session, select

from marketplace.accounts.models import Account, RevokedToken
from marketplace.accounts.wallets import custodial_address
from marketplace.core import db


def test_register_returns_user_with_custodial_wallet(client):
    r = client.post("/api/auth/register", json={
        "email": "Anna@Example.lu", "password": "s3cret-password", "display_name": "Anna", "role": "creator"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["email"] == "anna@example.lu"
    assert body["role"] == "creator"
    assert is_checksum_address(body["wallet_address"])
    assert body["wallet_address"] == body["custodial_address"]
    assert not any("key" in k.lower() or "password" in k.lower() for k in body)


def test_password_is_stored_as_argon2id_hash_and_wallet_key_is_not_stored(client):
    client.post("/api/auth/register", json={
        "email": "luc@example.lu", "password": "another-password", "display_name": "Luc", "role": "buyer"})
    with Session(db.get_engine()) as session:
        account = session.exec(select(Account).where(Account.email == "luc@example.lu")).one()
        row = {k: str(v) for k, v in account.model_dump().items()}
    assert row["password_hash"].startswith("$argon2id$")
    assert "another-password" not in " ".join(row.values())
    # the address is derived from the platform secret and the id; no column holds a key
    assert account.custodial_address == custodial_address(
        "dev-only-wallet-secret-do-not-use-in-production", account.id)
    assert not any("key" in column for column in row)


def test_sign_in_and_me(client):
    client.post("/api/auth/register", json={
        "email": "marie@example.lu", "password": "buyer-password", "display_name": "Marie", "role": "buyer"})
    token = client.post("/api/auth/token", data={"username": "marie@example.lu", "password": "buyer-password"})
    assert token.status_code == 200
    assert token.json()["token_type"] == "bearer"
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.status_code == 200
    assert me.json()["display_name"] == "Marie"
    assert is_checksum_address(me.json()["wallet_address"])


def test_wrong_password_and_missing_token_are_refused(client):
    client.post("/api/auth/register", json={
        "email": "x@example.lu", "password": "right-password", "display_name": "X", "role": "buyer"})
    r = client.post("/api/auth/token", data={"username": "x@example.lu", "password": "wrong-password"})
    assert r.status_code == 401
    assert r.json()["detail"] == "Incorrect e-mail or password"
    r = client.post("/api/auth/token", data={"username": "nobody@example.lu", "password": "whatever-pass"})
    assert r.status_code == 401
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_duplicate_email_conflicts(client):
    payload = {"email": "dup@example.lu", "password": "password-one", "display_name": "Dup", "role": "creator"}
    assert client.post("/api/auth/register", json=payload).status_code == 201
    again = client.post("/api/auth/register", json={**payload, "email": "DUP@example.lu"})
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]


def test_invalid_registration_fields_are_422(client):
    base = {"email": "ok@example.lu", "password": "long-enough", "display_name": "Ok", "role": "creator"}
    for bad in ({"email": "not-an-email"}, {"password": "short"}, {"display_name": "  "}, {"role": "wizard"}):
        r = client.post("/api/auth/register", json={**base, **bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["detail"]


def test_admin_cannot_self_register(client):
    r = client.post("/api/auth/register", json={
        "email": "root@example.lu", "password": "long-enough", "display_name": "Root", "role": "admin"})
    assert r.status_code == 403
    assert "operator" in r.json()["detail"]


def test_each_account_gets_a_distinct_wallet(api):
    a, b = api.register(role="creator"), api.register(role="buyer")
    assert a["wallet_address"] != b["wallet_address"]


def test_sign_out_revokes_that_token_only(client):
    client.post("/api/auth/register", json={
        "email": "paul@example.lu", "password": "paul-password", "display_name": "Paul", "role": "buyer"})

    def token() -> dict:
        r = client.post("/api/auth/token", data={"username": "paul@example.lu", "password": "paul-password"})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    laptop, phone = token(), token()
    assert client.post("/api/auth/signout", headers=laptop).status_code == 204
    assert client.get("/api/me", headers=laptop).status_code == 401
    assert client.get("/api/me", headers=phone).status_code == 200  # the other session stays signed in
    assert client.post("/api/auth/signout", headers=laptop).status_code == 401  # already signed out
    assert client.post("/api/auth/signout").status_code == 401
    with Session(db.get_engine()) as session:
        assert len(session.exec(select(RevokedToken)).all()) == 1


def test_signed_out_tokens_are_forgotten_once_they_would_have_expired(client):
    from datetime import timedelta

    from marketplace.accounts import security
    from marketplace.accounts import service as accounts_service

    secret = "a-test-secret-of-at-least-32-bytes-long"
    with Session(db.get_engine()) as session:
        session.add(RevokedToken(token_id="old", expires_at=db.utcnow() - timedelta(minutes=1)))
        session.commit()
        fresh = security.create_access_token(account_id=1, secret=secret, minutes=5)
        assert accounts_service.sign_out(session=session, token=fresh, secret=secret)
        assert not accounts_service.sign_out(session=session, token=fresh, secret=secret)  # twice: no change
        assert not accounts_service.sign_out(session=session, token="not-a-token", secret=secret)
        ids = [r.token_id for r in session.exec(select(RevokedToken)).all()]
    assert ids == [security.read_access_token(fresh, secret=secret).token_id]
