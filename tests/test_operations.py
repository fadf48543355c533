"""Operations endpoints and logs against the real parts: /healthz, /readyz (anvil, IPFS, the Stripe double, the
database; a dead IPFS or chain port makes it 503 naming the part), /metrics after a real sale, JSON log lines
with the request id and the purchase id, and no secret in any line."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from marketplace.core import observability
from marketplace.core.config import DEV_MINTER_KEY
from marketplace.integrations.chain.client import ChainClient
from marketplace.integrations.ipfs.client import IpfsClient
from tests.payments.conftest import Shop

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


def dead_port() -> int:
    from devtools.procs import pick_free_port

    return pick_free_port()


@pytest.fixture
def stripe_client(make_client, stripe_double):
    # the healthy parts get room to answer on a loaded machine (a CI run's two cores); a part that is down fails
    # at once (connection refused), whatever the timeout
    return make_client(stripe_api_base=stripe_double.api_base, stripe_api_key=stripe_double.api_key,
                       stripe_max_network_retries=0, readyz_timeout_s=15.0)


@pytest.fixture
def log_lines():
    """Every log line the process writes while the test runs, through the app's own formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)

    def lines() -> list[dict]:
        handler.flush()
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    lines.raw = stream.getvalue  # type: ignore[attr-defined]
    yield lines
    root.removeHandler(handler)


def metrics(client) -> dict[str, float]:
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    values = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


def test_healthz_answers_without_checking_anything(stripe_client):
    r = stripe_client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert stripe_client.get("/api/health").json() == {"status": "ok"}  # the older path stays


def test_readyz_is_ok_with_every_real_part_up(stripe_client):
    r = stripe_client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"database": "ok", "ipfs": "ok", "chain": "ok", "stripe": "ok"}


def test_readyz_is_503_naming_ipfs_when_the_node_is_away(stripe_client):
    app = stripe_client.app
    services = app.state.services
    app.state.services = dataclasses.replace(
        services, ipfs=IpfsClient(f"/ip4/127.0.0.1/tcp/{dead_port()}/http", timeout_s=1.0))
    try:
        started = time.monotonic()
        r = stripe_client.get("/readyz")
    finally:
        app.state.services = services
    assert time.monotonic() - started < 5
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["ipfs"] != "ok" and body["ipfs"]
    assert {k: v for k, v in body.items() if k != "ipfs"} == {"database": "ok", "chain": "ok", "stripe": "ok"}


def test_readyz_is_503_naming_the_chain_when_the_node_is_away(stripe_client, contract_address):
    app = stripe_client.app
    services = app.state.services
    dead = ChainClient(rpc_url=f"http://127.0.0.1:{dead_port()}", contract_address=contract_address,
                       minter_key=DEV_MINTER_KEY, timeout_s=1.0)
    app.state.services = dataclasses.replace(services, chain=dead)
    try:
        r = stripe_client.get("/readyz")
    finally:
        app.state.services = services
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["chain"] != "ok" and body["chain"]
    assert DEV_MINTER_KEY not in r.text
    assert body["database"] == body["ipfs"] == body["stripe"] == "ok"


def test_readyz_is_503_naming_stripe_when_it_is_unreachable(make_client):
    client = make_client(stripe_api_base=f"http://127.0.0.1:{dead_port()}", stripe_max_network_retries=0,
                         readyz_timeout_s=15.0)
    r = client.get("/readyz")
    assert r.status_code == 503, r.text
    assert "unreachable" in r.json()["stripe"]
    assert r.json()["chain"] == r.json()["ipfs"] == r.json()["database"] == "ok"


def test_a_request_logs_one_json_line_with_its_request_id(stripe_client, log_lines):
    r = stripe_client.get("/api/works/999999", headers={"X-Request-ID": "req-abc.123"})
    assert r.headers["x-request-id"] == "req-abc.123"
    lines = [line for line in log_lines() if line.get("event") == "request"]
    assert any(line["request_id"] == "req-abc.123" and line["route"] == "/api/works/{work_id}"
               and line["status"] == r.status_code and line["level"] == "info" for line in lines), lines
    r = stripe_client.get("/healthz", headers={"X-Request-ID": "not a token; " + "x" * 80})  # refused: a fresh one
    assert "token" not in r.headers["x-request-id"] and len(r.headers["x-request-id"]) == 32


def test_metrics_are_restricted_by_a_token_when_one_is_set(make_client, stripe_double):
    client = make_client(metrics_token="a-scrape-token-of-some-length")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = client.get("/metrics", headers={"Authorization": "Bearer a-scrape-token-of-some-length"})
    assert r.status_code == 200 and "marketplace_queue_depth" in r.text


