"""Notices (in the studio and by mail) on a sale, a payout, a receipt, an invitation to co-create and an awarded call; the
outbox worker retrying a mail server that is down without losing or doubling a mail. Mails are read back from the
mail sink (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from sqlmodel import Session, select

from marketplace.core import db
from marketplace.mail.models import MailOutbox
from tests.calls.conftest import CallsApi
from tests.payments.conftest import Shop
from tests.payouts.test_payouts_live import onboard, wait_payouts
from tests.plugins.mail_fixtures import link_in, token_in


@pytest.fixture
def shop(make_live) -> Shop:
    return Shop(make_live())


def verified(api, user: dict, sink) -> dict:
    """The account's e-mail verified with the link mailed at sign-up (notice mails go to verified addresses)."""
    mail = next(m for m in sink.wait_for(to=user["email"]) if "/verify-email" in m["text"])
    r = api.client.post("/api/auth/verify-email", json={"token": token_in(mail, "/verify-email")})
    assert r.status_code == 200, r.text
    return user


def notices(api, user: dict) -> dict:
    r = api.client.get("/api/me/notices", headers=user["headers"])
    assert r.status_code == 200, r.text
    return r.json()


def mails(sink, user: dict, subject: str, count: int = 1) -> list[dict]:
    deadline = time.monotonic() + 30
    while True:
        found = [m for m in sink.messages(to=user["email"]) if m["subject"] == subject]
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) == count, (subject, sink.messages(to=user["email"]))
            return found
        time.sleep(0.05)


def test_a_sale_notifies_the_creator_and_mails_the_buyer_a_receipt(shop, mail_sink):
    creator = verified(shop, shop.register(role="creator", name="Anna"), mail_sink)
    buyer = verified(shop, shop.register(role="buyer", name="Marie"), mail_sink)
    work = shop.minted_work(creator, price_cents=2500, title="Moselle Light")
    r = shop.checkout(buyer, work["id"], accept_immediate_supply=True, accept_license=True)
    assert r.status_code == 201, r.text
    purchase_id = r.json()["purchase_id"]
    assert shop.hosted(r.json()["checkout_url"], "pay").status_code == 303
    shop.wait_purchase(buyer, purchase_id, "delivered")
    [receipt] = mails(mail_sink, buyer, "Your purchase of “Moselle Light” is delivered")
    assert link_in(receipt, f"/purchases/{purchase_id}/receipt").startswith(shop.live.url)
    assert "€25.00" in receipt["text"]
    [sale] = mails(mail_sink, creator, "You sold “Moselle Light”")
    assert "sold for €25.00" in sale["text"]
    mine = notices(shop, creator)
    assert mine["unread"] == 1 and mine["notices"][0]["kind"] == "sale"
    assert mine["notices"][0]["params"]["amount_cents"] == 2500
    theirs = notices(shop, buyer)
    assert theirs["notices"][0]["kind"] == "receipt"
    assert theirs["notices"][0]["link"] == f"/purchases/{purchase_id}/receipt"
    r = shop.client.post(f"/api/me/notices/{theirs['notices'][0]['id']}/read", headers=buyer["headers"])
    assert r.status_code == 204
    assert notices(shop, buyer)["unread"] == 0
    other = shop.client.post(f"/api/me/notices/{mine['notices'][0]['id']}/read", headers=buyer["headers"])
    assert other.status_code == 404  # not the buyer's notice
    assert notices(shop, creator)["unread"] == 1


def test_an_invitation_to_co_create_is_a_notice_and_a_mail_to_a_verified_address(api, mail_sink):
    uploader = api.register(role="creator", name="Anna Schmit")
    invited = verified(api, api.register(role="creator", name="Ben Weber"), mail_sink)
    unverified = api.register(role="creator", name="Chloé Muller")
    work = api.upload(uploader, title="Moselle Light").json()
    r = api.client.put(f"/api/works/{work['id']}/collaborators", headers=uploader["headers"], json={"collaborators": [
        {"user_id": uploader["id"], "share_bps": 5000, "role": "photographer"},
        {"user_id": invited["id"], "share_bps": 3000, "role": "editor"},
        {"user_id": unverified["id"], "share_bps": 2000, "role": "printer"}]})
    assert r.status_code == 200, r.text
    [mail] = mails(mail_sink, invited, "Anna Schmit invites you to co-create “Moselle Light”")
    assert "/studio" in link_in(mail, "/studio")
    for user in (invited, unverified):
        listing = notices(api, user)
        assert listing["unread"] == 1 and listing["notices"][0]["kind"] == "invitation"
    with Session(db.get_engine()) as session:  # the unverified address is mailed nothing but its verification
        kinds = session.exec(select(MailOutbox.kind).where(MailOutbox.to_address == unverified["email"])).all()
    assert kinds == ["verify_email"]
    assert notices(api, uploader)["notices"] == []


