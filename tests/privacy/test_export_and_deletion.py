"""Export my data and delete my account, end to end (the Stripe double, anvil, IPFS; SQLite and PostgreSQL): the
export holds the account's data and nothing of other accounts'; a deletion anonymises the account (rows checked),
keeps purchases and the ledger to the cent, signs every session out, and the e-mail may sign up again."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from marketplace.accounts.models import Account, AccountLink, AccountProfile, ProfileTag
from marketplace.calls.models import Call
from marketplace.catalog.models import Work, WorkCollaborator
from marketplace.core import db
from marketplace.mail.models import MailOutbox, Notice
from marketplace.payments.models import LedgerEntry, Purchase
from tests.calls.conftest import call_body
from tests.conftest import png_bytes
from tests.payments.conftest import Shop, ledger, purchases
from tests.plugins.mail_fixtures import token_in

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def sell(shop: Shop, work_id: int, buyer: dict) -> int:
    r = shop.checkout(buyer, work_id, accept_immediate_supply=True, accept_license=True)
    assert r.status_code == 201, r.text
    assert shop.hosted_pay(r.json()["checkout_url"], "4242424242424242").status_code == 303
    shop.wait_purchase(buyer, r.json()["purchase_id"], "delivered")
    return r.json()["purchase_id"]


def sums() -> dict:
    """The ledger per account and in all, and every purchase as it stands."""
    per: dict = {}
    for entry in ledger():
        per[entry.account_id] = per.get(entry.account_id, 0) + entry.amount_cents
    return {"per_account": per, "total": sum(per.values()),
            "purchases": sorted((p.id, p.buyer_id, p.work_id, p.status, p.amount_cents) for p in purchases())}


@pytest.fixture
def scene(shop: Shop):
    """A creator (with a profile, an avatar, a sold work, an unsold minted one, a draft, an invitation to co-sign
    another's draft, an open call) and a buyer who bought the sold work; another buyer with a purchase of theirs."""
    creator = shop.register(role="creator", name="Lena Weber")
    other = shop.register(role="creator", name="Marc Other")
    buyer = shop.register(role="buyer", name="Bob Buyer")
    stranger = shop.register(role="buyer", name="Stranger")
    assert shop.client.put("/api/me/profile", headers=creator["headers"], json={
        "bio": "Sound.", "location": "Esch", "links": ["https://lena.example.lu"], "disciplines": ["music"],
        "skills": ["foley"]}).status_code == 200
    avatar = shop.client.put("/api/me/avatar", headers=creator["headers"],
                             files={"file": ("a.png", png_bytes((64, 64), (5, 6, 7)), "image/png")}).json()
    sold = shop.minted_work(creator, title="Sold one", price_cents=1999)
    unsold = shop.minted_work(creator, content=png_bytes((60, 60), (1, 9, 1)), title="Unsold one")
    draft = shop.upload(creator, content=png_bytes((61, 61), (2, 9, 2)), title="My draft").json()
    co_draft = shop.upload(other, content=png_bytes((62, 62), (3, 9, 3)), title="Marc's draft").json()
    r = shop.client.put(f"/api/works/{co_draft['id']}/collaborators", headers=other["headers"], json={
        "collaborators": [{"user_id": other["id"], "share_bps": 5000, "role": "director"},
                          {"user_id": creator["id"], "share_bps": 5000, "role": "sound"}]})
    assert r.status_code == 200, r.text
    call = shop.client.post("/api/calls", headers=creator["headers"], json=call_body()).json()
    purchase_id = sell(shop, sold["id"], buyer)
    theirs = shop.minted_work(other, content=png_bytes((63, 63), (4, 9, 4)), title="Marc's work")
    stranger_purchase = sell(shop, theirs["id"], stranger)
    return {"creator": creator, "other": other, "buyer": buyer, "stranger": stranger, "sold": sold,
            "unsold": unsold, "draft": draft, "co_draft": co_draft, "call": call, "purchase_id": purchase_id,
            "stranger_purchase": stranger_purchase, "avatar_cid": avatar["avatar_cid"]}


def test_the_export_holds_my_data_and_nothing_of_others(shop: Shop, scene):
    creator, buyer = scene["creator"], scene["buyer"]
    r = shop.client.get("/api/me/export", headers=creator["headers"])
    assert r.status_code == 200
    assert r.headers["content-disposition"] == f'attachment; filename="marketplace-export-{creator["id"]}.json"'
    doc = r.json()
    assert doc["account"]["email"] == creator["email"] and doc["wallet_address"] == creator["wallet_address"]
    assert doc["profile"]["skills"] == ["foley"] and doc["profile"]["avatar_cid"] == scene["avatar_cid"]
    titles = {w["title"]: w for w in doc["works"]}
    assert set(titles) == {"Sold one", "Unsold one", "My draft", "Marc's draft"}
    assert [(c["user_id"], c["share_bps"], c["role"]) for c in titles["Marc's draft"]["collaborators"]] == [
        (scene["other"]["id"], 5000, "director"), (creator["id"], 5000, "sound")]
    assert titles["Sold one"]["sale_status"] == "sold"
    # the creator's share of the sale: 1999 - 10 % fee (199: the fee rounds down), as the ledger says
    mine = [e for e in ledger() if e.account_id == creator["id"]]
    assert [(e["purchase_id"], e["amount_cents"]) for e in doc["ledger_entries"]] == [
        (e.purchase_id, e.amount_cents) for e in mine]
    assert doc["balance_cents"] == sum(e.amount_cents for e in mine) > 0
    assert doc["purchases"] == []  # the creator bought nothing
    assert "sale" in [n["kind"] for n in doc["notices"]]  # the notice of the sale, in the export too
    # payouts: never set up, so everything earned waits to be transferred
    assert (doc["payouts"]["account_status"], doc["payouts"]["available_cents"], doc["payouts"]["paid_cents"]) == (
        "none", doc["balance_cents"], 0)
    assert [c["id"] for c in doc["calls"]] == [scene["call"]["id"]]
    text = json.dumps(doc)
    for other_role in ("buyer", "stranger", "other"):
        assert scene[other_role]["email"] not in text  # no other account's e-mail
    assert "password" not in text

    bought = shop.client.get("/api/me/export", headers=buyer["headers"]).json()
    assert [p["id"] for p in bought["purchases"]] == [scene["purchase_id"]]  # not the stranger's
    assert bought["purchases"][0]["amount_cents"] == 1999
    assert bought["works"] == [] and bought["ledger_entries"] == []
    assert scene["stranger"]["email"] not in json.dumps(bought)
    assert shop.client.get("/api/me/export").status_code == 401


def _mail_rows(creator: dict) -> tuple[int, int, int]:
    """(mailed links, notices, outbox mails) of the account."""
    with Session(db.get_engine()) as session:
        return (len(session.exec(select(AccountLink).where(AccountLink.account_id == creator["id"])).all()),
                len(session.exec(select(Notice).where(Notice.user_id == creator["id"])).all()),
                len(session.exec(select(MailOutbox).where(MailOutbox.to_address == creator["email"])).all()))


def test_deleting_a_creator_anonymises_it_and_keeps_the_ledger(shop: Shop, scene, ipfs_client, mail_sink):
    creator = scene["creator"]
    # a password-reset link mailed before the deletion must die with the account
    assert shop.client.post("/api/auth/password-reset", json={"email": creator["email"]}).status_code == 202
    reset = next(m for m in mail_sink.wait_for(to=creator["email"], count=2) if m["subject"] == "Reset your password")
    links, notices, mails = _mail_rows(creator)
    assert links >= 2 and notices >= 1 and mails >= 2  # verification + reset links; the sale's notice; their mails
    before = sums()
    # a wrong password changes nothing
    r = shop.client.request("DELETE", "/api/me", headers=creator["headers"], json={"password": "not it at all"})
    assert r.status_code == 403 and r.json()["code"] == "wrong_password"
    assert shop.client.get("/api/me", headers=creator["headers"]).status_code == 200
    # a second session of the account, signed out by the deletion too
    second = shop.client.post("/api/auth/token", data={"username": creator["email"],
                                                        "password": creator["password"]}).json()["access_token"]
    r = shop.client.request("DELETE", "/api/me", headers=creator["headers"], json={"password": creator["password"]})
    assert r.status_code == 204, r.text

    assert sums() == before  # every purchase and ledger entry as it was, to the cent
    with Session(db.get_engine()) as session:
        account = session.get(Account, creator["id"])
        assert account.display_name == "Deleted account"
        assert account.email.startswith(f"deleted-{creator['id']}-") and account.email.endswith("@deleted.invalid")
        assert account.deleted_at is not None and account.linked_address is None
        assert not account.password_hash.startswith("$argon2")
        assert account.custodial_address == creator["wallet_address"]  # where its tokens are, on chain
        assert session.get(AccountProfile, creator["id"]) is None
        assert session.exec(select(ProfileTag).where(ProfileTag.account_id == creator["id"])).all() == []
        assert session.get(Work, scene["draft"]["id"]) is None  # the unpublished draft is gone
        assert session.get(Work, scene["sold"]["id"]).creator_id == creator["id"]  # the sold work stays
        assert session.get(Work, scene["unsold"]["id"]) is not None
        invited = session.exec(select(WorkCollaborator).where(
            WorkCollaborator.work_id == scene["co_draft"]["id"], WorkCollaborator.account_id == creator["id"])).one()
        assert invited.status == "declined"
        assert session.get(Call, scene["call"]["id"]).status == "closed"
        assert session.get(Purchase, scene["purchase_id"]).status == "delivered"
        assert session.exec(select(LedgerEntry).where(LedgerEntry.purchase_id == scene["purchase_id"])).all()
    assert not ipfs_client.is_pinned(scene["avatar_cid"])
    assert not ipfs_client.is_pinned(scene["draft"]["media_cid"])
    assert _mail_rows(creator) == (0, 0, 0)  # links, notices and the mails to the old address: gone
    r = shop.client.post("/api/auth/password-reset/confirm",
                         json={"token": token_in(reset, "/reset-password"), "password": "back again 22"})
    assert r.status_code == 400, r.text

    # signed out everywhere, and no way back in
    for token in (creator["headers"]["Authorization"].split()[1], second):
        assert shop.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert shop.client.get("/studio", headers={"Cookie": f"mp_session={token}"},
                               follow_redirects=False).status_code == 303
    assert shop.client.post("/api/auth/token", data={"username": creator["email"],
                                                      "password": creator["password"]}).status_code == 401
    # the public side: the sold work credits "Deleted account"; no creator page; not found by Find creators
    work = shop.client.get(f"/api/works/{scene['sold']['id']}").json()
    assert work["creator"]["display_name"] == "Deleted account"
    assert shop.client.get(f"/creators/{creator['id']}").status_code == 404
    assert shop.client.get(f"/api/creators/{creator['id']}").status_code == 404
    assert shop.client.get("/api/creators", params={"skill": "foley"}).json()["count"] == 0
    # its unsold work is no longer for sale (nobody would be paid)
    r = shop.checkout(scene["buyer"], scene["unsold"]["id"], accept_immediate_supply=True, accept_license=True)
    assert r.status_code == 409 and "deleted" in r.json()["detail"]
    # the e-mail is free again
    again = shop.client.post("/api/auth/register", json={
        "email": creator["email"], "password": "another password 2", "display_name": "Lena again",
        "role": "creator"})
    assert again.status_code == 201 and again.json()["id"] != creator["id"]
    assert sums() == before


def test_deleting_a_buyer_keeps_its_purchases(shop: Shop, scene):
    buyer = scene["buyer"]
    before = sums()
    r = shop.client.request("DELETE", "/api/me", headers=buyer["headers"], json={"password": buyer["password"]})
    assert r.status_code == 204
    assert sums() == before
    with Session(db.get_engine()) as session:
        assert session.get(Purchase, scene["purchase_id"]).buyer_id == buyer["id"]
        assert session.get(Account, buyer["id"]).display_name == "Deleted account"
    assert shop.client.get("/api/me", headers=buyer["headers"]).status_code == 401
    assert shop.client.request("DELETE", "/api/me", headers=buyer["headers"],
                               json={"password": buyer["password"]}).status_code == 401


def test_the_account_pages_download_the_data_and_delete_with_a_confirmation(shop: Shop):
    user = shop.register(role="creator", name="Page User")
    token = user["headers"]["Authorization"].split()[1]
    cookie = {"Cookie": f"mp_session={token}"}
    page = shop.client.get("/account", headers=cookie)
    assert page.status_code == 200 and 'href="/account/export"' in page.text
    download = shop.client.get("/account/export", headers=cookie)
    assert download.status_code == 200 and download.json()["account"]["email"] == user["email"]
    assert "attachment" in download.headers["content-disposition"]
    assert shop.client.get("/account/delete", headers=cookie).status_code == 200
    # without the tick, or with a wrong password: refused, nothing deleted
    r = shop.form_post(user, "/account/delete", "/account/delete", {"password": user["password"]})
    assert r.status_code == 400 and "Tick the box" in r.text
    r = shop.form_post(user, "/account/delete", "/account/delete", {"password": "wrong one!", "confirm": "yes"})
    assert r.status_code == 400 and "not your password" in r.text
    assert shop.client.get("/api/me", headers=user["headers"]).status_code == 200
    r = shop.form_post(user, "/account/delete", "/account/delete", {"password": user["password"], "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == "/signin?m=deleted"
    assert "mp_session=" in r.headers.get("set-cookie", "")
    assert shop.client.get("/api/me", headers=user["headers"]).status_code == 401
