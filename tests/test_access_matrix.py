"""The access matrix: every route of the app x every role x ownership, with the status each must get.

The routes are read from the app's own route table, so a new endpoint without a row here fails
`test_every_route_has_a_row`. Each request's response also carries the security headers (JSON included).

Roles: anonymous, buyer, other buyer, creator (who owns the works and whose buyer made the purchase), other creator,
admin. API calls sign in with a bearer token, pages with the session cookie (and a CSRF token on form posts).
Requests that change state get a fresh resource each (a fresh draft to mint, a fresh minted work to buy), so the
order of the rows does not matter.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from devtools.stripe_double import sign_webhook_payload
from marketplace.catalog import licences
from marketplace.core import db
from marketplace.payments.models import Purchase
from tests.calls.conftest import call_body
from tests.catalog.test_works_api import wav_bytes
from tests.conftest import Api, png_bytes
from tests.plugins.live_fixtures import WEBHOOK_SECRET

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.slow]

CHECKOUT_BODY = {"accept_immediate_supply": True, "accept_license": True}  # what a checkout must say
ROLES = ("anonymous", "buyer", "other_buyer", "creator", "other_creator", "admin")
CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def app_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route, through included routers (FastAPI includes them lazily)."""
    def walk(routes, prefix=""):
        for route in routes:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                for method in route.methods:
                    yield method, prefix + route.path
    return sorted(set(walk(app.router.routes)))


