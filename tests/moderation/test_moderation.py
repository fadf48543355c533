"""Notice and action: anyone reports a work, an admin hides it (out of listings, search, the gallery, its page and
media, its checkout refused), restores it or dismisses a report; the creators and the reporters are told, and every
decision is logged with who and when."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from marketplace.core import db
from marketplace.mail.models import MailOutbox
from marketplace.moderation.models import ModerationDecision, WorkReport
from tests.moderation.conftest import CHECKOUT_BODY, Cast

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def reports_of(work_id: int) -> list[WorkReport]:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(WorkReport).where(WorkReport.work_id == work_id)
                                 .order_by(WorkReport.id)).all())


def report(cast: Cast, work_id: int, user: dict | None = None, **body):
    body = {"reason": "intellectual_property", "details": "It copies my photograph of the Moselle.", **body}
    return cast.client.post(f"/api/works/{work_id}/reports", json=body, headers=user["headers"] if user else {})


def test_anyone_reports_a_work_and_the_admins_see_the_queue(cast: Cast):
    work = cast.minted()
    anonymous = report(cast, work["id"], email="Someone@Example.lu")
    assert anonymous.status_code == 201, anonymous.text
    assert anonymous.json()["status"] == "open" and anonymous.json()["reason"] == "intellectual_property"
    signed_in = report(cast, work["id"], cast.buyer, reason="fraud", details="")
    assert signed_in.status_code == 201, signed_in.text
    again = report(cast, work["id"], cast.buyer)
    assert again.status_code == 409 and "reported this work already" in again.json()["detail"]
    for bad in ({"reason": "i_dont_like_it"}, {"details": "x" * 4001}, {"email": "not an e-mail"}):
        r = report(cast, work["id"], **bad)
        assert r.status_code == 422, r.text
    assert report(cast, 999_999).status_code == 404
    rows = reports_of(work["id"])
    assert [(r.reporter_id, r.reporter_email, r.reason, r.status) for r in rows] == [
        (None, "someone@example.lu", "intellectual_property", "open"), (cast.buyer["id"], None, "fraud", "open")]

    assert cast.client.get("/api/admin/reports").status_code == 401
    for user in (cast.buyer, cast.creator):
        assert cast.client.get("/api/admin/reports", headers=user["headers"]).status_code == 403
    queue = cast.client.get("/api/admin/reports?status=open", headers=cast.admin["headers"])
    assert queue.status_code == 200, queue.text
    body = queue.json()
    assert body["count"] == 2
    assert [(r["id"], r["work_title"], r["reporter_email"]) for r in body["data"]] == [
        (rows[0].id, work["title"], "someone@example.lu"), (rows[1].id, work["title"], None)]  # oldest first


def test_a_hidden_work_is_gone_for_everyone_but_its_creators_and_admins_until_restored(cast: Cast):
    work = cast.minted(title="Sunrise over Vianden")
    other = cast.minted(title="Sunset over Vianden")
    assert report(cast, work["id"], email="notifier@example.lu").status_code == 201
    assert report(cast, work["id"], cast.buyer).status_code == 201
    for user in (cast.buyer, cast.creator):  # only admins decide
        r = cast.client.post(f"/api/admin/works/{work['id']}/hide", headers=user["headers"], json={"reason": "x"})
        assert r.status_code == 403
    assert cast.hide(work["id"], reason="  ").status_code == 422  # a decision states its reason

    hidden = cast.hide(work["id"])
    assert hidden.status_code == 200, hidden.text
    decision = hidden.json()
    assert (decision["action"], decision["admin_id"], len(decision["report_ids"])) == ("hide", cast.admin["id"], 2)
    assert cast.hide(work["id"]).status_code == 409

    # out of the listings, the search, the gallery and the creator's public page
    listed = [w["id"] for w in cast.client.get("/api/works?page_size=100").json()["data"]]
    assert work["id"] not in listed and other["id"] in listed
    found = [w["id"] for w in cast.client.get("/api/works", params={"q": "Vianden"}).json()["data"]]
    assert found == [other["id"]]
    gallery = cast.client.get("/?q=Vianden")
    assert "Sunset over Vianden" in gallery.text and "Sunrise over Vianden" not in gallery.text
    creator_page = f"/creators/{cast.creator['id']}"
    assert "Sunrise over Vianden" not in cast.client.get(creator_page).text
    # its page, its API and its media: 404 for anyone else
    assert cast.client.get(f"/api/works/{work['id']}").status_code == 404
    assert cast.client.get(f"/api/works/{work['id']}", headers=cast.buyer["headers"]).status_code == 404
    assert cast.browser(cast.buyer).get(f"/works/{work['id']}").status_code == 404
    assert cast.client.get(f"/ipfs/{work['media_cid']}").status_code == 404
    assert cast.client.get(f"/tokens/{work['token_id']}").status_code == 404  # its certificate page too
    assert cast.browser(cast.creator).get(f"/tokens/{work['token_id']}").status_code == 200
    # its creator (and the admins) see it, marked hidden with the reason
    own = cast.client.get(f"/api/works/{work['id']}", headers=cast.creator["headers"]).json()
    assert own["hidden_at"] and own["hidden_reason"] == "A copy of a protected photograph (notice 1)."
    mine = cast.client.get(f"/api/works?creator_id={cast.creator['id']}", headers=cast.creator["headers"]).json()
    assert work["id"] in [w["id"] for w in mine["data"]]
    page = cast.browser(cast.creator).get(f"/works/{work['id']}")
    assert page.status_code == 200 and "A copy of a protected photograph (notice 1)." in page.text
    assert "Sunrise over Vianden" in cast.browser(cast.creator).get(creator_page).text
    assert "Hidden by moderation" in cast.browser(cast.admin).get(creator_page).text
    # it cannot be bought: the API and the page both say why (409), nothing is reserved
    checkout = cast.client.post(f"/api/works/{work['id']}/checkout", headers=cast.buyer["headers"],
                                json=CHECKOUT_BODY)
    assert checkout.status_code == 409 and "hidden by the marketplace's moderation" in checkout.json()["detail"]
    buy = cast.browser(cast.buyer).post_form("/", f"/works/{work['id']}/buy", {
        "accept_license": "yes", "accept_immediate_supply": "yes"})
    assert buy.status_code == 409 and "hidden by the marketplace" in buy.text
    assert cast.client.get(f"/api/works/{work['id']}", headers=cast.creator["headers"]).json()[
        "sale_status"] == "available"

    # the creator got the statement of reasons; the reporters the decision
    [told] = [n for n in cast.notices(cast.creator) if n["kind"] == "moderation"]
    assert "hid your work “Sunrise over Vianden”" in told["text"]
    assert "A copy of a protected photograph (notice 1)." in told["text"]
    [decided] = [n for n in cast.notices(cast.buyer) if n["kind"] == "report_decision"]
    assert "hid the work" in decided["text"]
    with Session(db.get_engine()) as session:
        mails = session.exec(select(MailOutbox).where(MailOutbox.to_address == "notifier@example.lu")).all()
    assert len(mails) == 1 and "hid the work" in mails[0].body
    exported = cast.client.get("/api/me/export", headers=cast.buyer["headers"]).json()["reports"]
    assert [(r["work_id"], r["status"]) for r in exported] == [(work["id"], "actioned")]
    assert {r.status for r in reports_of(work["id"])} == {"actioned"}

    # restored: back everywhere, and its creator told
    restored = cast.client.post(f"/api/admin/works/{work['id']}/restore", headers=cast.admin["headers"],
                                json={"reason": "The reporter withdrew the claim."})
    assert restored.status_code == 200, restored.text
    assert cast.client.post(f"/api/admin/works/{work['id']}/restore", headers=cast.admin["headers"],
                            json={"reason": "again"}).status_code == 409
    assert cast.client.get(f"/api/works/{work['id']}").json()["hidden_at"] is None
    assert "Sunrise over Vianden" in cast.client.get("/?q=Vianden").text
    assert cast.client.get(f"/ipfs/{work['media_cid']}").status_code == 200
    told = [n["text"] for n in cast.notices(cast.creator) if n["kind"] == "moderation"]
    assert any("restored your work" in t and "The reporter withdrew the claim." in t for t in told)
    checkout = cast.client.post(f"/api/works/{work['id']}/checkout", headers=cast.buyer["headers"],
                                json=CHECKOUT_BODY)
    assert checkout.status_code == 201, checkout.text

    # the log: who decided what, and when
    assert cast.client.get("/api/admin/moderation-log", headers=cast.buyer["headers"]).status_code == 403
    log = cast.client.get(f"/api/admin/moderation-log?work_id={work['id']}", headers=cast.admin["headers"]).json()
    assert [(d["action"], d["admin_id"], d["admin_name"]) for d in log["data"]] == [
        ("restore", cast.admin["id"], "Admin"), ("hide", cast.admin["id"], "Admin")]
    with Session(db.get_engine()) as session:
        rows = session.exec(select(ModerationDecision).where(ModerationDecision.work_id == work["id"])).all()
    assert all(r.created_at is not None and r.admin_id == cast.admin["id"] for r in rows) and len(rows) == 2


def test_a_dismissed_report_leaves_the_work_and_tells_the_reporter(cast: Cast):
    work = cast.minted()
    report_id = report(cast, work["id"], cast.buyer, reason="other").json()["id"]
    r = cast.client.post(f"/api/admin/reports/{report_id}/dismiss", headers=cast.buyer["headers"],
                         json={"reason": "no"})
    assert r.status_code == 403
    r = cast.client.post(f"/api/admin/reports/{report_id}/dismiss", headers=cast.admin["headers"],
                         json={"reason": "A landscape photograph: nothing unlawful in it."})
    assert r.status_code == 200 and r.json()["report_ids"] == [report_id]
    assert cast.client.post(f"/api/admin/reports/{report_id}/dismiss", headers=cast.admin["headers"],
                            json={"reason": "again"}).status_code == 409
    assert cast.client.post("/api/admin/reports/999999/dismiss", headers=cast.admin["headers"],
                            json={"reason": "none"}).status_code == 404
    assert [r.status for r in reports_of(work["id"])] == ["dismissed"]
    assert cast.client.get(f"/api/works/{work['id']}").status_code == 200
    [decided] = [n for n in cast.notices(cast.buyer) if n["kind"] == "report_decision"]
    assert "stays online" in decided["text"] and "nothing unlawful" in decided["text"]
    assert not [n for n in cast.notices(cast.creator) if n["kind"] == "moderation"]


def test_anonymous_reports_are_rate_limited_per_address(make_client):
    from tests.conftest import Api

    client = make_client(rate_limit_report_address="2/hour")
    api = Api(client)
    creator = api.register(role="creator")
    work = api.upload(creator).json()
    client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])
    api.wait_for_status(work["id"], "minted")
    body = {"reason": "other", "details": "spam"}
    assert [client.post(f"/api/works/{work['id']}/reports", json=body).status_code for _ in range(3)] == [
        201, 201, 429]
    refused = client.post(f"/api/works/{work['id']}/reports", json=body)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert len(reports_of(work["id"])) == 2


def test_the_report_form_and_the_admins_queue_page(cast: Cast):
    work = cast.minted(title="Echternach Abbey")
    page = cast.client.get(f"/works/{work['id']}")
    assert 'action="/works/{}/report"'.format(work["id"]) in page.text and "Report this work" in page.text
    anonymous = cast.browser(None)
    sent = anonymous.post_form(f"/works/{work['id']}", f"/works/{work['id']}/report", {
        "reason": "privacy", "details": "My face is in it.", "email": ""})
    assert sent.status_code == 200 and "Thank you for your report" in sent.text
    refused = anonymous.post_form(f"/works/{work['id']}", f"/works/{work['id']}/report", {"reason": "nonsense"})
    assert refused.status_code == 422
    assert [(r.reason, r.details, r.reporter_email) for r in reports_of(work["id"])] == [
        ("privacy", "My face is in it.", None)]
    fr = cast.client.post(f"/works/{work['id']}/report", data={"reason": "privacy"})
    assert fr.status_code == 403  # no CSRF token: refused like every form

    assert cast.browser(None).get("/admin/reports").status_code == 303
    assert cast.browser(cast.buyer).get("/admin/reports").status_code == 403
    admin = cast.browser(cast.admin)
    queue = admin.get("/admin/reports")
    assert queue.status_code == 200 and "Echternach Abbey" in queue.text and "My face is in it." in queue.text
    hid = admin.post_form("/admin/reports", f"/admin/works/{work['id']}/hide", {"reason": "Image rights."})
    assert hid.status_code == 303, hid.text
    assert cast.client.get(f"/api/works/{work['id']}").status_code == 404
    log = admin.get("/admin/reports?status=actioned")
    assert "Image rights." in log.text and f"/admin/works/{work['id']}/restore" in log.text
    back = admin.post_form("/admin/reports", f"/admin/works/{work['id']}/restore", {"reason": "Consent shown."})
    assert back.status_code == 303
    assert cast.client.get(f"/api/works/{work['id']}").status_code == 200
    empty = admin.post_form("/admin/reports", f"/admin/works/{work['id']}/hide", {"reason": ""})
    assert empty.status_code == 422
    for lang, words in (("fr", "Signalements"), ("de", "Meldungen")):
        assert words in admin.get("/admin/reports", headers={"Accept-Language": lang}).text


def test_hiding_a_work_expires_its_open_checkout_at_stripe(cast: Cast, stripe_double):
    import stripe

    from marketplace.payments.models import Purchase

    work = cast.minted()
    opened = cast.client.post(f"/api/works/{work['id']}/checkout", headers=cast.buyer["headers"], json=CHECKOUT_BODY)
    assert opened.status_code == 201, opened.text
    assert cast.hide(work["id"]).status_code == 200
    with Session(db.get_engine()) as session:
        purchase = session.get(Purchase, opened.json()["purchase_id"])
    assert (purchase.status, purchase.failure_reason) == ("expired", "The work was hidden by moderation")
    remote = stripe.StripeClient(stripe_double.api_key, base_addresses={"api": stripe_double.api_base}) \
        .v1.checkout.sessions.retrieve(purchase.stripe_session_id)
    assert remote.status == "expired"  # it can no longer be paid
    own = cast.client.get(f"/api/works/{work['id']}", headers=cast.creator["headers"]).json()
    assert own["sale_status"] == "available"
