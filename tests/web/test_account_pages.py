"""The account pages without a browser: forgotten password and its reset form, the mailed links, the account
settings, sign-out everywhere and the notices, with mails read back from the mail sink."""

from __future__ import annotations

import time

from tests.plugins.mail_fixtures import link_in
from tests.web.helpers import WebUser

PASSWORD = "correct horse 1"


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(("/", ""))


def test_sign_in_page_links_to_forgot_password_and_the_reset_works_once(client, mail_sink):
    user = WebUser(client)
    email = user.sign_up(role="buyer", password=PASSWORD)
    assert 'href="/forgot-password"' in user.get("/signin").text
    other = WebUser(client)
    assert other.post_form("/signin", "/signin", {"email": email, "password": PASSWORD}).status_code == 303
    answer = other.post_form("/forgot-password", "/forgot-password", {"email": email})
    unknown = other.post_form("/forgot-password", "/forgot-password", {"email": f"x{time.monotonic_ns()}@ex.lu"})
    assert answer.status_code == unknown.status_code == 200
    assert "a link to reset its password is on its way" in answer.text
    assert answer.text.count("on its way") == unknown.text.count("on its way")
    mail = next(m for m in mail_sink.wait_for(to=email, count=2) if m["subject"] == "Reset your password")
    reset = _path(link_in(mail, "/reset-password"))
    form = other.get(reset)
    assert form.status_code == 200 and 'name="password_again"' in form.text
    token = reset.split("token=", 1)[1]
    r = other.post_form(reset, "/reset-password", {"token": token, "password": "new password 22",
                                                   "password_again": "new password 22"})
    assert r.status_code == 303 and r.headers["location"] == "/signin?m=password_reset"
    assert user.get("/account").status_code == 303  # the first browser is signed out
    assert other.get(reset).status_code == 400  # used
    assert "invalid, has expired or was already used" in other.get(reset).text
    fresh = WebUser(client)
    assert fresh.post_form("/signin", "/signin", {"email": email, "password": "new password 22"}).status_code == 303


def test_verification_link_and_the_account_page(client, mail_sink):
    user = WebUser(client)
    email = user.sign_up(role="creator", password=PASSWORD)
    page = user.get("/account")
    assert page.status_code == 200 and "unverified" in page.text and email in page.text
    [mail] = mail_sink.wait_for(to=email)
    done = user.get(_path(link_in(mail, "/verify-email")))
    assert done.status_code == 200 and "your e-mail address is verified" in done.text
    assert ">verified<" in user.get("/account").text
    assert user.get(_path(link_in(mail, "/verify-email"))).status_code == 400


def test_change_email_and_password_and_sign_out_everywhere_from_the_account_page(client, mail_sink):
    user = WebUser(client)
    user.sign_up(role="buyer", password=PASSWORD)
    new = f"moved-{time.monotonic_ns()}@example.lu"
    wrong = user.post_form("/account", "/account/email", {"new_email": new, "password": "nope nope"})
    assert wrong.status_code == 400 and "The password is not correct." in wrong.text
    r = user.post_form("/account", "/account/email", {"new_email": new, "password": PASSWORD})
    assert r.status_code == 303
    [confirm] = mail_sink.wait_for(to=new)
    page = user.get(_path(link_in(confirm, "/confirm-email")))
    assert page.status_code == 200 and new in page.text
    other = WebUser(client)
    assert other.post_form("/signin", "/signin", {"email": new, "password": PASSWORD}).status_code == 303
    r = user.post_form("/account", "/account/password", {"current_password": "wrong one",
                                                         "new_password": "another pass 3"})
    assert r.status_code == 400 and "The current password is not correct." in r.text
    r = user.post_form("/account", "/account/password", {"current_password": PASSWORD,
                                                         "new_password": "another pass 3"})
    assert r.status_code == 303
    assert user.get("/account").status_code == 200  # this browser stays signed in
    assert other.get("/account").status_code == 303  # the other is signed out
    r = user.post_form("/account", "/account/signout-everywhere")
    assert r.status_code == 303 and "signed_out_everywhere" in r.headers["location"]
    assert user.get("/account").status_code == 303


def test_notices_page_and_header_count(client, api, mail_sink):
    uploader, invited = WebUser(client), WebUser(client)
    uploader_email = uploader.sign_up(role="creator", name="Anna Schmit")
    invited_email = invited.sign_up(role="creator", name="Ben Weber")
    ids = {e: client.post("/api/auth/token", data={"username": e, "password": PASSWORD}) for e in
           (uploader_email, invited_email)}
    headers = {e: {"Authorization": f"Bearer {r.json()['access_token']}"} for e, r in ids.items()}
    invited_id = client.get("/api/me", headers=headers[invited_email]).json()["id"]
    uploader_id = client.get("/api/me", headers=headers[uploader_email]).json()["id"]
    work = api.upload({"headers": headers[uploader_email]}).json()
    r = client.put(f"/api/works/{work['id']}/collaborators", headers=headers[uploader_email], json={"collaborators": [
        {"user_id": uploader_id, "share_bps": 6000, "role": "photographer"},
        {"user_id": invited_id, "share_bps": 4000, "role": "editor"}]})
    assert r.status_code == 200, r.text
    page = invited.get("/studio")
    assert 'class="badge unread-count"' in page.text
    notices = invited.get("/notices")
    assert "Anna Schmit invites you to co-create “Moselle Light”" in notices.text
    assert invited.post_form("/notices", "/notices/read").status_code == 303
    assert 'unread-count' not in invited.get("/notices").text
    assert invited.get("/notices").text.count("new</span>") == 0
