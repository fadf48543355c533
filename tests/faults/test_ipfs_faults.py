"""The IPFS node down during upload and during mint: a private js-ipfs node for the test, killed in the middle of an
upload, left down for an upload and a mint request, then restarted on the same port.

Down: an upload answers 503 `ipfs_unavailable` and stores nothing (no work row, no staging file); a mint request
answers 503 and the work stays a draft with no mint job. Back: uploads and mints work again (the app's client
reconnects by itself) and a purchase goes through to delivery."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from devtools.ipfs_node import IpfsNode, pick_free_port
from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.minting.models import MintJob
from tests.catalog.test_works_api import wav_bytes
from tests.faults.invariants import assert_consistent, wait_until_settled
from tests.payments.conftest import Shop

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.slow,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]  # the outage is the same on both


class PrivateNode:
    """A js-ipfs node of this test's own, which the test may stop, kill and start again on the same port."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.port = pick_free_port()
        self.node: IpfsNode | None = None

    @property
    def api_addr(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.port}/http"

    def start(self) -> None:
        self.node = IpfsNode.start(self.repo, self.port, timeout=90)

    def stop(self) -> None:
        """A clean stop (SIGTERM)."""
        if self.node is not None:
            self.node.stop()
            self.node = None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        os.killpg(self.node.proc.pid, signal.SIGKILL)
        self.stop()  # reaps it and clears the lock files a killed daemon leaves


@pytest.fixture
def private_ipfs(tmp_path):
    node = PrivateNode(tmp_path / "ipfs-private")
    node.start()
    yield node
    node.stop()


def rows(model) -> list:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(model)).all())


def kill_when_staged(node: PrivateNode, staging: Path, size: int) -> threading.Thread:
    """Kill the node the moment the upload is fully staged, i.e. while the app streams it to IPFS."""
    def watch():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for f in staging.glob("upload-*") if staging.exists() else ():
                try:
                    if f.stat().st_size >= size:
                        node.kill()
                        return
                except FileNotFoundError:
                    pass
            time.sleep(0.002)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_ipfs_down_during_upload_and_mint_then_back(private_ipfs, make_live, chain):
    shop = Shop(make_live(ipfs_api_url=private_ipfs.api_addr, ipfs_timeout_s=5))
    staging = shop.live.settings.media_dir / "staging"
    creator, buyer = shop.register(), shop.register(role="buyer")
    draft = shop.upload(creator)
    assert draft.status_code == 201, draft.text
    draft = draft.json()

    # the node is killed while an upload streams into it
    content = wav_bytes(seconds=1500)  # 24 MB: streaming it to the node takes a while
    watcher = kill_when_staged(private_ipfs, staging, len(content))
    r = shop.upload(creator, content=content, filename="field-recording.wav", discipline="music",
                    title="Cut off mid-way")
    watcher.join(30)
    assert private_ipfs.node is None, "the node was not killed during the upload"
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "ipfs_unavailable"
    assert [w.id for w in rows(Work)] == [draft["id"]]
    assert list(staging.glob("*")) == []

    # while it is down, uploads and mint requests are refused and nothing is half-created
    r = shop.upload(creator, title="While IPFS is down")
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "ipfs_unavailable"
    r = shop.client.post(f"/api/works/{draft['id']}/mint", headers=creator["headers"])
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "ipfs_unavailable"
    body = shop.client.get(f"/api/works/{draft['id']}", headers=creator["headers"]).json()
    assert body["status"] == "draft" and body["metadata_cid"] is None and body["token_id"] is None
    assert rows(MintJob) == []
    assert [w.id for w in rows(Work)] == [draft["id"]]
    assert list(staging.glob("*")) == []

    # back for good: the same app uploads, mints and sells without a restart of its own
    private_ipfs.start()
    again = shop.upload(creator, title="After the outage")
    assert again.status_code == 201, again.text
    assert shop.client.get(f"/ipfs/{again.json()['media_cid']}", headers=creator["headers"]).status_code == 200
    r = shop.client.post(f"/api/works/{draft['id']}/mint", headers=creator["headers"])
    assert r.status_code == 202, r.text
    minted = shop.wait_for_status(draft["id"], "minted")
    checkout = shop.checkout(buyer, minted["id"])
    assert checkout.status_code == 201, checkout.text
    shop.hosted(checkout.json()["checkout_url"], "pay")
    done = shop.wait_purchase(buyer, checkout.json()["purchase_id"], "delivered")
    assert done["wallet_address"] == buyer["wallet_address"]

    wait_until_settled()
    assert_consistent(chain, health=lambda: shop.client.get("/api/health").status_code)
