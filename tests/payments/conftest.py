from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest
from sqlmodel import Session, select

from marketplace.core import db
from marketplace.payments.models import LedgerEntry, Purchase, StripeEvent
from tests.conftest import Api

CHECKOUT_BODY = {"accept_immediate_supply": True, "accept_license": True}
BUY_FORM = {"accept_license": "yes", "accept_immediate_supply": "yes"}  # the work page's two required boxes


class Shop(Api):
    """The API helper plus what a buyer does on Stripe's hosted page."""

    def __init__(self, live) -> None:
        super().__init__(live.client)
        self.live = live

    def settings(self):
        return self.live.settings

    def minted_work(self, creator: dict, **fields) -> dict:
        work = self.upload(creator, **fields).json()
        r = self.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])
        assert r.status_code == 202, r.text
        return self.wait_for_status(work["id"], "minted")

    def checkout(self, buyer: dict, work_id: int, **body):
        """POST /api/works/{id}/checkout as a well-behaved client: the buyer consents to immediate supply and has
        read the licence (CHECKOUT_BODY); `body` adds or overrides fields (accept_license=False, wallet_address)."""
        return self.client.post(f"/api/works/{work_id}/checkout", headers=buyer["headers"],
                                json={**CHECKOUT_BODY, **body})

    def hosted(self, checkout_url: str, action: str):
        """GET the hosted page like a browser, then press a button. Returns the final response (no redirects)."""
        import httpx

        page = httpx.get(checkout_url, timeout=10)
        assert page.status_code == 200
        labels = re.findall(r"<button[^>]*>\s*([^<]+?)\s*</button>", page.text)
        assert {"Pay", "Decline", "Cancel"} <= set(labels), labels
        path = urlparse(checkout_url).path
        return httpx.post(f"{self.live.double.public_url}{path}/{action}", timeout=10, follow_redirects=False)

    def hosted_pay(self, checkout_url: str, card: str):
        """Pay on the hosted page with this card number (Stripe's test cards decide what happens)."""
        import httpx

        path = urlparse(checkout_url).path
        return httpx.post(f"{self.live.double.public_url}{path}/pay", data={"card": card}, timeout=10,
                          follow_redirects=False)

    def page(self, user: dict, path: str, **headers):
        """A page as this user's browser sees it (signed in: the session cookie holds the same access token)."""
        token = user["headers"]["Authorization"].split()[1]
        return self.client.get(path.replace(self.live.url, ""), headers={"Cookie": f"mp_session={token}", **headers})

    def form_post(self, user: dict, page_path: str, action: str, data: dict | None = None, headers=None):
        """Open a page as the user's browser (for its CSRF cookie and token), then post a form of it to `action`.
        Returns the response (no redirects followed)."""
        token = user["headers"]["Authorization"].split()[1]
        page = self.client.get(page_path, headers={"Cookie": f"mp_session={token}"})
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
        nonce = page.cookies["mp_csrf"]  # a new nonce: the request sent none (an explicit Cookie header)
        return self.client.post(action, data={"csrf_token": csrf, **(data or {})}, follow_redirects=False,
                                headers={"Cookie": f"mp_session={token}; mp_csrf={nonce}", **(headers or {})})

    def purchase(self, buyer: dict, purchase_id: int) -> dict:
        r = self.client.get(f"/api/purchases/{purchase_id}", headers=buyer["headers"])
        assert r.status_code == 200, r.text
        return r.json()

    def wait_purchase(self, buyer: dict, purchase_id: int, status: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            body = self.purchase(buyer, purchase_id)
            if body["status"] == status:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"purchase {purchase_id} stayed {body['status']!r} ({body['failure_reason']})")
            time.sleep(0.05)


@pytest.fixture
def shop(make_live) -> Shop:
    return Shop(make_live())


def rows(model) -> list:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(model)).all())


def purchases() -> list[Purchase]:
    return rows(Purchase)


def ledger() -> list[LedgerEntry]:
    return rows(LedgerEntry)


def events() -> list[StripeEvent]:
    return rows(StripeEvent)
