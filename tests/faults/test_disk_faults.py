"""A full disk for uploads: the staging folder on a real 4 MB tmpfs. An upload that does not fit answers 507 with
a message, stores nothing and leaves the folder empty; a small upload afterwards goes through."""

from __future__ import annotations

import subprocess

import pytest
from sqlmodel import Session, select

from marketplace.catalog.models import Work
from marketplace.core import db
from tests.catalog.test_works_api import wav_bytes
from tests.conftest import Api
from tests.faults.invariants import assert_consistent, wait_until_settled

pytestmark = [pytest.mark.ipfs, pytest.mark.chain, pytest.mark.slow,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]  # the disk is the same on both


@pytest.fixture
def small_staging(tmp_path):
    """data/media/staging (where uploads are staged, see make_settings) on its own 4 MB tmpfs."""
    staging = tmp_path / "data" / "media" / "staging"
    staging.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(staging)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.fail(f"this test mounts a small tmpfs (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield staging
    finally:
        subprocess.run(["umount", "-l", str(staging)], check=True)


def works() -> list[Work]:
    with Session(db.get_engine()) as session:
        return list(session.exec(select(Work)).all())


def test_upload_that_fills_the_staging_disk_is_507_and_stores_nothing(small_staging, make_client, chain):
    api = Api(make_client())
    creator = api.register()
    too_big = wav_bytes(seconds=400)  # 6.4 MB of audio on a 4 MB disk
    assert len(too_big) > 4 * 1024 * 1024

    r = api.upload(creator, content=too_big, filename="long-take.wav", discipline="music")
    assert r.status_code == 507, r.text
    assert r.json()["code"] == "insufficient_storage"
    assert "disk space" in r.json()["detail"]
    assert works() == []
    assert list(small_staging.iterdir()) == []  # the partial staging file is gone: the disk is free again

    # the same disk takes a file that fits, and the product carries on
    small = api.upload(creator, content=wav_bytes(seconds=60), filename="short.wav", discipline="music")
    assert small.status_code == 201, small.text
    assert [w.id for w in works()] == [small.json()["id"]]
    assert list(small_staging.iterdir()) == []
    assert api.client.post(f"/api/works/{small.json()['id']}/mint", headers=creator["headers"]).status_code == 202
    api.wait_for_status(small.json()["id"], "minted")

    wait_until_settled()
    assert_consistent(chain, health=lambda: api.client.get("/api/health").status_code)
