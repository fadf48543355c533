"""IPFS_PINNING_SERVICE_URL: what our node adds is pinned at a pinning service too (the IPFS Pinning Service API,
spoken by the in-repo double over HTTP), in the background; a failing service is retried and reported, and the
upload is never lost (it is on our node, served from there)."""

from __future__ import annotations

import logging
import time

import pytest

from devtools.pinning_double import PinningDouble
from marketplace.integrations.ipfs.pinning import REMOTE_PIN_FAILURES, PinningService, PinningServiceError
from tests.conftest import Api, png_bytes

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]
TOKEN = "pinning-token-for-the-tests"


@pytest.fixture
def pinning(ipfs_node):
    double = PinningDouble(token=TOKEN, ipfs_api_addr=ipfs_node.api_addr).start()
    yield double
    double.stop()


def _wait(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _failures() -> float:
    return sum(REMOTE_PIN_FAILURES.labels(final)._value.get() for final in ("true", "false"))


def test_the_wire_client_speaks_the_spec(pinning, ipfs_client):
    cid = ipfs_client.add_bytes(b"pinned remotely, by the spec")
    service = PinningService(pinning.url, TOKEN)
    assert service.find(cid) is None
    status = service.add(cid, name="a test")
    assert status.status == "queued" and status.cid == cid
    assert service.get(status.requestid).status == "pinning"
    assert service.get(status.requestid).status == "pinned"
    assert service.find(cid).requestid == status.requestid
    with pytest.raises(PinningServiceError, match="401"):
        PinningService(pinning.url, "wrong").find(cid)


def test_an_upload_is_pinned_at_the_service(make_client, pinning):
    client = make_client(ipfs_pinning_service_url=pinning.url, ipfs_pinning_service_token=TOKEN)
    api = Api(client)
    work = api.upload(api.register(), content=png_bytes(color=(1, 2, 3))).json()
    assert _wait(lambda: work["media_cid"] in pinning.pinned()), pinning.requests
    assert ("POST", "/pins") in pinning.requests


def test_a_failing_service_is_retried_and_the_upload_kept(make_client, pinning, caplog):
    client = make_client(ipfs_pinning_service_url=pinning.url, ipfs_pinning_service_token=TOKEN,
                         ipfs_pinning_backoff_s=0.05)
    remote = client.app.state.services.ipfs.remote
    failures = _failures()
    pinning.fail_next(3)
    api = Api(client)
    creator = api.register()
    with caplog.at_level(logging.WARNING, logger="marketplace.integrations.ipfs.pinning"):
        r = api.upload(creator, content=png_bytes(color=(4, 5, 6)))
        assert r.status_code == 201, r.text  # the upload did not wait for the service
        cid = r.json()["media_cid"]
        assert _wait(lambda: cid in pinning.pinned()), (pinning.requests, remote.pending())
    assert _failures() >= failures + 3
    assert any("pinning service failed" in rec.getMessage() and "500" in rec.getMessage() for rec in caplog.records)
    assert client.get(f"/ipfs/{cid}", headers=creator["headers"]).status_code == 200


def test_a_service_that_stays_away_is_reported_and_the_upload_served(make_client, caplog):
    from devtools.procs import pick_free_port

    client = make_client(ipfs_pinning_service_url=f"http://127.0.0.1:{pick_free_port()}",
                         ipfs_pinning_service_token=TOKEN, ipfs_pinning_backoff_s=0.01, ipfs_pinning_max_attempts=2)
    remote = client.app.state.services.ipfs.remote
    api = Api(client)
    creator = api.register()
    with caplog.at_level(logging.WARNING, logger="marketplace.integrations.ipfs.pinning"):
        r = api.upload(creator, content=png_bytes(color=(7, 8, 9)))
        assert r.status_code == 201, r.text
        cid = r.json()["media_cid"]
        assert _wait(lambda: cid in remote.given_up)
    assert any(rec.levelno == logging.ERROR and cid in rec.getMessage() for rec in caplog.records)
    assert TOKEN not in caplog.text
    assert client.get(f"/ipfs/{cid}", headers=creator["headers"]).status_code == 200