def test_withdrawals_show_in_the_queue_depth_and_the_failed_jobs(stripe_client):
    from sqlmodel import Session

    from marketplace.accounts.models import Account
    from marketplace.core import db
    from marketplace.payments.models import TokenWithdrawal, WithdrawalStatus

    before = metrics(stripe_client)
    assert before["marketplace_queue_depth{kind=withdrawal}"] == 0
    with Session(db.get_engine()) as session:
        account = Account(email="withdrawer@example.com", display_name="W", password_hash="!x", role="buyer")
        session.add(account)
        session.flush()
        for token, status in (("7001", "pending"), ("7002", "pending"), ("7003", "failed"), ("7004", "done"),
                              ("7005", "cancelled")):
            session.add(TokenWithdrawal(account_id=account.id, token_id=token, from_address="0x" + "1" * 40,
                                        to_address="0x" + "2" * 40, status=WithdrawalStatus(status).value))
        session.commit()
    after = metrics(stripe_client)
    assert after["marketplace_queue_depth{kind=withdrawal}"] == 2
    assert after["marketplace_jobs_failed{kind=withdrawal}"] == before["marketplace_jobs_failed{kind=withdrawal}"] + 1


@pytest.mark.slow
def test_a_sale_shows_in_the_metrics_and_the_logs(make_live, log_lines):
    first = Shop(make_live(run_delivery_worker=False))
    before = metrics(first.client)
    creator, buyer = first.register(), first.register(role="buyer")
    work = first.minted_work(creator)
    r = first.checkout(buyer, work["id"])
    purchase_id = r.json()["purchase_id"]
    first.hosted(r.json()["checkout_url"], "pay")
    first.wait_purchase(buyer, purchase_id, "paid")
    waiting = metrics(first.client)
    assert waiting["marketplace_queue_depth{kind=delivery}"] == 1
    assert waiting["marketplace_mint_latency_seconds_count"] == before["marketplace_mint_latency_seconds_count"] + 1
    assert waiting["marketplace_signer_balance_wei"] > 0
    assert waiting["marketplace_signer_balance_low"] == 0
    assert any(key.startswith("marketplace_http_requests_total{method=POST,route=/api/works/{work_id}/checkout,")
               for key in waiting), sorted(waiting)
    first.live.server.stop()

    second = Shop(make_live())  # its delivery worker delivers the paid purchase
    second.wait_purchase(buyer, purchase_id, "delivered")
    after = metrics(second.client)
    assert after["marketplace_delivery_latency_seconds_count"] == \
        before["marketplace_delivery_latency_seconds_count"] + 1
    assert after["marketplace_queue_depth{kind=delivery}"] == 0
    assert after["marketplace_jobs_failed{kind=delivery}"] == 0

    lines = log_lines()
    delivered = [line for line in lines if line.get("purchase_id") == purchase_id
                 and line["event"].startswith(f"purchase {purchase_id} delivered")]
    assert delivered and delivered[0]["work_id"] == work["id"]
    assert any(line.get("work_id") == work["id"] and line["event"].startswith(f"work {work['id']} minted")
               for line in lines)
    raw = log_lines.raw()
    assert DEV_MINTER_KEY not in raw and DEV_MINTER_KEY[2:] not in raw


def test_the_formatter_redacts_registered_secrets(log_lines):
    observability.register_secret(DEV_MINTER_KEY)
    logging.getLogger("tests.ops").warning("signing with %s", DEV_MINTER_KEY)
    logging.getLogger("tests.ops").warning("bare %s", DEV_MINTER_KEY[2:], extra={"key": DEV_MINTER_KEY})
    raw = log_lines.raw()
    assert DEV_MINTER_KEY[2:] not in raw and raw.count(observability.REDACTED) == 3


def test_a_low_signer_balance_raises_the_alarm(make_client, log_lines):
    client = make_client(signer_low_balance_wei=10**30)  # more than anvil's dev account holds
    alarms = observability.SIGNER_LOW_BALANCE_ALARMS._value.get()
    values = metrics(client)
    assert values["marketplace_signer_balance_low"] == 1
    assert 0 < values["marketplace_signer_balance_wei"] < 10**30
    assert values["marketplace_signer_low_balance_alarms_total"] >= alarms + 1
    alarm = [line for line in log_lines() if line.get("alarm") == "signer_low_balance"]
    assert alarm and alarm[0]["level"] == "warning" and alarm[0]["threshold_wei"] == 10**30
    assert alarm[0]["signer"] == client.app.state.services.chain.signer.address


def test_production_needs_a_metrics_token():
    from marketplace.core.config import Settings

    values = dict(_env_file=None, env="production", database_url="postgresql://db/x",
                  contract_address="0x" + "11" * 20, minter_private_key="0x" + "22" * 32,
                  wallet_secret="w" * 40, auth_secret="a" * 40, stripe_api_key="sk_test_x",
                  stripe_webhook_secret="whsec_x", max_fee_per_gas_gwei=100)
    with pytest.raises(ValueError, match="METRICS_TOKEN"):
        Settings(**values)
    assert Settings(**values, metrics_token="m" * 32).metrics_token.get_secret_value() == "m" * 32


def test_the_worker_metrics_bind_localhost_unless_told(tmp_path):
    import socket
    import urllib.request

    from marketplace.cli import serve_worker_metrics
    from marketplace.core.config import Settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(_env_file=None, env="test", data_dir=tmp_path, worker_metrics_port=port)
    assert settings.worker_metrics_host == "127.0.0.1"
    server = serve_worker_metrics(settings)
    try:
        assert server.server_address[0] == "127.0.0.1"  # not 0.0.0.0: this host only
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3).read().decode()
        assert "marketplace_chain_tx_replaced" in body
    finally:
        server.shutdown()
        server.server_close()
