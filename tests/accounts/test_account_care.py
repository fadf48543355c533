"""Accounts people expect, through the API with the real mail path: mails go over SMTP to the dev tools' mail
sink and are read back from it (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlmodel import Session, select

from marketplace.accounts.models import Account, AccountLink
from marketplace.core import db
from marketplace.core.db import utcnow
from marketplace.mail.models import MailOutbox
from tests.plugins.mail_fixtures import token_in

PASSWORD = "correct horse 1"


def _email(tag: str) -> str:
    return f"{tag}-{time.monotonic_ns()}@example.lu"


def _register(client, email: str, *, role: str = "buyer", password: str = PASSWORD) -> dict:
    r = client.post("/api/auth/register", json={"email": email, "password": password, "display_name": "Lea",
                                                 "role": role})
    assert r.status_code == 201, r.text
    return r.json()


def _token(client, email: str, password: str = PASSWORD) -> dict:
    r = client.post("/api/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_sign_up_mails_a_link_that_verifies_the_email_once(client, mail_sink):
    email = _email("verify")
    body = _register(client, email)
    assert body["email_verified"] is False
    [mail] = mail_sink.wait_for(to=email)
    assert mail["message_id"].startswith("<") and mail["subject"] == "Please confirm your e-mail address"
    token = token_in(mail, "/verify-email")
    r = client.post("/api/auth/verify-email", json={"token": token})
    assert r.status_code == 200, r.text
    assert r.json()["email_verified"] is True
    assert client.get("/api/me", headers=_token(client, email)).json()["email_verified"] is True
    assert client.post("/api/auth/verify-email", json={"token": token}).status_code == 400  # single use
    assert client.post("/api/auth/verify-email", json={"token": "made-up"}).status_code == 400


def test_resend_verification_replaces_the_old_link(client, mail_sink):
    email = _email("resend")
    _register(client, email)
    headers = _token(client, email)
    [first] = mail_sink.wait_for(to=email)
    assert client.post("/api/me/verification", headers=headers).status_code == 202
    second = mail_sink.wait_for(to=email, count=2)[1]
    assert client.post("/api/auth/verify-email", json={"token": token_in(first, "/verify-email")}).status_code == 400
    assert client.post("/api/auth/verify-email", json={"token": token_in(second, "/verify-email")}).status_code == 200


def test_password_reset_works_once_and_signs_out_the_other_sessions(client, mail_sink):
    email = _email("reset")
    _register(client, email)
    old_session = _token(client, email)
    r = client.post("/api/auth/password-reset", json={"email": email.upper()})
    assert r.status_code == 202
    mail = next(m for m in mail_sink.wait_for(to=email, count=2) if m["subject"] == "Reset your password")
    token = token_in(mail, "/reset-password")
    r = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": "a new password 2"})
    assert r.status_code == 204, r.text
    assert client.get("/api/me", headers=old_session).status_code == 401  # signed out
    assert client.post("/api/auth/token", data={"username": email, "password": PASSWORD}).status_code == 401
    me = client.get("/api/me", headers=_token(client, email, "a new password 2")).json()
    assert me["email_verified"] is True  # the link reached the address
    again = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": "third password 3"})
    assert again.status_code == 400
    assert "already used" in again.json()["detail"]
    _token(client, email, "a new password 2")


def test_an_expired_reset_link_is_refused(client, mail_sink):
    email = _email("expired")
    _register(client, email)
    assert client.post("/api/auth/password-reset", json={"email": email}).status_code == 202
    mail = next(m for m in mail_sink.wait_for(to=email, count=2) if m["subject"] == "Reset your password")
    assert "within 60 minutes" in mail["text"]
    with Session(db.get_engine()) as session:  # its time is up
        session.exec(update(AccountLink).where(AccountLink.purpose == "password_reset")
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    r = client.post("/api/auth/password-reset/confirm",
                    json={"token": token_in(mail, "/reset-password"), "password": "a new password 2"})
    assert r.status_code == 400
    _token(client, email)  # the old password still works


def test_reset_answers_the_same_with_or_without_an_account(client, mail_sink):
    known, unknown = _email("known"), _email("unknown")
    _register(client, known)
    mail_sink.wait_for(to=known)  # the verification mail
    a = client.post("/api/auth/password-reset", json={"email": known})
    b = client.post("/api/auth/password-reset", json={"email": unknown})
    assert (a.status_code, a.json()) == (b.status_code, b.json()) == (202, a.json())
    mail_sink.wait_for(to=known, count=2)
    with Session(db.get_engine()) as session:  # nothing was queued for the address without an account
        assert not session.exec(select(MailOutbox).where(MailOutbox.to_address == unknown)).all()
    assert mail_sink.messages(to=unknown) == []


def test_reset_requests_are_rate_limited(make_client):
    client = make_client(rate_limit_mail="2/hour")
    email = _email("limited")
    for _ in range(2):
        assert client.post("/api/auth/password-reset", json={"email": email}).status_code == 202
    r = client.post("/api/auth/password-reset", json={"email": email})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_change_of_email_is_confirmed_by_the_new_address_and_told_to_the_old(client, mail_sink):
    old, new = _email("old"), _email("new")
    _register(client, old)
    headers = _token(client, old)
    wrong = client.post("/api/me/email", headers=headers, json={"new_email": new, "password": "not it at all"})
    assert wrong.status_code == 400
    r = client.post("/api/me/email", headers=headers, json={"new_email": new, "password": PASSWORD})
    assert r.status_code == 202, r.text
    [confirm] = mail_sink.wait_for(to=new)
    assert client.get("/api/me", headers=headers).json()["email"] == old  # not before the link is followed
    r = client.post("/api/auth/confirm-email", json={"token": token_in(confirm, "/confirm-email")})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == new and r.json()["email_verified"] is True
    notice = [m for m in mail_sink.wait_for(to=old, count=2) if m["subject"] == "Your e-mail address was changed"]
    assert notice and new in notice[0]["text"]
    _token(client, new)
    assert client.post("/api/auth/token", data={"username": old, "password": PASSWORD}).status_code == 401
    taken = _email("taken")
    _register(client, taken)
    assert client.post("/api/me/email", headers=headers,
                       json={"new_email": taken, "password": PASSWORD}).status_code == 409


def test_change_of_password_needs_the_current_one_and_signs_out_other_tokens(client):
    email = _email("pw")
    _register(client, email)
    headers, other = _token(client, email), _token(client, email)
    r = client.post("/api/me/password", headers=headers,
                    json={"current_password": "wrong password", "new_password": "brand new pass 9"})
    assert r.status_code == 400
    r = client.post("/api/me/password", headers=headers,
                    json={"current_password": PASSWORD, "new_password": "brand new pass 9"})
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/me", headers=fresh).status_code == 200
    assert client.get("/api/me", headers=other).status_code == 401
    assert client.get("/api/me", headers=headers).status_code == 401
    _token(client, email, "brand new pass 9")


def test_sign_out_everywhere_revokes_the_other_session_cookie_and_bearer_token(make_live):
    live = make_live()
    email = _email("everywhere")
    _register(live.client, email, role="creator")
    bearer = _token(live.client, email)
    browser = httpx.Client(base_url=live.url, follow_redirects=False)
    page = browser.get("/signin")
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = browser.post("/signin", data={"email": email, "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 303
    assert browser.get("/studio").status_code == 200
    r = live.client.post("/api/me/signout-everywhere", headers=bearer)
    assert r.status_code == 204
    assert live.client.get("/api/me", headers=bearer).status_code == 401
    studio = browser.get("/studio")
    assert studio.status_code in (303, 307) and "/signin" in studio.headers["location"]
    assert live.client.get("/api/me", headers=_token(live.client, email)).status_code == 200  # signing in again works
    browser.close()


def test_language_of_sign_up_is_the_language_of_the_mails(client, mail_sink):
    email = _email("fr")
    r = client.post("/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Léa",
                                                 "role": "buyer", "language": "fr"})
    assert r.status_code == 201 and r.json()["language"] == "fr"
    [mail] = mail_sink.wait_for(to=email)
    assert mail["subject"] == "Veuillez confirmer votre adresse e-mail"
    with Session(db.get_engine()) as session:
        assert session.exec(select(Account.language).where(Account.email == email)).one() == "fr"
