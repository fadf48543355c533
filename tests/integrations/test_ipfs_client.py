"""The IPFS adapter against a real local node (js-ipfs), plus the CID helpers the contract depends on."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devtools.ipfs_node import IpfsNode, pick_free_port
from marketplace.core.exceptions import InvalidInput, NotFound, StorageUnavailable
from marketplace.integrations.ipfs.client import (
    IpfsClient,
    is_valid_cid,
    normalize_cid,
    raw_cid_digest,
    raw_cid_from_digest,
    raw_cid_of_bytes,
    to_multiaddr,
)

HELLO_CID = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
HELLO_CID_B58 = "zb2rhj7crUKTQYRGCRATFaQ6YFLTde2YzdqbbhAASkL9uRDXn"  # same CID as js-ipfs prints it by default
# Never added anywhere: sha256 of these bytes, as a raw CID.
ABSENT_CID = raw_cid_of_bytes(b"this content was never added to any node " + os.urandom(16))


# --------------------------------------------------------------------------------------------------------------
# CID helpers (no node)
# --------------------------------------------------------------------------------------------------------------


def test_raw_cid_digest_round_trip_matches_sha256() -> None:
    digest = hashlib.sha256(b"hello world").digest()
    assert raw_cid_from_digest(digest) == HELLO_CID
    assert raw_cid_digest(HELLO_CID) == digest
    assert raw_cid_digest(HELLO_CID_B58) == digest
    assert raw_cid_of_bytes(b"hello world") == HELLO_CID


def test_normalize_cid_gives_base32_v1() -> None:
    assert normalize_cid(HELLO_CID_B58) == HELLO_CID
    assert normalize_cid(f"  {HELLO_CID}\n") == HELLO_CID
    # CIDv0 (dag-pb, base58btc) becomes the equivalent CIDv1 dag-pb in base32.
    assert normalize_cid("QmZfF6C9j4VtoCsTp4KSrhYH47QMd3DNXVZBKaxJdhaPab") == (
        "bafybeifigprj7iddtpsdljyfpzorkeoib4fgvhmcbqcssyri4rbq5fnftq"
    )


def test_raw_cid_digest_refuses_non_raw_or_invalid_cids() -> None:
    with pytest.raises(InvalidInput):
        raw_cid_digest("QmZfF6C9j4VtoCsTp4KSrhYH47QMd3DNXVZBKaxJdhaPab")  # dag-pb
    with pytest.raises(InvalidInput):
        raw_cid_digest("bafybeifigprj7iddtpsdljyfpzorkeoib4fgvhmcbqcssyri4rbq5fnftq")  # dag-pb v1
    with pytest.raises(InvalidInput):
        raw_cid_digest("not-a-cid")
    with pytest.raises(InvalidInput):
        raw_cid_from_digest(b"\x00" * 31)


def test_is_valid_cid() -> None:
    assert is_valid_cid(HELLO_CID)
    assert is_valid_cid(HELLO_CID_B58)
    assert is_valid_cid("QmZfF6C9j4VtoCsTp4KSrhYH47QMd3DNXVZBKaxJdhaPab")
    for bad in ("", "hello", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5", "../etc/passwd", "Qm"):
        assert not is_valid_cid(bad), bad


def test_to_multiaddr_accepts_urls_and_multiaddrs() -> None:
    assert to_multiaddr("/ip4/127.0.0.1/tcp/5001/http") == "/ip4/127.0.0.1/tcp/5001/http"
    assert to_multiaddr("http://127.0.0.1:5001") == "/ip4/127.0.0.1/tcp/5001/http"
    assert to_multiaddr("http://ipfs:5001/") == "/dns/ipfs/tcp/5001/http"
    assert to_multiaddr("https://[::1]:5443") == "/ip6/::1/tcp/5443/https"
    with pytest.raises(InvalidInput):
        to_multiaddr("ftp://x:1")


def test_client_for_closed_port_raises_storage_unavailable() -> None:
    client = IpfsClient(f"http://127.0.0.1:{pick_free_port()}", timeout_s=2)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as excinfo:
        client.version()
    assert "unreachable" in excinfo.value.message
    with pytest.raises(StorageUnavailable):
        client.add_bytes(b"x")
    with pytest.raises(StorageUnavailable):
        next(client.cat(HELLO_CID))
    assert time.monotonic() - started < 5
    assert excinfo.value.status_code == 503


# --------------------------------------------------------------------------------------------------------------
# Against the real node
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.ipfs
def test_add_bytes_gives_the_known_cid(ipfs_client: IpfsClient) -> None:
    assert ipfs_client.add_bytes(b"hello world") == HELLO_CID
    assert ipfs_client.version()


@pytest.mark.ipfs
def test_add_file_streams_and_matches_add_bytes(ipfs_client: IpfsClient, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 123)
    path = tmp_path / "work.bin"
    path.write_bytes(data)

    cid = ipfs_client.add_file(path)
    assert cid == ipfs_client.add_bytes(data)
    assert cid.startswith("bafybei")  # several 256 KiB chunks: a dag-pb root over raw leaves
    assert b"".join(ipfs_client.cat(cid)) == data
    assert ipfs_client.cat_bytes(cid, max_bytes=len(data)) == data
    assert ipfs_client.is_pinned(cid)
    assert ipfs_client.stat(cid) == {"cid": cid, "size": len(data), "type": "file"}


@pytest.mark.ipfs
def test_single_chunk_file_cid_is_raw_sha256(ipfs_client: IpfsClient, tmp_path: Path) -> None:
    data = os.urandom(256 * 1024)  # exactly one chunk
    path = tmp_path / "meta.json"
    path.write_bytes(data)
    cid = ipfs_client.add_file(path)
    assert cid == raw_cid_of_bytes(data)
    assert raw_cid_digest(cid) == hashlib.sha256(data).digest()


@pytest.mark.ipfs
def test_cat_streams_in_chunks(ipfs_client: IpfsClient) -> None:
    data = os.urandom(1024 * 1024)
    cid = ipfs_client.add_bytes(data)
    chunks = list(ipfs_client.cat(cid))
    assert len(chunks) > 1
    assert b"".join(chunks) == data


@pytest.mark.ipfs
def test_cat_bytes_refuses_content_over_max(ipfs_client: IpfsClient) -> None:
    cid = ipfs_client.add_bytes(b"x" * 1000)
    assert ipfs_client.cat_bytes(cid, max_bytes=1000) == b"x" * 1000
    with pytest.raises(InvalidInput, match="larger than 999 bytes"):
        ipfs_client.cat_bytes(cid, max_bytes=999)


@pytest.mark.ipfs
def test_unknown_cid_fails_fast(ipfs_client: IpfsClient) -> None:
    for attempt in (lambda: next(ipfs_client.cat(ABSENT_CID)), lambda: ipfs_client.cat_bytes(ABSENT_CID)):
        started = time.monotonic()
        with pytest.raises(NotFound, match="does not have this content"):
            attempt()
        assert time.monotonic() - started < 8  # lookup_timeout_s is 3 s in the fixture
    assert not ipfs_client.is_pinned(ABSENT_CID)


@pytest.mark.ipfs
def test_invalid_cid_is_refused_before_reaching_the_node(ipfs_client: IpfsClient) -> None:
    with pytest.raises(InvalidInput):
        ipfs_client.cat_bytes("../../etc/passwd")
    with pytest.raises(InvalidInput):
        ipfs_client.is_pinned("nope")


@pytest.mark.ipfs
def test_client_is_usable_from_many_threads(ipfs_client: IpfsClient) -> None:
    payloads = [f"payload {i} {threading.get_ident()}".encode() + os.urandom(8) for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        cids = list(pool.map(ipfs_client.add_bytes, payloads))
        read_back = list(pool.map(lambda cid: ipfs_client.cat_bytes(cid, max_bytes=1000), cids))
    assert cids == [raw_cid_of_bytes(p) for p in payloads]
    assert read_back == payloads


@pytest.mark.ipfs
@pytest.mark.slow
def test_node_restarts_on_the_same_repo_after_being_killed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    node = IpfsNode.start(repo, pick_free_port())
    with IpfsClient(node.api_url) as client:
        cid = client.add_bytes(b"survives a crash")
    node.proc.kill()  # no graceful shutdown: repo.lock and api stay behind
    node.proc.wait(10)
    assert (repo / "repo.lock").exists() and (repo / "api").exists()

    with IpfsNode.start(repo, pick_free_port()) as again, IpfsClient(again.api_addr) as client:
        node.stop()  # the dead node's cleanup must not touch the files of the daemon now running
        assert (repo / "api").exists()
        assert client.cat_bytes(cid) == b"survives a crash"
        assert client.is_pinned(cid)
    assert not again.is_running()
    assert not (repo / "api").exists()
    with pytest.raises(StorageUnavailable):
        IpfsClient(again.api_addr, timeout_s=2).version()


@pytest.mark.ipfs
def test_cat_range_reads_exactly_the_asked_bytes(ipfs_client: IpfsClient) -> None:
    data = os.urandom(3 * 256 * 1024 + 1000)  # four blocks
    cid = ipfs_client.add_bytes(data)
    for offset, length in ((0, 10), (262_140, 10), (600_000, 200_000), (len(data) - 1, 1), (5, None), (0, None)):
        got = b"".join(ipfs_client.cat_range(cid, offset=offset, length=length))
        assert got == data[offset : None if length is None else offset + length], (offset, length)
    assert b"".join(ipfs_client.cat_range(cid, offset=len(data), length=10)) == b""  # past the end: nothing
    assert b"".join(ipfs_client.cat_range(cid, offset=10, length=0)) == b""
    with pytest.raises(InvalidInput):
        ipfs_client.cat_range(cid, offset=-1, length=10)
    with pytest.raises(NotFound):
        next(ipfs_client.cat_range(ABSENT_CID, offset=0, length=10))
