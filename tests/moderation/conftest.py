"""The moderation tests' cast: a creator with a minted work, a co-creator, a buyer, an admin, on an app that talks
to the Stripe double (so a checkout of the work really reaches Stripe's wire format)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, png_bytes
from tests.plugins.live_fixtures import WEBHOOK_SECRET
from tests.web.helpers import WebUser

CHECKOUT_BODY = {"accept_immediate_supply": True, "accept_license": True}


@dataclass
class Cast:
    client: TestClient
    api: Api
    creator: dict
    buyer: dict
    admin: dict

    def minted(self, title: str = "Moselle Light") -> dict:
        ns = time.monotonic_ns()
        r = self.api.upload(self.creator, title=title, content=png_bytes((48, 48), (ns % 251, 7, (ns // 7) % 251)))
        assert r.status_code == 201, r.text
        work = r.json()
        assert self.client.post(f"/api/works/{work['id']}/mint", headers=self.creator["headers"]).status_code == 202
        return self.api.wait_for_status(work["id"], "minted")

    def browser(self, user: dict | None) -> WebUser:
        browser = WebUser(self.client)
        if user is not None:
            browser.client.cookies.set("mp_session", user["headers"]["Authorization"].split()[1])
        return browser

    def hide(self, work_id: int, reason: str = "A copy of a protected photograph (notice 1)."):
        return self.client.post(f"/api/admin/works/{work_id}/hide", headers=self.admin["headers"],
                                json={"reason": reason})

    def notices(self, user: dict) -> list[dict]:
        return self.client.get("/api/me/notices", headers=user["headers"]).json()["notices"]


@pytest.fixture
def cast(make_client, stripe_double) -> Cast:
    client = make_client(stripe_api_base=stripe_double.api_base, stripe_api_key=stripe_double.api_key,
                         stripe_webhook_secret=WEBHOOK_SECRET, stripe_max_network_retries=0)
    api = Api(client)
    return Cast(client=client, api=api, creator=api.register(role="creator", name="Anna Creator"),
                buyer=api.register(role="buyer", name="Ben Buyer"), admin=api.register_admin())