def test_an_awarded_call_notifies_the_team(shop, mail_sink):
    calls = CallsApi(shop)
    caller = shop.register(role="buyer", name="Festival")
    author = verified(shop, shop.register(role="creator", name="Anna"), mail_sink)
    partner = verified(shop, shop.register(role="creator", name="Ben"), mail_sink)
    call = calls.post_call(caller, title="Sound for the Moselle")
    proposal = calls.submitted(author, call["id"], [(author, 6000, "composer"), (partner, 4000, "film-maker")])
    r = calls.award(caller, call["id"], proposal["id"])
    assert r.status_code == 200, r.text
    for user in (author, partner):
        [mail] = mails(mail_sink, user, "Your proposal for “Sound for the Moselle” was awarded")
        assert link_in(mail, f"/calls/{call['id']}")
        assert notices(shop, user)["notices"][0]["kind"] == "call_awarded"
    assert notices(shop, caller)["notices"] == []

    # paid: the caller gets a receipt, each member a notice that their share is credited (once each)
    verified(shop, caller, mail_sink)
    r = shop.client.post(f"/api/calls/{call['id']}/checkout", headers=caller["headers"])
    assert r.status_code == 201, r.text
    purchase_id = r.json()["purchase_id"]
    assert shop.hosted(r.json()["checkout_url"], "pay").status_code == 303
    [receipt] = mails(mail_sink, caller, "Your payment for the call “Sound for the Moselle” is received")
    assert link_in(receipt, f"/purchases/{purchase_id}/receipt")
    for user in (author, partner):
        [paid] = mails(mail_sink, user, "The call “Sound for the Moselle” is paid")
        assert link_in(paid, f"/calls/{call['id']}")
        assert [n["kind"] for n in notices(shop, user)["notices"]] == ["call_paid", "call_awarded"]
    assert [n["kind"] for n in notices(shop, caller)["notices"]] == ["receipt"]


def test_the_outbox_retries_a_mail_server_that_is_down_without_losing_or_doubling(make_client, own_mail_sink):
    client = make_client(smtp_port=own_mail_sink.smtp_port)
    own_mail_sink.stop()  # the mail server is down
    email = f"retry-{time.monotonic_ns()}@example.lu"
    r = client.post("/api/auth/register", json={"email": email, "password": "correct horse 1",
                                                 "display_name": "Lea", "role": "buyer"})
    assert r.status_code == 201

    def row() -> MailOutbox:
        with Session(db.get_engine()) as session:
            return session.exec(select(MailOutbox).where(MailOutbox.to_address == email)).one()

    deadline = time.monotonic() + 30
    while row().attempts < 2:  # failed twice, kept for later
        assert time.monotonic() < deadline, row()
        time.sleep(0.05)
    failed = row()
    assert failed.status == "queued" and "Connection refused" in (failed.last_error or "")
    assert own_mail_sink.messages(to=email) == []
    own_mail_sink.start()  # back up: the next attempt goes through
    [mail] = own_mail_sink.wait_for(to=email, timeout=60)
    deadline = time.monotonic() + 30
    while row().status != "sent":
        assert time.monotonic() < deadline, row()
        time.sleep(0.05)
    sent = row()
    assert mail["message_id"] == sent.message_id and sent.attempts >= 3 and sent.sent_at is not None
    client.post("/api/auth/password-reset", json={"email": email})  # the worker keeps going
    own_mail_sink.wait_for(to=email, count=2)
    assert [m["message_id"] for m in own_mail_sink.messages(to=email)].count(sent.message_id) == 1


def test_a_payout_notifies_the_creator_once(shop, mail_sink):
    creator = verified(shop, shop.register(role="creator", name="Anna"), mail_sink)
    assert onboard(shop, creator).status_code == 303
    wait_payouts(shop, creator, lambda b: b["account_status"] == "enabled")
    buyer = shop.register(role="buyer", name="Marie")
    work = shop.minted_work(creator, price_cents=2500, title="Moselle Light")
    r = shop.checkout(buyer, work["id"], accept_immediate_supply=True, accept_license=True)
    assert r.status_code == 201, r.text
    assert shop.hosted(r.json()["checkout_url"], "pay").status_code == 303
    wait_payouts(shop, creator, lambda b: b["paid_cents"] == 2250)  # 2500 - 10 % fee
    [mail] = mails(mail_sink, creator, "€22.50 transferred to your Stripe account")
    assert link_in(mail, "/studio/payouts").startswith(shop.live.url)
    kinds = [n["kind"] for n in notices(shop, creator)["notices"]]
    assert sorted(kinds) == ["payout", "sale"]  # one of each: the payout told once
