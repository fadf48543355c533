"""The upload path's single copy and single read: `media.stage_file` (kernel copy of a spooled upload, size limit
before any byte is copied) and `IpfsClient.add_file(digest=...)` (the SHA-256 from the read that adds to IPFS)."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

import pytest

from marketplace.catalog.media import stage_file
from marketplace.core.exceptions import PayloadTooLarge
from marketplace.integrations.ipfs.client import IpfsClient, raw_cid_of_bytes


def _spooled(data: bytes, max_size: int = 1024) -> tempfile.SpooledTemporaryFile:
    """What Starlette hands a route: a SpooledTemporaryFile (on disk past `max_size`), rewound."""
    f = tempfile.SpooledTemporaryFile(max_size=max_size)
    f.write(data)
    f.seek(0)
    return f


@pytest.mark.parametrize("size", [0, 10, 1024, 3 * 1024 * 1024 + 17])
def test_stage_file_copies_a_spooled_upload_exactly(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    with _spooled(data) as source:
        assert stage_file(source, tmp_path / "staged", max_bytes=4 * 1024 * 1024) == size
    assert (tmp_path / "staged").read_bytes() == data


def test_stage_file_copies_from_the_current_position(tmp_path: Path) -> None:
    data = os.urandom(200_000)
    with _spooled(data) as source:
        source.seek(1000)
        assert stage_file(source, tmp_path / "staged", max_bytes=10**6) == len(data) - 1000
    assert (tmp_path / "staged").read_bytes() == data[1000:]


def test_stage_file_reads_streams_without_a_file_behind_them(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    assert stage_file(io.BytesIO(data), tmp_path / "staged", max_bytes=10**6) == len(data)
    assert (tmp_path / "staged").read_bytes() == data


@pytest.mark.parametrize("make", [lambda d: _spooled(d), io.BytesIO], ids=["spooled", "stream"])
def test_stage_file_over_the_limit_is_413_and_leaves_no_file(tmp_path: Path, make) -> None:
    with pytest.raises(PayloadTooLarge, match="2 MB limit"):
        stage_file(make(os.urandom(2 * 1024 * 1024 + 1)), tmp_path / "staged", max_bytes=2 * 1024 * 1024)
    assert not (tmp_path / "staged").exists()


def test_stage_file_exactly_at_the_limit_is_accepted(tmp_path: Path) -> None:
    with _spooled(b"x" * 4096) as source:
        assert stage_file(source, tmp_path / "staged", max_bytes=4096) == 4096


@pytest.mark.ipfs
def test_add_file_hashes_what_it_sends(ipfs_client: IpfsClient, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)  # several 1 MiB reads
    path = tmp_path / "media.bin"
    path.write_bytes(data)
    digest = hashlib.sha256()
    cid = ipfs_client.add_file(path, digest=digest)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert ipfs_client.cat_bytes(cid) == data
    small = tmp_path / "small.bin"
    small.write_bytes(b"hello world")
    digest = hashlib.sha256()
    assert ipfs_client.add_file(small, digest=digest) == raw_cid_of_bytes(b"hello world")
    assert digest.digest() == hashlib.sha256(b"hello world").digest()


def test_stage_file_falls_back_to_the_ordinary_copy_when_the_kernel_copy_fails(tmp_path: Path, monkeypatch) -> None:
    def refuse(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    monkeypatch.setattr(os, "sendfile", refuse)
    data = os.urandom(2 * 1024 * 1024 + 3)
    with _spooled(data) as source:
        source.seek(5)
        assert stage_file(source, tmp_path / "staged", max_bytes=4 * 1024 * 1024) == len(data) - 5
    assert (tmp_path / "staged").read_bytes() == data[5:]
