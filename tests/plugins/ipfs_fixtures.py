"""pytest plugin: one real local IPFS node (js-ipfs, offline) per test session, and a client for it.

Register with `pytest_plugins = ["tests.plugins.ipfs_fixtures"]` in tests/conftest.py; mark tests that use these
fixtures with `@pytest.mark.ipfs`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.ipfs_node import IpfsNode, pick_free_port
from marketplace.integrations.ipfs.client import IpfsClient


@pytest.fixture(scope="session")
def ipfs_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsNode]:
    repo_dir = tmp_path_factory.mktemp("ipfs") / "repo"
    node = IpfsNode.start(repo_dir, pick_free_port(), timeout=90)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def ipfs_client(ipfs_node: IpfsNode) -> Iterator[IpfsClient]:
    client = IpfsClient(ipfs_node.api_addr, timeout_s=30.0, lookup_timeout_s=3.0)
    try:
        yield client
    finally:
        client.close()
