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


# --- the queue is a table: it survives a restart, is shared by processes, unpins, and gives up on a stalled pin ---

def _remote_pin(cid: str):
    from sqlmodel import Session

    from marketplace.core import db
    from marketplace.integrations.ipfs.pinning import RemotePin

    with Session(db.get_engine()) as session:
        return session.get(RemotePin, cid)


def test_a_cid_queued_when_the_process_stopped_is_pinned_after_a_restart(make_client, pinning):
    from devtools.procs import pick_free_port

    away = make_client(ipfs_pinning_service_url=f"http://127.0.0.1:{pick_free_port()}",
                       ipfs_pinning_service_token=TOKEN, ipfs_pinning_backoff_s=30)
    api = Api(away)
    cid = api.upload(api.register(), content=png_bytes(color=(10, 11, 12))).json()["media_cid"]
    assert _wait(lambda: (row := _remote_pin(cid)) is not None and row.attempts == 1)
    away.__exit__(None, None, None)  # the process stops with the CID still to pin (its next try 30 s away)
    assert _remote_pin(cid).state == "queued"

    # the next process (the service back, at its address now) finds the row and pins it once the backoff is over;
    # the backoff written is honoured, so make it due as a later start would find it
    from sqlalchemy import update
    from sqlmodel import Session

    from marketplace.core import db
    from marketplace.integrations.ipfs.pinning import RemotePin
    with Session(db.get_engine()) as session:
        session.exec(update(RemotePin).where(RemotePin.cid == cid).values(not_before=db.utcnow()))
        session.commit()
    make_client(ipfs_pinning_service_url=pinning.url, ipfs_pinning_service_token=TOKEN)
    assert _wait(lambda: cid in pinning.pinned()), pinning.requests
    assert _wait(lambda: _remote_pin(cid).state == "pinned")


def test_what_was_stored_before_the_service_was_set_is_pinned_at_start(make_client, pinning):
    plain = make_client()
    api = Api(plain)
    work = api.upload(api.register(), content=png_bytes(color=(13, 14, 15))).json()
    cids = {work["media_cid"], work["thumbnail_cid"]} - {None}
    plain.__exit__(None, None, None)
    assert all(_remote_pin(cid) is None for cid in cids)

    make_client(ipfs_pinning_service_url=pinning.url, ipfs_pinning_service_token=TOKEN)
    assert _wait(lambda: cids <= pinning.pinned()), (cids, pinning.requests)


def test_two_processes_share_the_queue_and_ask_the_service_once(make_client, pinning):
    first = make_client(ipfs_pinning_service_url=pinning.url, ipfs_pinning_service_token=TOKEN)
    second = make_client(ipfs_pinning_service_url=pinning.url, ipfs_pinning_service_token=TOKEN)
    cid = first.app.state.services.ipfs.add_bytes(b"added by two processes at once")
    assert second.app.state.services.ipfs.add_bytes(b"added by two processes at once") == cid
    assert _wait(lambda: cid in pinning.pinned())
    assert _wait(lambda: _remote_pin(cid).state == "pinned")
    assert len(PinningService(pinning.url, TOKEN).find_all(cid)) == 1, pinning.requests  # one pin request


def test_an_unpinned_avatar_is_removed_from_the_service(make_client, pinning):
    client = make_client(ipfs_pinning_service_url=pinning.url, ipfs_pinning_service_token=TOKEN)
    api = Api(client)
    user = api.register()
    r = client.put("/api/me/avatar", headers=user["headers"],
                   files={"file": ("me.png", png_bytes((300, 300), color=(16, 17, 18)), "image/png")})
    assert r.status_code == 200, r.text
    cid = r.json()["avatar_url"].rsplit("/", 1)[-1]
    assert _wait(lambda: cid in pinning.pinned())

    assert client.delete("/api/me/avatar", headers=user["headers"]).status_code == 200
    assert _wait(lambda: _remote_pin(cid).state == "removed"), _remote_pin(cid)
    assert cid not in pinning.pinned()
    assert PinningService(pinning.url, TOKEN).find(cid) is None
    assert any(method == "DELETE" for method, _ in pinning.requests)


def test_a_pin_the_service_never_gets_to_is_given_up_not_polled_forever(make_client, pinning, caplog):
    pinning.stall = True
    client = make_client(ipfs_pinning_service_url=pinning.url, ipfs_pinning_service_token=TOKEN,
                         ipfs_pinning_max_wait_s=1.5)
    remote = client.app.state.services.ipfs.remote
    remote.poll_s = 0.05
    with caplog.at_level(logging.ERROR, logger="marketplace.integrations.ipfs.pinning"):
        cid = client.app.state.services.ipfs.add_bytes(b"a pin that stays queued")
        assert _wait(lambda: cid in remote.given_up, timeout=30)
    row = _remote_pin(cid)
    assert row.state == "failed" and "still queued" in row.last_error
    looks = pinning.requests.count(("GET", f"/pins/{row.requestid}"))
    assert 2 <= looks <= 8, looks  # the waits between looks doubled (0.05, 0.1, 0.2, 0.4, 0.8 s within 1.5 s)
    assert any(cid in rec.getMessage() and "giving up" in rec.getMessage() for rec in caplog.records)
    time.sleep(0.5)
    assert pinning.requests.count(("GET", f"/pins/{row.requestid}")) == looks
