"""Real parts for the tests: anvil, an IPFS node (js-ipfs), SQLite and PostgreSQL. See tests/plugins/."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from marketplace.core.config import Settings
from marketplace.main import create_app

pytest_plugins = [
    "tests.plugins.ipfs_fixtures",
    "tests.plugins.chain_fixtures",
    "tests.plugins.db_fixtures",
    "tests.plugins.live_fixtures",
    "tests.plugins.mail_fixtures",
    "tests.plugins.table_owners",
    "tests.plugins.browser_fixtures",
]


@pytest.fixture
def make_settings(tmp_path, db_url, anvil, ipfs_node, contract_address, splits_address,
                  mail_sink) -> Callable[..., Settings]:
    def make(**overrides) -> Settings:
        values = dict(
            env="test",
            data_dir=tmp_path / "data",
            database_url=db_url,
            rpc_url=anvil.rpc_url,
            ipfs_api_url=ipfs_node.api_addr,
            ipfs_timeout_s=20.0,
            contract_address=contract_address,
            splits_address=splits_address,
            mint_poll_interval_s=0.05,
            job_retry_backoff_s=0.05,  # retries after a fault come quickly (the backoff itself: tests/jobs)
            public_base_url="http://testserver",
            # every test client calls from one address: per-address limits sized for the whole suite's users
            # (the per-account limits keep their defaults; tests/accounts/test_abuse.py sets its own)
            rate_limit_signin_address="10000/minute",
            rate_limit_register_address="10000/minute",
            rate_limit_checkout_address="10000/minute",
            rate_limit_mail_address="10000/minute",
            rate_limit_report_address="10000/minute",
            # mails go over SMTP to the dev tools' mail sink (tests/plugins/mail_fixtures.py)
            smtp_host=mail_sink.host,
            smtp_port=mail_sink.smtp_port,
            mail_poll_interval_s=0.05,
        )
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def make_client(make_settings) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**overrides) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)))
        client.__enter__()  # runs the lifespan: services and the mint worker
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


class Api:
    """Small helpers that speak the public API the way a client would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._n = 0

    def register(self, *, role: str = "creator", name: str | None = None, password: str = "correct horse 1") -> dict:
        self._n += 1
        email = f"{role}{self._n}-{time.monotonic_ns()}@example.lu"
        r = self.client.post("/api/auth/register", json={
            "email": email, "password": password, "display_name": name or f"{role.title()} {self._n}", "role": role})
        assert r.status_code == 201, r.text
        token = self.client.post("/api/auth/token", data={"username": email, "password": password})
        assert token.status_code == 200, token.text
        user = r.json()
        user["headers"] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        user["password"] = password
        return user

    def settings(self) -> Settings:
        return self.client.app.state.settings

    def register_admin(self, *, password: str = "correct horse 1") -> dict:
        """Admins are made by an operator (`marketplace create-admin`), never by sign-up: the same service call."""
        from sqlmodel import Session

        from marketplace.accounts import service as accounts_service
        from marketplace.accounts.models import AccountCreate, Role
        from marketplace.core import db

        self._n += 1
        email = f"admin{self._n}-{time.monotonic_ns()}@example.lu"
        with Session(db.get_engine()) as session:
            accounts_service.register(session=session, account_in=AccountCreate(
                email=email, password=password, display_name="Admin", role=Role.admin),
                wallet_secret=self.settings().wallet_secret.get_secret_value(), allow_admin=True)
        token = self.client.post("/api/auth/token", data={"username": email, "password": password})
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        return {**self.client.get("/api/me", headers=headers).json(), "headers": headers, "password": password}

    def upload(self, user: dict, *, content: bytes | None = None, filename: str = "work.png", **fields):
        data = {
            "title": "Moselle Light", "description": "A photograph of the Moselle at dawn.",
            "discipline": "photography", "price_cents": "2500", "currency": "EUR", "royalty_bps": "500",
            "license": "CC-BY-4.0",
        }
        data.update({k: str(v) for k, v in fields.items()})
        content = png_bytes() if content is None else content
        return self.client.post("/api/works", headers=user["headers"], data=data,
                                files={"file": (filename, content, "application/octet-stream")})

    def wait_for_status(self, work_id: int, status: str, *, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            body = self.client.get(f"/api/works/{work_id}").json()
            if body["status"] == status:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"work {work_id} stayed {body['status']!r}: {body.get('mint_error')}")
            time.sleep(0.05)


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def png_bytes(size: tuple[int, int] = (1200, 800), color=(0, 163, 224)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()
