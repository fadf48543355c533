"""A forgotten password reset in a real browser (Chromium), with the mail read in the dev tools' mail sink: the
sign-in page's "Forgot your password?", the sink's page listing the mail, its link, the new password, signing in
with it, and the account page. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_reset_a_forgotten_password_from_the_mail_sink(make_live, browsing, mail_sink):
    live = make_live()
    email = f"forgetful-{time.monotonic_ns()}@example.lu"
    r = live.client.post("/api/auth/register", json={"email": email, "password": "the old password 1",
                                                      "display_name": "Mia Forgetful", "role": "creator"})
    assert r.status_code == 201, r.text
    page = browsing.person()
    page.goto(f"{live.url}/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail").fill(email)
    browsing.shot(page, "account-01-forgot-password")
    page.get_by_role("button", name="Mail me a link").click()
    assert "a link to reset its password is on its way" in page.locator("main").inner_text()
    browsing.shot(page, "account-02-link-on-its-way")

    mail_sink.wait_for(to=email, count=2)  # the verification mail of the sign-up, then the reset
    page.goto(f"{mail_sink.url}/?to={email}")
    reset_mail = page.locator("article.mail", has_text="Reset your password")
    assert reset_mail.count() == 1
    browsing.shot(page, "account-03-mail-sink")
    reset_mail.locator("a[href*='/reset-password']").click()
    page.wait_for_url("**/reset-password?token=*")
    page.get_by_label("New password", exact=True).fill("a brand new one 2")
    page.get_by_label("The new password again").fill("a brand new one 2")
    browsing.shot(page, "account-04-reset-form")
    page.get_by_role("button", name="Set the new password").click()
    page.wait_for_url("**/signin?m=password_reset")
    assert "Your password is changed" in page.locator("main").inner_text()
    browsing.shot(page, "account-05-signin-after-reset")

    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill("a brand new one 2")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/studio")
    page.goto(f"{live.url}/account")
    assert email in page.locator("main").inner_text()
    assert "verified" in page.locator("main .badge").first.inner_text()  # the reset link proved the address
    browsing.shot(page, "account-06-account-page")
    assert browsing.console_errors == []

    page.goto(f"{mail_sink.url}/?to={email}")  # the used link is refused
    page.locator("article.mail", has_text="Reset your password").locator("a[href*='/reset-password']").click()
    assert "invalid, has expired or was already used" in page.locator("main").inner_text()
    browsing.shot(page, "account-07-used-link-refused")
    assert all("400 (Bad Request)" in error for error in browsing.console_errors)  # the refused page's own status