@dataclass
class Scene:
    """Who is who, and what they own."""

    client: TestClient
    api: Api
    users: dict[str, dict] = field(default_factory=dict)
    draft: dict = field(default_factory=dict)
    cover_draft: dict = field(default_factory=dict)  # an audio draft with a cover image
    minted: dict = field(default_factory=dict)
    purchase_id: int = 0
    double: object = None  # the Stripe double
    memo: dict = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], object]):
        """One resource per row, made on first use (a row's roles share it; each row has its own)."""
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]

    def headers(self, role: str) -> dict:
        return {} if role == "anonymous" else dict(self.users[role]["headers"])

    def cookie(self, role: str) -> dict:
        if role == "anonymous":
            return {}
        return {"Cookie": f"mp_session={self.users[role]['headers']['Authorization'].split()[1]}"}

    def fresh_draft(self) -> dict:
        # distinct pixels each time (a later minted work with the same bytes would publish this draft's media CID)
        ns = time.monotonic_ns()
        r = self.api.upload(self.users["creator"], content=png_bytes((64, 64), (ns % 251, (ns // 251) % 251, 2)))
        assert r.status_code == 201, r.text
        return r.json()

    def fresh_minted(self) -> dict:
        draft = self.fresh_draft()
        r = self.client.post(f"/api/works/{draft['id']}/mint", headers=self.headers("creator"))
        assert r.status_code == 202, r.text
        return self.api.wait_for_status(draft["id"], "minted")

    def fresh_co_draft(self) -> dict:
        """A fresh draft of the creator's that the other creator is invited to co-sign."""
        draft = self.fresh_draft()
        r = self.client.put(f"/api/works/{draft['id']}/collaborators", headers=self.headers("creator"), json={
            "collaborators": self.crew()})
        assert r.status_code == 200, r.text
        return draft

    def crew(self) -> list[dict]:
        return [{"user_id": self.users["creator"]["id"], "share_bps": 6000, "role": "photographer"},
                {"user_id": self.users["other_creator"]["id"], "share_bps": 4000, "role": "retoucher"}]

    def fresh_purchase(self, *, cancelled: bool = False) -> int:
        """The buyer's pending checkout of a fresh minted work (or cancelled already)."""
        r = self.client.post(f"/api/works/{self.fresh_minted()['id']}/checkout", headers=self.headers("buyer"),
                             json=CHECKOUT_BODY)
        assert r.status_code == 201, r.text
        purchase_id = r.json()["purchase_id"]
        if cancelled:
            done = self.client.post(f"/api/purchases/{purchase_id}/cancel", headers=self.headers("buyer"))
            assert done.status_code == 200, done.text
        return purchase_id

    def paid_purchase(self) -> int:
        """The buyer's paid purchase of a fresh minted work: paid on the double's hosted page, its signed
        `checkout.session.completed` event posted to the app as Stripe does."""
        r = self.client.post(f"/api/works/{self.fresh_minted()['id']}/checkout", headers=self.headers("buyer"),
                             json=CHECKOUT_BODY)
        assert r.status_code == 201, r.text
        purchase_id, checkout_url = r.json()["purchase_id"], r.json()["checkout_url"]
        session_id = checkout_url.rstrip("/").rsplit("/", 1)[-1]
        paid = httpx.post(f"{self.double.public_url}{httpx.URL(checkout_url).path}/pay", timeout=10)
        assert paid.status_code == 303, paid.text
        (event,) = [e for e in self.double.events("checkout.session.completed")
                    if e["data"]["object"]["id"] == session_id]
        payload = json.dumps(event).encode()
        done = self.client.post("/api/stripe/webhook", content=payload, headers={
            "Stripe-Signature": sign_webhook_payload(payload, WEBHOOK_SECRET), "Content-Type": "application/json"})
        assert done.status_code == 200, done.text
        assert self.client.get(f"/api/purchases/{purchase_id}", headers=self.headers("buyer")).json()["status"] in (
            "paid", "delivered")
        return purchase_id

    def held(self) -> dict:
        """The buyer's delivered purchase of a fresh work: its token is in their custody wallet."""
        purchase_id = self.paid_purchase()
        deadline = time.monotonic() + 30
        while (body := self.client.get(f"/api/purchases/{purchase_id}", headers=self.headers("buyer")).json())[
                "status"] != "delivered":
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        return body

    def held_token(self) -> str:
        return str(self.held()["token_id"])

    def buyer_wallet(self) -> str:
        """The buyer's linked wallet (linked once, through a signed EIP-4361 message)."""
        def make() -> str:
            from tests.resale.wallet_helpers import WALLET, link

            assert link(self, self.users["buyer"], WALLET).status_code == 201
            return WALLET.address
        return self.once("buyer-wallet", make)

    def fresh_listing(self) -> dict:
        """The buyer's listing of a token they hold."""
        r = self.client.post(f"/api/tokens/{self.held_token()}/listings", headers=self.headers("buyer"),
                             json={"price_cents": 4200})
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture
def scene(make_client, stripe_double) -> Scene:
    client = make_client(stripe_api_base=stripe_double.api_base, stripe_api_key=stripe_double.api_key,
                         stripe_webhook_secret=WEBHOOK_SECRET, stripe_max_network_retries=0,
                         signin_failure_delay_s=0.001, signin_failure_delay_max_s=0.004,
                         # the rows make more checkouts a minute than a buyer may: the limits are tested elsewhere
                         rate_limit_checkout="10000/minute", rate_limit_checkout_address="10000/minute",
                         rate_limit_report_address="10000/minute")
    api = Api(client)
    s = Scene(client=client, api=api, double=stripe_double)
    for role in ROLES[1:-1]:
        kind = "buyer" if "buyer" in role else "creator"
        s.users[role] = api.register(role=kind, name=role.replace("_", " ").title())
    s.users["admin"] = api.register_admin()
    s.draft = s.fresh_draft()
    r = client.post("/api/works", headers=s.headers("creator"), data={
        "title": "Theme", "discipline": "music", "price_cents": "900", "license": "CC0-1.0"}, files={
        "file": ("theme.wav", wav_bytes(), "audio/wav"), "cover": ("cover.png", png_bytes((64, 64)), "image/png")})
    assert r.status_code == 201 and r.json()["cover_cid"], r.text
    s.cover_draft = r.json()
    s.minted = s.fresh_minted()
    r = client.post(f"/api/works/{s.minted['id']}/checkout", headers=s.headers("buyer"), json=CHECKOUT_BODY)
    assert r.status_code == 201, r.text
    s.purchase_id = r.json()["purchase_id"]
    return s


# ----------------------------------------------------------------------------------------------- the rows
# A row: how to make the request for a role (returns the response), and the status each role must get.
Call = Callable[[Scene, str], object]
OK_ALL = dict.fromkeys(ROLES, 200)


def _by(anonymous, buyer, other_buyer, creator, other_creator, admin) -> dict[str, int | tuple[int, ...]]:
    return dict(zip(ROLES, (anonymous, buyer, other_buyer, creator, other_creator, admin), strict=True))


def api_get(path: str) -> Call:
    return lambda s, role: s.client.get(path.format(s=s), headers=s.headers(role))


def page_get(path: str) -> Call:
    return lambda s, role: s.client.get(path.format(s=s), headers={**s.cookie(role), "Accept": "text/html"},
                                        follow_redirects=False)


def page_head(path: str) -> Call:
    return lambda s, role: s.client.head(path.format(s=s), headers=s.cookie(role), follow_redirects=False)


def page_post(path: str | Callable[[Scene], str], data: dict | None = None, files=None) -> Call:
    """A form post as the role's browser makes it: open a page for the CSRF cookie and token, then post."""
    def call(s: Scene, role: str):
        browser = TestClient(s.client.app, base_url=str(s.client.base_url), follow_redirects=False)
        if role != "anonymous":
            browser.cookies.set("mp_session", s.users[role]["headers"]["Authorization"].split()[1])
        page = browser.get("/signin")
        token = CSRF_RE.search(page.text).group(1)
        target = path(s) if callable(path) else path.format(s=s)
        return browser.post(target, data={"csrf_token": token, **(data or {})}, files=files)
    return call


def _register(s: Scene, role: str):
    return s.client.post("/api/auth/register", headers=s.headers(role), json={
        "email": f"new-{time.monotonic_ns()}@example.lu", "password": "correct horse 1", "display_name": "New",
        "role": "buyer"})


def _token(s: Scene, role: str):
    if role == "anonymous":
        return s.client.post("/api/auth/token", data={"username": "nobody@example.lu", "password": "wrong pass"})
    user = s.users[role]
    return s.client.post("/api/auth/token", data={"username": user["email"], "password": user["password"]})


def _signout(s: Scene, role: str):
    if role == "anonymous":
        return s.client.post("/api/auth/signout")
    fresh = _token(s, role).json()["access_token"]  # a second session of the account: the matrix's stays valid
    return s.client.post("/api/auth/signout", headers={"Authorization": f"Bearer {fresh}"})


def _page_signout(s: Scene, role: str):
    """Signing out revokes the session's token: sign out a second session of the account, not the matrix's."""
    if role == "anonymous":
        return page_post("/signout")(s, role)
    fresh = _token(s, role).json()["access_token"]
    other = Scene(client=s.client, api=s.api, users={role: {"headers": {"Authorization": f"Bearer {fresh}"}}})
    return page_post("/signout")(other, role)


def _upload(s: Scene, role: str):
    return s.api.upload({"headers": s.headers(role)}, content=png_bytes((32, 32), (9, 9, time.monotonic_ns() % 255)))


def _patch(work: str) -> Call:
    def call(s: Scene, role: str):
        target = {"draft": s.fresh_draft, "minted": lambda: s.once("patch-minted", s.fresh_minted),
                  "reserved": lambda: s.minted}[work]()
        return s.client.patch(f"/api/works/{target['id']}", json={"price_cents": 3100}, headers=s.headers(role))
    return call


def _mint_fresh_draft(s: Scene, role: str):
    return s.client.post(f"/api/works/{s.fresh_draft()['id']}/mint", headers=s.headers(role))


def _checkout_fresh(s: Scene, role: str):
    return s.client.post(f"/api/works/{s.fresh_minted()['id']}/checkout", headers=s.headers(role), json=CHECKOUT_BODY)


def _checkout_without_consent(s: Scene, role: str):
    """A checkout that does not say accept_immediate_supply: refused (422) before anything is reserved."""
    return s.client.post(f"/api/works/{s.once('no-consent', s.fresh_minted)['id']}/checkout", headers=s.headers(role),
                         json={"accept_license": True})


def _api_cancel(key: str, *, cancelled: bool = False) -> Call:
    def call(s: Scene, role: str):
        purchase_id = s.once(key, lambda: s.fresh_purchase(cancelled=cancelled))
        return s.client.post(f"/api/purchases/{purchase_id}/cancel", headers=s.headers(role))
    return call


def _webhook(s: Scene, role: str):
    return s.client.post("/api/stripe/webhook", headers=s.headers(role), content=b"{}")


def _ipfs_draft(s: Scene, role: str):
    return s.client.get(f"/ipfs/{s.draft['media_cid']}", headers=s.cookie(role))


def _ipfs_draft_bearer(s: Scene, role: str):
    return s.client.get(f"/ipfs/{s.draft['media_cid']}", headers=s.headers(role))


def _call(s: Scene, stage: str) -> dict:
    """A fresh call posted by the buyer: `open`; with the creator's proposal inviting the other creator
    (`forming`); with the creator's team of one submitted (`solo`) or awarded (`awarded`). Returns {call, proposal}."""
    call = s.client.post("/api/calls", headers=s.headers("buyer"), json=call_body()).json()
    if stage == "open":
        return {"call": call}
    members = [{"user_id": s.users["creator"]["id"], "share_bps": 6000 if stage == "forming" else 10_000,
                "role": "composer"}]
    if stage == "forming":
        members.append({"user_id": s.users["other_creator"]["id"], "share_bps": 4000, "role": "filmmaker"})
    r = s.client.post(f"/api/calls/{call['id']}/proposals", headers=s.headers("creator"),
                      json={"title": "Team", "pitch": "Together.", "team": members})
    assert r.status_code == 201, r.text
    proposal = r.json()
    if stage == "awarded":
        r = s.client.post(f"/api/calls/{call['id']}/proposals/{proposal['id']}/award", headers=s.headers("buyer"))
        assert r.status_code == 200, r.text
    return {"call": call, "proposal": proposal}


def _on_call(key: str, stage: str, request: Callable[[Scene, str, dict], object]) -> Call:
    """One fresh call per row (made on first use), passed to the request with its proposal."""
    return lambda s, role: request(s, role, s.once(key, lambda: _call(s, stage)))


def _api_post(path: str, json: Callable[[Scene, str], dict] | None = None) -> Callable[[Scene, str, dict], object]:
    def call(s: Scene, role: str, made: dict):
        target = path.format(call=made["call"]["id"], proposal=made.get("proposal", {}).get("id"))
        return s.client.post(target, headers=s.headers(role), json=json(s, role) if json else None)
    return call


def _page_post_on(path: str, data: dict | None = None) -> Callable[[Scene, str, dict], object]:
    def call(s: Scene, role: str, made: dict):
        return page_post(path.format(call=made["call"]["id"], proposal=made.get("proposal", {}).get("id")),
                         data)(s, role)
    return call


def _solo_team(s: Scene, role: str) -> dict:
    user_id = s.users[role]["id"] if role != "anonymous" else 1
    return {"title": "Alone", "pitch": "Me.", "team": [{"user_id": user_id, "share_bps": 10_000, "role": "all"}]}


def _page_upload(s: Scene, role: str):
    return page_post("/studio/works", data={
        "title": "Page upload", "discipline": "design", "license": "CC0-1.0", "price": "12", "royalty": "0"},
        files={"file": ("p.png", png_bytes((40, 40), (1, 2, time.monotonic_ns() % 255)), "image/png")})(s, role)


def _put_crew(work: str) -> Call:
    def call(s: Scene, role: str):
        target = {"draft": s.fresh_draft, "co-draft": lambda: s.once("put-co-draft", s.fresh_co_draft),
                  "minted": lambda: s.minted}[work]()
        return s.client.put(f"/api/works/{target['id']}/collaborators", json={"collaborators": s.crew()},
                            headers=s.headers(role))
    return call


def _answer(action: str, *, page: bool = False) -> Call:
    """The answer to the invitation to a co-draft of this row (the other creator is invited), or to the minted
    work nobody was invited to."""
    def call(s: Scene, role: str):
        work_id = s.once(f"{action}-{page}", s.fresh_co_draft)["id"]
        if page:
            return page_post(f"/studio/works/{work_id}/collaborators/{action}")(s, role)
        return s.client.post(f"/api/works/{work_id}/collaborators/{action}", headers=s.headers(role))
    return call


def _page_crew(s: Scene, role: str):
    return page_post(lambda s: f"/studio/works/{s.fresh_draft()['id']}/collaborators", data={
        "user_id": str(s.users["creator"]["id"]), "name": "Creator", "share": "100", "role": "photographer"})(s, role)


def _fresh_account(s: Scene, role: str) -> dict:
    """A new account of the role's kind, for rows that delete the account (the matrix's own must stay)."""
    if role == "admin":
        return s.api.register_admin()
    return s.api.register(role="buyer" if "buyer" in role else "creator", name=f"Fresh {role}")


def _delete_me(*, right_password: bool) -> Call:
    def call(s: Scene, role: str):
        if role == "anonymous":
            return s.client.request("DELETE", "/api/me", json={"password": "whatever it is"})
        user = _fresh_account(s, role) if right_password else s.users[role]
        password = user["password"] if right_password else "not the password"
        return s.client.request("DELETE", "/api/me", headers=user["headers"], json={"password": password})
    return call


def _page_delete_fresh(s: Scene, role: str):
    if role == "anonymous":
        return page_post("/account/delete", {"confirm": "yes", "password": "whatever it is"})(s, role)
    user = _fresh_account(s, role)
    other = Scene(client=s.client, api=s.api, users={role: user})
    return page_post("/account/delete", {"confirm": "yes", "password": user["password"]})(other, role)


def _avatar(s: Scene, role: str):
    return s.client.put("/api/me/avatar", headers=s.headers(role), files={
        "file": ("me.png", png_bytes((48, 48), (3, 4, time.monotonic_ns() % 255)), "image/png")})


def _unique_email() -> str:
    return f"someone-{time.monotonic_ns()}@example.lu"


def _throwaway(s: Scene, role: str) -> str:
    """A fresh account's token (signing out everywhere must not sign the matrix's accounts out)."""
    email = _unique_email()
    r = s.client.post("/api/auth/register", json={"email": email, "password": "correct horse 1",
                                                   "display_name": "Gone", "role": "buyer"})
    assert r.status_code == 201, r.text
    return s.client.post("/api/auth/token", data={"username": email, "password": "correct horse 1"}).json()[
        "access_token"]


def _signout_everywhere(s: Scene, role: str):
    if role == "anonymous":
        return s.client.post("/api/me/signout-everywhere")
    return s.client.post("/api/me/signout-everywhere", headers={"Authorization": f"Bearer {_throwaway(s, role)}"})


def _page_signout_everywhere(s: Scene, role: str):
    if role == "anonymous":
        return page_post("/account/signout-everywhere")(s, role)
    other = Scene(client=s.client, api=s.api,
                  users={role: {"headers": {"Authorization": f"Bearer {_throwaway(s, role)}"}}})
    return page_post("/account/signout-everywhere")(other, role)


def _others_notice(s: Scene) -> int:
    """A notice of the other creator's: the invitation to co-sign a fresh co-draft."""
    s.fresh_co_draft()
    return s.client.get("/api/me/notices", headers=s.headers("other_creator")).json()["notices"][0]["id"]


def _read_notice(s: Scene, role: str):
    notice_id = s.once("read-notice", lambda: _others_notice(s))
    return s.client.post(f"/api/me/notices/{notice_id}/read", headers=s.headers(role))


def _organisation(s: Scene) -> dict:
    """An organisation (made by the admin) whose admin is the creator."""
    def make() -> dict:
        r = s.client.post("/api/organisations", headers=s.headers("admin"), json={
            "name": f"Matrix Studio {time.monotonic_ns()}", "kind": "studio"})
        assert r.status_code == 201, r.text
        org = r.json()
        added = s.client.post(f"/api/organisations/{org['slug']}/members", headers=s.headers("admin"),
                              json={"account_id": s.users["creator"]["id"], "role": "admin"})
        assert added.status_code == 201, added.text
        return org
    return s.once("organisation", make)


def _create_organisation(s: Scene, role: str):
    return s.client.post("/api/organisations", headers=s.headers(role), json={
        "name": f"New {role} {time.monotonic_ns()}", "kind": "hub"})


def _add_org_member(s: Scene, role: str):
    return s.client.post(f"/api/organisations/{_organisation(s)['slug']}/members", headers=s.headers(role),
                         json={"account_id": s.users["other_creator"]["id"]})


def _remove_org_member(s: Scene, role: str):
    """The other creator's membership (made again before each role's try) removed: by the organisation's or the
    site's admin, or by the other creator leaving."""
    slug = _organisation(s)["slug"]
    again = s.client.post(f"/api/organisations/{slug}/members", headers=s.headers("admin"),
                          json={"account_id": s.users["other_creator"]["id"]})
    assert again.status_code == 201, again.text
    return s.client.delete(f"/api/organisations/{slug}/members/{s.users['other_creator']['id']}",
                           headers=s.headers(role))


def _hidden(s: Scene) -> dict:
    """A fresh minted work the admin hid."""
    work = s.fresh_minted()
    r = s.client.post(f"/api/admin/works/{work['id']}/hide", headers=s.headers("admin"), json={"reason": "Notice."})
    assert r.status_code == 200, r.text
    return work


def _open_report(s: Scene) -> int:
    r = s.client.post(f"/api/works/{s.minted['id']}/reports", json={"reason": "other", "details": "Matrix."})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _exhibition(s: Scene, *, with_work: bool = False) -> str:
    slug = f"matrix-{time.monotonic_ns()}"
    today = datetime.now(UTC).date()
    r = s.client.post("/api/exhibitions", headers=s.headers("admin"), json={
        "slug": slug, "title": "Matrix", "starts_on": today.isoformat(), "ends_on": today.isoformat()})
    assert r.status_code == 201, r.text
    if with_work:
        r = s.client.post(f"/api/exhibitions/{slug}/works", headers=s.headers("admin"),
                          json={"work_id": s.minted["id"]})
        assert r.status_code == 201, r.text
    return slug


def _exhibition_body() -> dict:
    today = datetime.now(UTC).date().isoformat()
    return {"slug": f"new-{time.monotonic_ns()}", "title": "New", "starts_on": today, "ends_on": today}


def _on_exhibition(key: str, request: Callable[[Scene, str, str], object], *, with_work: bool = False) -> Call:
    return lambda s, role: request(s, role, s.once(key, lambda: _exhibition(s, with_work=with_work)))


REPORT = {"reason": "other", "details": "Looks wrong."}
ADMINS_ONLY = _by(401, 403, 403, 403, 403, 200)
ADMIN_PAGE_POST = _by(303, 403, 403, 403, 403, 303)
ACCEPTED = {"accept_license": "yes", "accept_immediate_supply": "yes"}  # the buyer ticked both required boxes
IN_A_MONTH = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
DRAFT_PRIVATE = _by(404, 404, 404, 200, 404, 200)
CO_DRAFT = _by(404, 404, 404, 200, 200, 200)  # a draft the other creator is invited to co-sign
def _link_own_wallet(s: Scene, role: str):
    """Each role links a wallet of its own (a key of the role's), signing a fresh nonce's message."""
    from eth_account import Account as EthAccount

    from tests.resale.wallet_helpers import link

    key = EthAccount.from_key(bytes(range(1, 33))[:31] + bytes([ROLES.index(role) + 1]))
    if role == "anonymous":  # no nonce for a signed-out caller: post a message without one
        return s.client.post("/api/me/wallets", json={"message": "hello", "signature": "0x00"})
    return link(s, s.users[role], key)


def _buyer_links_other(s: Scene) -> str:
    from tests.resale.wallet_helpers import OTHER_WALLET, link

    assert link(s, s.users["buyer"], OTHER_WALLET).status_code == 201
    return OTHER_WALLET.address


def _withdraw_held(s: Scene, role: str):
    token = s.once("withdraw-token", s.held_token)
    return s.client.post(f"/api/tokens/{token}/withdraw", headers=s.headers(role),
                         json={"to_address": s.buyer_wallet()})


def _page_withdraw_held(s: Scene, role: str):
    held = s.once("page-withdraw-token", s.held)
    return page_post(f"/collection/{held['work_id']}/withdraw",
                     {"token_id": str(held["token_id"]), "to_address": s.buyer_wallet()})(s, role)


SIGNED_IN = _by(401, 200, 200, 200, 200, 200)
CREATORS_OWN = _by(401, 403, 403, 200, 403, 200)

ROWS: dict[tuple[str, str], list[tuple[str, Call, dict]]] = {
    ("GET", "/api/health"): [("", api_get("/api/health"), OK_ALL)],
    ("GET", "/healthz"): [("", api_get("/healthz"), OK_ALL)],
    ("GET", "/readyz"): [("every part up", api_get("/readyz"), OK_ALL)],
    # public by default (METRICS_TOKEN restricts it: tests/test_operations.py)
    ("GET", "/metrics"): [("", api_get("/metrics"), OK_ALL)],
    ("POST", "/api/auth/register"): [("", _register, dict.fromkeys(ROLES, 201))],
    ("POST", "/api/auth/token"): [("own credentials", _token, _by(401, 200, 200, 200, 200, 200))],
    ("POST", "/api/auth/signout"): [("", _signout, _by(401, 204, 204, 204, 204, 204))],
    ("GET", "/api/me"): [("", api_get("/api/me"), SIGNED_IN)],
    ("POST", "/api/auth/verify-email"): [("unknown link", lambda s, r: s.client.post(
        "/api/auth/verify-email", headers=s.headers(r), json={"token": "not-a-link"}), dict.fromkeys(ROLES, 400))],
    ("POST", "/api/auth/password-reset"): [("any e-mail", lambda s, r: s.client.post(
        "/api/auth/password-reset", headers=s.headers(r), json={"email": _unique_email()}),
        dict.fromkeys(ROLES, 202))],
    ("POST", "/api/auth/password-reset/confirm"): [("unknown link", lambda s, r: s.client.post(
        "/api/auth/password-reset/confirm", headers=s.headers(r), json={"token": "not-a-link",
                                                                         "password": "long enough 1"}),
        dict.fromkeys(ROLES, 400))],
    ("POST", "/api/auth/confirm-email"): [("unknown link", lambda s, r: s.client.post(
        "/api/auth/confirm-email", headers=s.headers(r), json={"token": "not-a-link"}), dict.fromkeys(ROLES, 400))],
    ("POST", "/api/me/verification"): [("", lambda s, r: s.client.post("/api/me/verification", headers=s.headers(r)),
                                        _by(401, 202, 202, 202, 202, 202))],
    ("POST", "/api/me/email"): [("wrong password", lambda s, r: s.client.post(
        "/api/me/email", headers=s.headers(r), json={"new_email": _unique_email(), "password": "wrong pass"}),
        _by(401, 400, 400, 400, 400, 400))],
    ("POST", "/api/me/password"): [("wrong current password", lambda s, r: s.client.post(
        "/api/me/password", headers=s.headers(r), json={"current_password": "wrong pass",
                                                        "new_password": "long enough 1"}),
        _by(401, 400, 400, 400, 400, 400))],
    ("POST", "/api/me/signout-everywhere"): [("a fresh account", _signout_everywhere,
                                              _by(401, 204, 204, 204, 204, 204))],
    ("GET", "/api/me/notices"): [("", api_get("/api/me/notices"), SIGNED_IN)],
    ("POST", "/api/me/notices/read"): [("", lambda s, r: s.client.post("/api/me/notices/read", headers=s.headers(r)),
                                        _by(401, 204, 204, 204, 204, 204))],
    ("POST", "/api/me/notices/{notice_id}/read"): [("the other creator's notice", _read_notice,
                                                    _by(401, 404, 404, 404, 204, 404))],
    ("POST", "/api/works"): [("", _upload, _by(401, 403, 403, 201, 201, 201))],
    ("GET", "/api/works"): [("", api_get("/api/works"), OK_ALL)],
    ("GET", "/api/works/{work_id}"): [
        ("draft", api_get("/api/works/{s.draft[id]}"), DRAFT_PRIVATE),
        ("co-draft", lambda s, r: s.client.get(f"/api/works/{s.once('get-co-draft', s.fresh_co_draft)['id']}",
                                               headers=s.headers(r)), CO_DRAFT),
        ("minted", api_get("/api/works/{s.minted[id]}"), OK_ALL),
        ("hidden by moderation", lambda s, r: s.client.get(f"/api/works/{s.once('get-hidden', lambda: _hidden(s))['id']}",
                                                           headers=s.headers(r)), DRAFT_PRIVATE)],
    ("PUT", "/api/works/{work_id}/collaborators"): [
        ("fresh draft", _put_crew("draft"), _by(401, 403, 403, 200, 404, 403)),
        ("a draft the other creator is invited to", _put_crew("co-draft"), _by(401, 403, 403, 200, 403, 403)),
        ("minted", _put_crew("minted"), _by(401, 403, 403, 409, 403, 403))],
    ("POST", "/api/works/{work_id}/collaborators/accept"): [
        ("co-draft", _answer("accept"), _by(401, 404, 404, 409, 200, 403)),
        ("minted, nobody invited", lambda s, r: s.client.post(f"/api/works/{s.minted['id']}/collaborators/accept",
                                                              headers=s.headers(r)), _by(401, 403, 403, 409, 403, 403))],
    ("POST", "/api/works/{work_id}/collaborators/decline"): [
        ("co-draft", _answer("decline"), _by(401, 404, 404, 409, 200, 403))],
    ("GET", "/api/creators"): [("", api_get("/api/creators?q=creator&skill=x&location=y"), OK_ALL)],
    ("GET", "/api/creators/{account_id}"): [
        ("a creator", api_get("/api/creators/{s.users[creator][id]}"), OK_ALL),
        ("a buyer", api_get("/api/creators/{s.users[buyer][id]}"), dict.fromkeys(ROLES, 404))],
    ("GET", "/api/me/profile"): [("", api_get("/api/me/profile"), SIGNED_IN)],
    ("PUT", "/api/me/profile"): [("own", lambda s, r: s.client.put("/api/me/profile", headers=s.headers(r), json={
        "bio": "Hello.", "skills": ["foley"]}), SIGNED_IN)],
    ("PUT", "/api/me/avatar"): [("own", _avatar, SIGNED_IN)],
    ("DELETE", "/api/me/avatar"): [("own", lambda s, r: s.client.delete("/api/me/avatar", headers=s.headers(r)),
                                    SIGNED_IN)],
    ("GET", "/api/me/export"): [("own", api_get("/api/me/export"), SIGNED_IN)],
    ("DELETE", "/api/me"): [
        ("a fresh account, its password", _delete_me(right_password=True), _by(401, 204, 204, 204, 204, 204)),
        ("a wrong password", _delete_me(right_password=False), _by(401, 403, 403, 403, 403, 403))],
    ("GET", "/api/me/ledger"): [("", api_get("/api/me/ledger"), SIGNED_IN)],
    ("PATCH", "/api/works/{work_id}"): [
        ("draft", _patch("draft"), _by(401, 403, 403, 200, 404, 200)),
        ("minted", _patch("minted"), CREATORS_OWN),
        ("a buyer's checkout open: the price is fixed", _patch("reserved"), _by(401, 403, 403, 409, 403, 409))],
    ("POST", "/api/works/{work_id}/mint"): [
        ("draft", _mint_fresh_draft, _by(401, 403, 403, 202, 404, 202)),
        ("minted", lambda s, r: s.client.post(f"/api/works/{s.minted['id']}/mint", headers=s.headers(r)),
         _by(401, 403, 403, 409, 403, 409))],
    ("GET", "/api/chain"): [("", api_get("/api/chain"), OK_ALL)],
    ("GET", "/api/tokens/{token_id}/history"): [
        ("minted", api_get("/api/tokens/{s.minted[token_id]}/history"), OK_ALL),
        ("unknown", api_get("/api/tokens/12345/history"), dict.fromkeys(ROLES, 404))],
    ("GET", "/api/me/activity"): [("", api_get("/api/me/activity"), SIGNED_IN)],
    ("POST", "/api/tokens/{token_id}/listings"): [
        ("a token the buyer holds", lambda s, r: s.client.post(
            f"/api/tokens/{s.once('list-token', s.held_token)}/listings", headers=s.headers(r),
            json={"price_cents": 4000}), _by(401, 201, 403, 403, 403, 403)),
        ("unknown token", lambda s, r: s.client.post("/api/tokens/12345/listings", headers=s.headers(r),
                                                     json={"price_cents": 4000}), _by(401, 404, 404, 404, 404, 404))],
    ("GET", "/api/auth/siwe/nonce"): [("", api_get("/api/auth/siwe/nonce"), SIGNED_IN)],
    ("POST", "/api/me/wallets"): [
        ("a message signed by a wallet of the role's", _link_own_wallet, _by(401, 201, 201, 201, 201, 201)),
        ("not EIP-4361", lambda s, r: s.client.post("/api/me/wallets", headers=s.headers(r), json={
            "message": "hello", "signature": "0x00"}), _by(401, 400, 400, 400, 400, 400))],
    ("GET", "/api/me/wallets"): [("", api_get("/api/me/wallets"), SIGNED_IN)],
    ("DELETE", "/api/me/wallets/{address}"): [
        ("a wallet the buyer linked", lambda s, r: s.client.delete(
            f"/api/me/wallets/{s.once('unlink-wallet', lambda: _buyer_links_other(s))}", headers=s.headers(r)),
         _by(401, 204, 404, 404, 404, 404)),
        ("unknown", lambda s, r: s.client.delete("/api/me/wallets/0x000000000000000000000000000000000000dEaD",
                                                 headers=s.headers(r)), _by(401, 404, 404, 404, 404, 404))],
    ("POST", "/api/tokens/{token_id}/withdraw"): [
        ("a token the buyer holds, to the buyer's wallet", _withdraw_held, _by(401, 202, 422, 422, 422, 422)),
        ("unknown token", lambda s, r: s.client.post("/api/tokens/12345/withdraw", headers=s.headers(r), json={
            "to_address": "0x000000000000000000000000000000000000dEaD"}), _by(401, 404, 404, 404, 404, 404))],
    ("GET", "/api/listings"): [("", api_get("/api/listings"), OK_ALL)],
    ("DELETE", "/api/listings/{listing_id}"): [
        ("the buyer's listing", lambda s, r: s.client.delete(
            f"/api/listings/{s.once('cancel-listing', s.fresh_listing)['id']}", headers=s.headers(r)),
         _by(401, 200, 403, 403, 403, 409)),
        ("unknown", lambda s, r: s.client.delete("/api/listings/424242", headers=s.headers(r)),
         _by(401, 404, 404, 404, 404, 404))],
    ("POST", "/api/listings/{listing_id}/checkout"): [
        ("the buyer's listing", lambda s, r: s.client.post(
            f"/api/listings/{s.once('buy-listing', s.fresh_listing)['id']}/checkout", headers=s.headers(r),
            json=CHECKOUT_BODY), _by(401, 409, 201, 409, 409, 409))],
    ("GET", "/api/licenses"): [("", api_get("/api/licenses"), OK_ALL)],
    ("POST", "/api/works/{work_id}/checkout"): [
        ("fresh minted work", _checkout_fresh, _by(401, 201, 201, 409, 201, 201)),
        ("draft", lambda s, r: s.client.post(f"/api/works/{s.draft['id']}/checkout", headers=s.headers(r),
                                             json=CHECKOUT_BODY),
         _by(401, 404, 404, 409, 404, 409)),
        ("reserved by the buyer", lambda s, r: s.client.post(f"/api/works/{s.minted['id']}/checkout",
                                                             headers=s.headers(r), json=CHECKOUT_BODY),
         _by(401, 201, 409, 409, 409, 409)),
        ("without the consent to immediate supply", _checkout_without_consent, _by(401, 422, 422, 409, 422, 422)),
        ("hidden by moderation", lambda s, r: s.client.post(
            f"/api/works/{s.once('checkout-hidden', lambda: _hidden(s))['id']}/checkout", headers=s.headers(r),
            json=CHECKOUT_BODY), _by(401, 409, 409, 409, 409, 409))],
    ("POST", "/api/stripe/webhook"): [("unsigned", _webhook, dict.fromkeys(ROLES, 400))],
    ("GET", "/api/purchases"): [("", api_get("/api/purchases"), SIGNED_IN)],
    ("GET", "/api/purchases/{purchase_id}"): [
        ("the buyer's", api_get("/api/purchases/{s.purchase_id}"), _by(401, 200, 404, 404, 404, 200))],
    ("POST", "/api/purchases/{purchase_id}/cancel"): [
        ("the buyer's pending checkout", _api_cancel("api-cancel"), _by(401, 200, 404, 404, 404, 403)),
        ("cancelled already", _api_cancel("api-cancelled", cancelled=True), _by(401, 409, 404, 404, 404, 403))],
    ("GET", "/api/me/earnings"): [("", api_get("/api/me/earnings"), SIGNED_IN)],
    ("GET", "/api/me/payouts"): [("", api_get("/api/me/payouts"), SIGNED_IN)],
    ("POST", "/api/me/payouts/onboarding"): [
        ("", lambda s, r: s.client.post("/api/me/payouts/onboarding", headers=s.headers(r)),
         _by(401, 403, 403, 200, 200, 200))],
    ("GET", "/ipfs/{cid}"): [
        ("draft media, cookie", _ipfs_draft, DRAFT_PRIVATE),
        ("draft media, bearer", _ipfs_draft_bearer, DRAFT_PRIVATE),
        ("draft cover, cookie", lambda s, r: s.client.get(f"/ipfs/{s.cover_draft['cover_cid']}", headers=s.cookie(r)),
         DRAFT_PRIVATE),
        ("draft cover's thumbnail, bearer",
         lambda s, r: s.client.get(f"/ipfs/{s.cover_draft['thumbnail_cid']}", headers=s.headers(r)), DRAFT_PRIVATE),
        ("licence terms", lambda s, r: s.client.get(f"/ipfs/{licences.get('commercial-use').cid}",
                                                    headers=s.cookie(r)), OK_ALL),
        ("published media", lambda s, r: s.client.get(f"/ipfs/{s.minted['media_cid']}"), OK_ALL)],
    ("POST", "/api/calls"): [("", lambda s, r: s.client.post("/api/calls", headers=s.headers(r), json=call_body()),
                              _by(401, 201, 201, 201, 201, 201))],
    ("GET", "/api/calls"): [("", api_get("/api/calls"), OK_ALL)],
    ("GET", "/api/calls/{call_id}"): [("", _on_call("api-get-call", "open", lambda s, r, m: s.client.get(
        f"/api/calls/{m['call']['id']}", headers=s.headers(r))), OK_ALL)],
    ("POST", "/api/calls/{call_id}/proposals"): [
        ("a team of one", _on_call("api-propose", "open", _api_post("/api/calls/{call}/proposals", _solo_team)),
         _by(401, 403, 403, 201, 201, 201))],
    ("GET", "/api/calls/{call_id}/proposals"): [
        ("", _on_call("api-proposals", "forming", lambda s, r, m: s.client.get(
            f"/api/calls/{m['call']['id']}/proposals", headers=s.headers(r))), SIGNED_IN)],
    ("POST", "/api/calls/{call_id}/proposals/{proposal_id}/accept"): [
        ("the other creator is invited", _on_call("api-accept", "forming", _api_post(
            "/api/calls/{call}/proposals/{proposal}/accept")), _by(401, 403, 403, 409, 200, 403))],
    ("POST", "/api/calls/{call_id}/proposals/{proposal_id}/decline"): [
        ("the other creator is invited", _on_call("api-decline", "forming", _api_post(
            "/api/calls/{call}/proposals/{proposal}/decline")), _by(401, 403, 403, 409, 200, 403))],
    ("POST", "/api/calls/{call_id}/proposals/{proposal_id}/award"): [
        ("the buyer's call, the creator's submitted proposal", _on_call("api-award", "solo", _api_post(
            "/api/calls/{call}/proposals/{proposal}/award")), _by(401, 200, 403, 403, 403, 403))],
    ("POST", "/api/calls/{call_id}/checkout"): [
        ("the buyer's awarded call", _on_call("api-call-checkout", "awarded", _api_post(
            "/api/calls/{call}/checkout")), _by(401, 201, 403, 403, 403, 403))],
    ("POST", "/api/calls/{call_id}/deliver"): [
        ("awarded, not paid", _on_call("api-deliver", "awarded", _api_post(
            "/api/calls/{call}/deliver", lambda s, r: {"work_id": s.minted["id"]})),
         _by(401, 403, 403, 409, 403, 403))],
    ("GET", "/api/organisations"): [("", api_get("/api/organisations?kind=studio&q=matrix"), OK_ALL)],
    ("GET", "/api/organisations/{slug}"): [
        ("", lambda s, r: s.client.get(f"/api/organisations/{_organisation(s)['slug']}", headers=s.headers(r)),
         OK_ALL),
        ("unknown", api_get("/api/organisations/no-such-organisation"), dict.fromkeys(ROLES, 404))],
    ("POST", "/api/organisations"): [("", _create_organisation, _by(401, 403, 403, 403, 403, 201))],
    ("POST", "/api/organisations/{slug}/members"): [
        ("the creator is the organisation's admin", _add_org_member, _by(401, 403, 403, 201, 403, 201))],
    ("DELETE", "/api/organisations/{slug}/members/{account_id}"): [
        ("the other creator's membership", _remove_org_member, _by(401, 403, 403, 204, 204, 204))],
    ("GET", "/api/network"): [("", api_get("/api/network"), OK_ALL)],
    ("GET", "/api/insights/{figure}"): [
        ("json", api_get("/api/insights/sales-by-month"), OK_ALL),
        ("csv", api_get("/api/insights/payouts?format=csv"), OK_ALL),
        ("unknown", api_get("/api/insights/no-such-figure"), dict.fromkeys(ROLES, 404))],
    ("POST", "/api/works/{work_id}/reports"): [
        ("minted", lambda s, r: s.client.post(f"/api/works/{s.once('api-report', s.fresh_minted)['id']}/reports",
                                              headers=s.headers(r), json=REPORT), dict.fromkeys(ROLES, 201)),
        ("draft", lambda s, r: s.client.post(f"/api/works/{s.draft['id']}/reports", headers=s.headers(r),
                                             json=REPORT), _by(404, 404, 404, 201, 404, 201)),
        ("hidden", lambda s, r: s.client.post(f"/api/works/{s.once('report-hidden', lambda: _hidden(s))['id']}"
                                              "/reports", headers=s.headers(r), json=REPORT),
         _by(404, 404, 404, 201, 404, 201))],
    ("GET", "/api/admin/reports"): [("", api_get("/api/admin/reports"), ADMINS_ONLY)],
    ("GET", "/api/admin/moderation-log"): [("", api_get("/api/admin/moderation-log"), ADMINS_ONLY)],
    ("POST", "/api/admin/works/{work_id}/hide"): [
        ("minted", lambda s, r: s.client.post(f"/api/admin/works/{s.once('api-hide', s.fresh_minted)['id']}/hide",
                                              headers=s.headers(r), json={"reason": "Notice."}), ADMINS_ONLY)],
    ("POST", "/api/admin/works/{work_id}/restore"): [
        ("hidden", lambda s, r: s.client.post(
            f"/api/admin/works/{s.once('api-restore', lambda: _hidden(s))['id']}/restore", headers=s.headers(r),
            json={"reason": "Fine."}), ADMINS_ONLY)],
    ("POST", "/api/admin/reports/{report_id}/dismiss"): [
        ("open", lambda s, r: s.client.post(f"/api/admin/reports/{s.once('api-dismiss', lambda: _open_report(s))}"
                                            "/dismiss", headers=s.headers(r), json={"reason": "Fine."}),
         ADMINS_ONLY)],
    ("GET", "/api/exhibitions"): [("", api_get("/api/exhibitions?current=true"), OK_ALL)],
    ("POST", "/api/exhibitions"): [("", lambda s, r: s.client.post("/api/exhibitions", headers=s.headers(r),
                                                                   json=_exhibition_body()),
                                    _by(401, 403, 403, 403, 403, 201))],
    ("GET", "/api/exhibitions/{slug}"): [("", _on_exhibition("api-get-exhibition", lambda s, r, slug: s.client.get(
        f"/api/exhibitions/{slug}", headers=s.headers(r)), with_work=True), OK_ALL)],
    ("PUT", "/api/exhibitions/{slug}"): [("", _on_exhibition("api-put-exhibition", lambda s, r, slug: s.client.put(
        f"/api/exhibitions/{slug}", headers=s.headers(r), json={"place": "Esch"})), ADMINS_ONLY)],
    ("PATCH", "/api/exhibitions/{slug}"): [("", _on_exhibition("api-patch-exhibition", lambda s, r, slug: s.client
                                                               .patch(f"/api/exhibitions/{slug}", headers=s.headers(r),
                                                                      json={"text": "Hello."})), ADMINS_ONLY)],
    ("POST", "/api/exhibitions/{slug}/works"): [
        ("", _on_exhibition("api-add-work", lambda s, r, slug: s.client.post(
            f"/api/exhibitions/{slug}/works", headers=s.headers(r), json={"work_id": s.minted["id"]})),
         _by(401, 403, 403, 403, 403, 201))],
    ("DELETE", "/api/exhibitions/{slug}/works/{work_id}"): [
        ("", _on_exhibition("api-remove-work", lambda s, r, slug: s.client.delete(
            f"/api/exhibitions/{slug}/works/{s.minted['id']}", headers=s.headers(r)), with_work=True),
         _by(401, 403, 403, 403, 403, 204))],
    # pages
    ("GET", "/"): [("", page_get("/"), OK_ALL)],
    ("POST", "/works/{work_id}/report"): [
        ("minted", lambda s, r: page_post(f"/works/{s.once('page-report', s.fresh_minted)['id']}/report",
                                          REPORT)(s, r), OK_ALL),
        ("draft, reported already through the API", page_post("/works/{s.draft[id]}/report", REPORT),
         _by(404, 404, 404, 409, 404, 409))],
    ("GET", "/admin/reports"): [("", page_get("/admin/reports"), _by(303, 403, 403, 403, 403, 200))],
    ("POST", "/admin/works/{work_id}/hide"): [
        ("minted", lambda s, r: page_post(f"/admin/works/{s.once('page-hide', s.fresh_minted)['id']}/hide",
                                          {"reason": "Notice."})(s, r), ADMIN_PAGE_POST)],
    ("POST", "/admin/works/{work_id}/restore"): [
        ("hidden", lambda s, r: page_post(f"/admin/works/{s.once('page-restore', lambda: _hidden(s))['id']}/restore",
                                          {"reason": "Fine."})(s, r), ADMIN_PAGE_POST)],
    ("POST", "/admin/reports/{report_id}/dismiss"): [
        ("open", lambda s, r: page_post(f"/admin/reports/{s.once('page-dismiss', lambda: _open_report(s))}/dismiss",
                                        {"reason": "Fine."})(s, r), ADMIN_PAGE_POST)],
    ("GET", "/exhibitions"): [("", page_get("/exhibitions"), OK_ALL)],
    ("GET", "/exhibitions/{slug}"): [
        ("", _on_exhibition("page-exhibition", lambda s, r, slug: page_get(f"/exhibitions/{slug}")(s, r),
                            with_work=True), OK_ALL),
        ("unknown", page_get("/exhibitions/nowhere"), dict.fromkeys(ROLES, 404))],
    ("GET", "/exhibitions/new"): [("", page_get("/exhibitions/new"), _by(303, 403, 403, 403, 403, 200))],
    ("POST", "/exhibitions"): [("", lambda s, r: page_post("/exhibitions", {
        **_exhibition_body(), "event_kind": "fair"})(s, r), ADMIN_PAGE_POST)],
    ("GET", "/exhibitions/{slug}/curate"): [
        ("", _on_exhibition("page-curate", lambda s, r, slug: page_get(f"/exhibitions/{slug}/curate")(s, r),
                            with_work=True), _by(303, 403, 403, 403, 403, 200))],
    ("POST", "/exhibitions/{slug}/edit"): [
        ("", _on_exhibition("page-edit-exhibition", lambda s, r, slug: page_post(f"/exhibitions/{slug}/edit", {
            k: v for k, v in _exhibition_body().items() if k != "slug"})(s, r)), ADMIN_PAGE_POST)],
    ("POST", "/exhibitions/{slug}/works"): [
        ("", lambda s, r: page_post(f"/exhibitions/{_exhibition(s)}/works", {"work_id": str(s.minted["id"])})(s, r),
         ADMIN_PAGE_POST)],
    ("POST", "/exhibitions/{slug}/works/{work_id}/remove"): [
        ("", lambda s, r: page_post(f"/exhibitions/{_exhibition(s, with_work=True)}/works/{s.minted['id']}/remove")(
            s, r), ADMIN_PAGE_POST)],
    ("GET", "/calls"): [("", page_get("/calls"), OK_ALL)],
    ("GET", "/calls/new"): [("", page_get("/calls/new"), _by(303, 200, 200, 200, 200, 200))],
    ("POST", "/calls"): [("", page_post("/calls", {"title": "Page call", "brief": "Brief", "disciplines": "music",
                                                   "budget": "100", "deadline": IN_A_MONTH}),
                          dict.fromkeys(ROLES, 303))],
    ("GET", "/calls/{call_id}"): [
        ("", _on_call("page-call", "forming", lambda s, r, m: page_get(f"/calls/{m['call']['id']}")(s, r)), OK_ALL)],
    ("GET", "/calls/{call_id}/answer"): [
        ("", _on_call("page-answer", "open", lambda s, r, m: page_get(f"/calls/{m['call']['id']}/answer")(s, r)),
         _by(303, 403, 403, 200, 200, 200))],
    ("POST", "/calls/{call_id}/answer"): [
        ("an empty form", _on_call("page-answer-post", "open", _page_post_on("/calls/{call}/answer")),
         _by(303, 403, 403, 422, 422, 422))],
    ("POST", "/calls/{call_id}/proposals/{proposal_id}/{action}"): [
        ("accept: the other creator is invited", _on_call("page-accept", "forming", _page_post_on(
            "/calls/{call}/proposals/{proposal}/accept")), _by(303, 403, 403, 409, 303, 403)),
        ("award: the buyer's call", _on_call("page-award", "solo", _page_post_on(
            "/calls/{call}/proposals/{proposal}/award")), _by(303, 303, 403, 403, 403, 403)),
        ("an unknown action", _on_call("page-action", "solo", _page_post_on(
            "/calls/{call}/proposals/{proposal}/sell")), dict.fromkeys(ROLES, 404))],
    ("POST", "/calls/{call_id}/pay"): [
        ("the buyer's awarded call", _on_call("page-pay", "awarded", _page_post_on("/calls/{call}/pay")),
         _by(303, 303, 403, 403, 403, 403))],
    ("POST", "/calls/{call_id}/deliver"): [
        ("awarded, not paid", _on_call("page-deliver", "awarded", lambda s, r, m: page_post(
            f"/calls/{m['call']['id']}/deliver", {"work_id": str(s.minted["id"])})(s, r)),
         _by(303, 403, 403, 409, 403, 403))],
    ("GET", "/organisations"): [("", page_get("/organisations?kind=hub&q=x"), OK_ALL)],
    ("GET", "/organisations/{slug}"): [
        ("", lambda s, r: page_get(f"/organisations/{_organisation(s)['slug']}")(s, r), OK_ALL),
        ("unknown", page_get("/organisations/no-such-organisation"), dict.fromkeys(ROLES, 404))],
    ("GET", "/network"): [("", page_get("/network"), OK_ALL)],
    ("GET", "/insights"): [("", page_get("/insights"), OK_ALL)],
    ("GET", "/about"): [("", page_get("/about"), OK_ALL)],
    ("GET", "/terms"): [("", page_get("/terms"), OK_ALL)],
    ("GET", "/privacy"): [("", page_get("/privacy"), OK_ALL)],
    ("GET", "/imprint"): [("", page_get("/imprint"), OK_ALL)],
    ("GET", "/signin"): [("", page_get("/signin"), OK_ALL)],
    ("GET", "/signup"): [("", page_get("/signup"), OK_ALL)],
    ("POST", "/signin"): [("wrong password", page_post("/signin", {"email": "x@example.lu", "password": "nope nope"}),
                           dict.fromkeys(ROLES, 400))],
    ("POST", "/signup"): [("invalid", page_post("/signup", {"email": "not-an-email"}), dict.fromkeys(ROLES, 400))],
    ("POST", "/signout"): [("", _page_signout, dict.fromkeys(ROLES, 303))],
    ("GET", "/forgot-password"): [("", page_get("/forgot-password"), OK_ALL)],
    ("POST", "/forgot-password"): [("any e-mail", lambda s, r: page_post("/forgot-password", {
        "email": _unique_email()})(s, r), OK_ALL)],
    ("GET", "/reset-password"): [("unknown link", page_get("/reset-password?token=nope"), dict.fromkeys(ROLES, 400))],
    ("POST", "/reset-password"): [("unknown link", page_post("/reset-password", {
        "token": "nope", "password": "long enough 1", "password_again": "long enough 1"}), dict.fromkeys(ROLES, 400))],
    ("GET", "/verify-email"): [("unknown link", page_get("/verify-email?token=nope"), dict.fromkeys(ROLES, 400))],
    ("GET", "/confirm-email"): [("unknown link", page_get("/confirm-email?token=nope"), dict.fromkeys(ROLES, 400))],
    ("GET", "/account"): [("", page_get("/account"), _by(303, 200, 200, 200, 200, 200))],
    ("POST", "/account/verification"): [("", page_post("/account/verification"), dict.fromkeys(ROLES, 303))],
    ("POST", "/account/email"): [("wrong password", lambda s, r: page_post("/account/email", {
        "new_email": _unique_email(), "password": "wrong pass"})(s, r), _by(303, 400, 400, 400, 400, 400))],
    ("POST", "/account/password"): [("wrong current password", page_post("/account/password", {
        "current_password": "wrong pass", "new_password": "long enough 1"}), _by(303, 400, 400, 400, 400, 400))],
    ("POST", "/account/signout-everywhere"): [("a fresh account", _page_signout_everywhere,
                                               dict.fromkeys(ROLES, 303))],
    ("GET", "/notices"): [("", page_get("/notices"), _by(303, 200, 200, 200, 200, 200))],
    ("POST", "/notices/read"): [("", page_post("/notices/read"), dict.fromkeys(ROLES, 303))],
    ("GET", "/studio"): [("", page_get("/studio"), _by(303, 200, 200, 200, 200, 200))],
    ("POST", "/studio/works"): [("", _page_upload, _by(403, 403, 403, 303, 303, 303))],
    ("GET", "/studio/payouts"): [("", page_get("/studio/payouts"), _by(303, 200, 200, 200, 200, 200))],
    ("GET", "/studio/payouts/statement"): [
        ("csv", page_get("/studio/payouts/statement?month=2026-12&format=csv"), _by(303, 403, 403, 200, 200, 200)),
        ("pdf", page_get("/studio/payouts/statement?month=2026-12&format=pdf"), _by(303, 403, 403, 200, 200, 200))],
    ("POST", "/studio/payouts/onboarding"): [
        ("", page_post("/studio/payouts/onboarding"), _by(303, 403, 403, 303, 303, 303))],
    ("GET", "/studio/works/{work_id}/status"): [
        ("draft", page_get("/studio/works/{s.draft[id]}/status"), DRAFT_PRIVATE),
        ("minted", page_get("/studio/works/{s.minted[id]}/status"), _by(404, 404, 404, 200, 403, 200))],
    ("POST", "/studio/works/{work_id}/mint"): [
        ("fresh draft", page_post(lambda s: f"/studio/works/{s.fresh_draft()['id']}/mint"),
         _by(404, 404, 404, 303, 404, 303))],
    ("POST", "/studio/works/{work_id}/price"): [
        ("draft", page_post("/studio/works/{s.draft[id]}/price", {"price": "31"}), _by(404, 404, 404, 303, 404, 303)),
        ("minted", page_post("/studio/works/{s.minted[id]}/price", {"price": "32"}),
         _by(404, 404, 404, 303, 403, 303))],
    ("GET", "/purchases/{purchase_id}"): [
        ("the buyer's", page_get("/purchases/{s.purchase_id}"), _by(303, 200, 404, 404, 404, 200))],
    ("GET", "/purchases/{purchase_id}/receipt"): [
        ("the buyer's paid purchase", lambda s, r: page_get(
            f"/purchases/{s.once('receipt', s.paid_purchase)}/receipt")(s, r), _by(303, 200, 404, 404, 404, 200)),
        ("not paid yet", page_get("/purchases/{s.purchase_id}/receipt"), _by(303, 404, 404, 404, 404, 404))],
    ("GET", "/purchases/{purchase_id}/receipt.pdf"): [
        ("the buyer's paid purchase", lambda s, r: page_get(
            f"/purchases/{s.once('receipt', s.paid_purchase)}/receipt.pdf")(s, r), _by(303, 200, 404, 404, 404, 200)),
        ("not paid yet", page_get("/purchases/{s.purchase_id}/receipt.pdf"), _by(303, 404, 404, 404, 404, 404))],
    ("GET", "/purchases/{purchase_id}/status"): [
        ("the buyer's", page_get("/purchases/{s.purchase_id}/status"), _by(404, 200, 404, 404, 404, 200))],
    ("POST", "/purchases/{purchase_id}/cancel"): [
        ("the buyer's pending checkout",
         page_post(lambda s: f"/purchases/{s.once('page-cancel', s.fresh_purchase)}/cancel"),
         _by(303, 303, 404, 404, 404, 403))],
    ("POST", "/studio/works/{work_id}/collaborators"): [
        ("fresh draft", _page_crew, _by(404, 404, 404, 303, 404, 422))],
    ("POST", "/studio/works/{work_id}/collaborators/accept"): [
        ("co-draft", _answer("accept", page=True), _by(404, 404, 404, 409, 303, 403))],
    ("POST", "/studio/works/{work_id}/collaborators/decline"): [
        ("co-draft", _answer("decline", page=True), _by(404, 404, 404, 409, 303, 403))],
    ("GET", "/creators"): [("", page_get("/creators?q=creator"), OK_ALL)],
    ("GET", "/collection"): [("", page_get("/collection"), _by(303, 200, 200, 200, 200, 200))],
    ("GET", "/studio/profile"): [("", page_get("/studio/profile"), _by(303, 200, 200, 200, 200, 200))],
    ("POST", "/studio/profile"): [("own", page_post("/studio/profile", {"display_name": "Same", "bio": "Hi"}),
                                   dict.fromkeys(ROLES, 303)),
                                  ("a javascript: link", page_post("/studio/profile", {
                                      "display_name": "Same", "links": "javascript:alert(1)"}),
                                   _by(303, 422, 422, 422, 422, 422))],
    ("POST", "/studio/profile/avatar"): [
        ("own", lambda s, r: page_post("/studio/profile/avatar", files={
            "avatar": ("me.png", png_bytes((40, 40), (8, 8, time.monotonic_ns() % 255)), "image/png")})(s, r),
         dict.fromkeys(ROLES, 303))],
    ("POST", "/studio/profile/avatar/delete"): [("own", page_post("/studio/profile/avatar/delete"),
                                                 dict.fromkeys(ROLES, 303))],
    ("GET", "/account/export"): [("", page_get("/account/export"), _by(303, 200, 200, 200, 200, 200))],
    ("GET", "/account/delete"): [("", page_get("/account/delete"), _by(303, 200, 200, 200, 200, 200))],
    ("POST", "/account/delete"): [
        ("not ticked", page_post("/account/delete", {"password": "whatever it is"}),
         _by(303, 400, 400, 400, 400, 400)),
        ("a fresh account, ticked, its password", _page_delete_fresh, dict.fromkeys(ROLES, 303))],
    ("GET", "/works/{work_id}"): [
        ("draft", page_get("/works/{s.draft[id]}"), DRAFT_PRIVATE),
        ("co-draft", lambda s, r: page_get(f"/works/{s.once('page-co-draft', s.fresh_co_draft)['id']}")(s, r),
         CO_DRAFT),
        ("minted", page_get("/works/{s.minted[id]}"), OK_ALL),
        ("hidden by moderation", lambda s, r: page_get(f"/works/{s.once('page-hidden', lambda: _hidden(s))['id']}")(
            s, r), DRAFT_PRIVATE)],
    ("POST", "/collection/{work_id}/resell"): [
        ("a token the buyer holds", lambda s, r: page_post(
            f"/collection/{s.once('page-resell', s.held)['work_id']}/resell",
            {"price": "40", "token_id": str(s.once('page-resell', s.held)["token_id"])})(s, r),
         _by(303, 303, 403, 403, 403, 403)),
        ("a bad price", lambda s, r: page_post(
            f"/collection/{s.once('page-resell-bad', s.held)['work_id']}/resell",
            {"price": "zero", "token_id": str(s.once('page-resell-bad', s.held)["token_id"])})(s, r),
         _by(303, 422, 422, 422, 422, 422))],
    ("POST", "/collection/{work_id}/withdraw"): [
        ("a token the buyer holds, to the buyer's wallet", _page_withdraw_held, _by(303, 303, 422, 422, 422, 422))],
    ("POST", "/account/wallets/message"): [
        ("an address", page_post("/account/wallets/message", {"address": "0x000000000000000000000000000000000000dEaD"}),
         _by(401, 200, 200, 200, 200, 200)),
        ("not an address", page_post("/account/wallets/message", {"address": "nope"}),
         _by(401, 422, 422, 422, 422, 422))],
    ("POST", "/account/wallets"): [
        ("not EIP-4361", page_post("/account/wallets", {"message": "hello", "signature": "0x00"}),
         _by(303, 400, 400, 400, 400, 400))],
    ("POST", "/account/wallets/unlink"): [
        ("unknown", page_post("/account/wallets/unlink", {"address": "0x000000000000000000000000000000000000dEaD"}),
         _by(303, 404, 404, 404, 404, 404))],
    ("POST", "/listings/{listing_id}/withdraw"): [
        ("the buyer's listing", page_post(lambda s: f"/listings/{s.once('page-withdraw', s.fresh_listing)['id']}/withdraw"),
         _by(303, 303, 403, 403, 403, 409)),
        ("unknown", page_post("/listings/424242/withdraw"), _by(303, 404, 404, 404, 404, 404))],
    ("POST", "/listings/{listing_id}/buy"): [
        ("the buyer's listing", page_post(lambda s: f"/listings/{s.once('page-buy', s.fresh_listing)['id']}/buy",
                                          ACCEPTED), _by(303, 409, 303, 409, 409, 409)),
        ("unknown", page_post("/listings/424242/buy", ACCEPTED), dict.fromkeys(ROLES, 404))],
    ("POST", "/works/{work_id}/buy"): [
        ("fresh minted work", page_post(lambda s: f"/works/{s.fresh_minted()['id']}/buy", ACCEPTED),
         _by(303, 303, 303, 409, 303, 303)),
        ("the licence not ticked", page_post(lambda s: f"/works/{s.fresh_minted()['id']}/buy",
                                             {"accept_immediate_supply": "yes"}), _by(303, 422, 422, 422, 422, 422)),
        ("the consent to immediate supply not ticked", page_post(
            lambda s: f"/works/{s.once('page-no-consent', s.fresh_minted)['id']}/buy", {"accept_license": "yes"}),
         _by(303, 422, 422, 422, 422, 422)),
        ("draft", page_post("/works/{s.draft[id]}/buy", ACCEPTED), _by(303, 404, 404, 409, 404, 409)),
        ("hidden by moderation", lambda s, r: page_post(
            f"/works/{s.once('page-buy-hidden', lambda: _hidden(s))['id']}/buy", ACCEPTED)(s, r),
         _by(303, 409, 409, 409, 409, 409))],
    ("GET", "/creators/{account_id}"): [
        ("a creator", page_get("/creators/{s.users[creator][id]}"), OK_ALL),
        ("a buyer", page_get("/creators/{s.users[buyer][id]}"), dict.fromkeys(ROLES, 404))],
    ("GET", "/tokens/{token}"): [("minted", page_get("/tokens/{s.minted[token_id]}"), OK_ALL),
                                 ("unknown", page_get("/tokens/12345"), dict.fromkeys(ROLES, 404))],
    ("GET", "/lang/{code}"): [("fr", page_get("/lang/fr"), dict.fromkeys(ROLES, 303)),
                              ("unknown", page_get("/lang/xx"), dict.fromkeys(ROLES, 404))],
    ("GET", "/openapi.json"): [("", page_get("/openapi.json"), OK_ALL)],
    ("GET", "/docs"): [("", page_get("/docs"), OK_ALL)],
    ("GET", "/docs/oauth2-redirect"): [("", page_get("/docs/oauth2-redirect"), OK_ALL)],
    ("GET", "/redoc"): [("", page_get("/redoc"), OK_ALL)],
}
# HEAD answers like GET wherever the framework adds it
for _method, _path in list(ROWS):
    if _method == "GET" and _path in ("/openapi.json", "/ipfs/{cid}"):
        ROWS[("HEAD", _path)] = [(what, page_head(_path.replace("{cid}", "{s.minted[media_cid]}")), expected)
                                 for what, _, expected in ROWS[(_method, _path)][-1:]]

SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "content-security-policy", "referrer-policy")


def test_every_route_has_a_row(client):
    missing = [f"{m} {p}" for m, p in app_routes(client.app) if (m, p) not in ROWS]
    assert not missing, f"routes without a row in the access matrix: {missing}"
    stale = [f"{m} {p}" for m, p in ROWS if (m, p) not in set(app_routes(client.app))]
    assert not stale, f"rows for routes the app no longer has: {stale}"


def test_access_matrix(scene: Scene):
    failures: list[str] = []
    for (method, path), cases in ROWS.items():
        for what, call, expected in cases:
            for role in ROLES:
                r = call(scene, role)
                want = expected[role]
                allowed = want if isinstance(want, tuple) else (want,)
                label = f"{method} {path} [{what}] as {role}"
                if r.status_code not in allowed:
                    failures.append(f"{label}: {r.status_code}, expected {want} ({r.text[:120]!r})")
                missing = [h for h in SECURITY_HEADERS if h not in r.headers]
                if missing:
                    failures.append(f"{label}: missing security headers {missing}")
                elif r.headers["x-content-type-options"] != "nosniff":
                    failures.append(f"{label}: x-content-type-options {r.headers['x-content-type-options']}")
    assert not failures, "\n".join(failures)


def test_the_buyer_s_purchase_stays_theirs(scene: Scene):
    """What the matrix's 404s protect: nothing of the purchase reaches anyone else."""
    with Session(db.get_engine()) as session:
        purchase = session.get(Purchase, scene.purchase_id)
    for role in ("other_buyer", "creator", "other_creator"):
        page = scene.client.get(f"/purchases/{scene.purchase_id}", headers=scene.cookie(role))
        assert scene.minted["title"] not in page.text and "25.00" not in page.text
        assert str(purchase.amount_cents) not in scene.client.get(
            f"/api/purchases/{scene.purchase_id}", headers=scene.headers(role)).text
