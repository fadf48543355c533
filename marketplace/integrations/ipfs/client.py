"""The one adapter to the IPFS node's RPC API (Kubo in production, js-ipfs in development and tests).

Synchronous (ipfshttpclient over requests): call it off the event loop (`anyio.to_thread.run_sync`, or a sync
route/generator that Starlette runs in its thread pool). Each thread gets its own HTTP session.

Every failure to talk to the node becomes `StorageUnavailable` (503); content the node does not have becomes
`NotFound` after a short, bounded wait; a malformed CID becomes `InvalidInput`.

CIDs are always CIDv1, sha2-256, raw leaves, default chunker (256 KiB), printed in base32. A file of at most one
chunk therefore gets a `bafkrei...` CID whose digest is the plain SHA-256 of its bytes (`raw_cid_digest`), which
the on-chain contract uses to derive the token URI.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ipfshttpclient
import ipfshttpclient.exceptions as ipfs_errors
import requests
import urllib3.exceptions
from multiformats import CID, multihash

from marketplace.core.exceptions import InvalidInput, NotFound, StorageUnavailable
from marketplace.integrations.ipfs.pinning import RemotePinner

logger = logging.getLogger(__name__)

# ipfshttpclient 0.7 passes `strict=` to urllib3 2.x, which warns on every new connection pool.
warnings.filterwarnings("ignore", message="The 'strict' parameter is no longer needed", category=FutureWarning)

# Options for every add, so CIDs never depend on the node's configuration (names shared by Kubo and js-ipfs).
ADD_OPTIONS: dict[str, Any] = {
    "cid-version": 1,
    "raw-leaves": True,
    "hash": "sha2-256",
    "pin": True,
    "cid-base": "base32",
}
_READ_CHUNK = 1 << 20

# Node answers meaning "this content is not here (yet)" rather than "the node is broken".
_MISSING_MARKERS = (
    "request timed out",  # js-ipfs, RPC timeout= expired
    "context deadline exceeded",  # Kubo, RPC timeout= expired
    "not found",
    "no link named",
    "does not exist",
)

T = TypeVar("T")


# --------------------------------------------------------------------------------------------------------------
# CID helpers
# --------------------------------------------------------------------------------------------------------------


def _decode_cid(cid: str) -> CID:
    if not isinstance(cid, str) or not cid.strip():
        raise InvalidInput("A CID is required.")
    try:
        return CID.decode(cid.strip())
    except Exception:  # noqa: BLE001 - multiformats raises KeyError, ValueError and its own errors
        raise InvalidInput(f"{cid[:80]!r} is not a valid CID.") from None


def is_valid_cid(s: str) -> bool:
    try:
        _decode_cid(s)
    except InvalidInput:
        return False
    return True


def normalize_cid(cid: str) -> str:
    """The canonical text form: CIDv1 in base32 (a CIDv0 `Qm...` becomes the equivalent dag-pb `bafy...`)."""
    return str(_decode_cid(cid).set(version=1, base="base32"))


def raw_cid_digest(cid: str) -> bytes:
    """The 32-byte SHA-256 digest inside a CIDv1 with the raw codec (`bafkrei...`); InvalidInput for any other."""
    decoded = _decode_cid(cid)
    if decoded.version != 1 or decoded.codec.name != "raw" or decoded.hashfun.name != "sha2-256":
        raise InvalidInput(f"{cid[:80]!r} is not a CIDv1 of raw bytes hashed with sha2-256.")
    digest = bytes(decoded.raw_digest)
    if len(digest) != 32:
        raise InvalidInput(f"{cid[:80]!r} does not carry a 32-byte sha2-256 digest.")
    return digest


def raw_cid_from_digest(digest: bytes) -> str:
    """Inverse of `raw_cid_digest`: the base32 CIDv1 (`bafkrei...`) of raw bytes whose SHA-256 is `digest`."""
    if not isinstance(digest, (bytes, bytearray)) or len(digest) != 32:
        raise InvalidInput("A sha2-256 digest is exactly 32 bytes.")
    return str(CID("base32", 1, "raw", multihash.wrap(bytes(digest), "sha2-256")))


def raw_cid_of_bytes(data: bytes) -> str:
    """The CID the node gives `data` when it fits in one chunk (<= 256 KiB), computed locally."""
    return raw_cid_from_digest(hashlib.sha256(data).digest())


# --------------------------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------------------------


def to_multiaddr(api_addr: str) -> str:
    """Accept `/ip4/127.0.0.1/tcp/5001/http` or `http://127.0.0.1:5001` and return the multiaddr form."""
    api_addr = api_addr.strip()
    if api_addr.startswith("/"):
        return api_addr
    parts = urlsplit(api_addr)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"IPFS API address {api_addr!r} is neither a multiaddr nor an http(s) URL.")
    if parts.path not in ("", "/", "/api/v0", "/api/v0/"):
        raise InvalidInput(f"IPFS API address {api_addr!r} must not have a path other than /api/v0.")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if ":" in host:
        proto = "ip6"
    elif host.replace(".", "").isdigit():
        proto = "ip4"
    else:
        proto = "dns"
    return f"/{proto}/{host}/tcp/{port}/{parts.scheme}"


def _duration(seconds: float) -> str:
    """A duration both Kubo (Go) and js-ipfs (parse-duration) accept."""
    return f"{max(1, math.ceil(seconds * 1000))}ms"


class IpfsClient:
    """Synchronous, thread-safe client for one IPFS node's RPC API."""

    def __init__(
        self,
        api_addr: str,
        *,
        timeout_s: float = 30.0,
        lookup_timeout_s: float = 5.0,
        stream_timeout_s: float = 3600.0,
        remote: RemotePinner | None = None,
    ) -> None:
        """
        timeout_s: HTTP connect timeout and longest silence between two reads from the node.
        lookup_timeout_s: how long the node may look for content it does not hold before `NotFound`
            (RPC `timeout=` on cat/stat/pin ls; js-ipfs and an offline Kubo otherwise wait forever).
        stream_timeout_s: RPC `timeout=` bounding a whole streamed `cat` (a slow browser reads slowly).
        remote: every CID added or pinned here is also pinned at this pinning service (IPFS_PINNING_SERVICE_URL).
        """
        self.api_addr = to_multiaddr(api_addr)
        self.remote = remote
        self.timeout_s = timeout_s
        self.lookup_timeout_s = lookup_timeout_s
        self.stream_timeout_s = stream_timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._clients: list[ipfshttpclient.Client] = []
        self._closed = False

    # --- plumbing -----------------------------------------------------------------------------------------

    def _client(self) -> ipfshttpclient.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            with self._lock:
                if self._closed:
                    raise StorageUnavailable("The IPFS client has been closed.")
                try:
                    # session=True skips ipfshttpclient's version check, which refuses every current node.
                    # chunk_size: the multipart body goes out in 1 MiB pieces (the default is 8 KiB: six thousand
                    # chunked-encoding writes for a 50 MB upload)
                    client = ipfshttpclient.Client(self.api_addr, session=True, timeout=self.timeout_s,
                                                   chunk_size=_READ_CHUNK)
                except ipfs_errors.AddressError:
                    raise InvalidInput(f"IPFS API address {self.api_addr!r} is not usable.") from None
                self._clients.append(client)
            self._local.client = client
        return client

    def _call(self, what: str, fn: Callable[[ipfshttpclient.Client], T]) -> T:
        try:
            return fn(self._client())
        except Exception as error:  # noqa: BLE001 - translated below, re-raised if unknown
            raise self._translate(what, error) from None

    def _translate(self, what: str, error: Exception) -> Exception:
        if isinstance(error, (InvalidInput, NotFound, StorageUnavailable)):
            return error
        if isinstance(error, ipfs_errors.ErrorResponse):
            message = str(error.args[0] if error.args else error)
            if any(marker in message.lower() for marker in _MISSING_MARKERS):
                return NotFound(f"The IPFS node does not have this content ({what}: {message}).")
            if "invalid" in message.lower() and "cid" in message.lower():
                return InvalidInput(f"The IPFS node rejected the CID ({what}: {message}).")
            logger.warning("IPFS %s failed: %s", what, message)
            return StorageUnavailable(f"The IPFS node refused to {what}: {message}")
        if isinstance(error, (ipfs_errors.TimeoutError, requests.Timeout, urllib3.exceptions.TimeoutError)):
            return StorageUnavailable(f"The IPFS node at {self.api_addr} did not answer in time ({what}).")
        if isinstance(
            error,
            (ipfs_errors.Error, requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError),
        ):
            logger.warning("IPFS %s failed: %r", what, error)
            return StorageUnavailable(f"The IPFS node at {self.api_addr} is unreachable ({what}).")
        return error

    def close(self) -> None:
        with self._lock:
            self._closed = True
            clients, self._clients = self._clients, []
        for client in clients:
            try:
                client.close()
            except Exception:  # noqa: BLE001, S110 - best effort on shutdown
                pass

    def __enter__(self) -> IpfsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writes -------------------------------------------------------------------------------------------

    def _add(self, chunks: Iterable[bytes]) -> str:
        def add(client: ipfshttpclient.Client) -> str:
            # add_bytes streams a generator as one multipart part named "bytes" with an
            # application/octet-stream Content-Type (and sends no local path, unlike add(path)).
            return client.add_bytes(chunks, opts=dict(ADD_OPTIONS))

        cid = normalize_cid(self._call("add content", add))
        if self.remote is not None:
            self.remote.submit(cid)  # replicated at the pinning service in the background
        return cid

    def add_bytes(self, data: bytes) -> str:
        """Add and pin `data`; return its base32 CIDv1."""
        return self._add(iter((bytes(data),)))

    def add_file(self, path: Path, *, digest: Any | None = None) -> str:
        """Add and pin the file at `path`, streamed in 1 MiB reads; return its base32 CIDv1.

        `digest` (a hashlib object) is updated with every chunk sent, so the caller gets the file's hash from the
        same single read."""
        path = Path(path)
        try:
            f = path.open("rb")
        except OSError as e:
            raise InvalidInput(f"Cannot read {path.name}: {e.strerror}.") from None

        def chunks() -> Iterator[bytes]:
            with f:
                while chunk := f.read(_READ_CHUNK):
                    if digest is not None:
                        digest.update(chunk)
                    yield chunk

        try:
            return self._add(chunks())
        finally:
            f.close()

    # --- reads --------------------------------------------------------------------------------------------

    def stat(self, cid: str) -> dict[str, Any]:
        """`{"cid", "size", "type"}` of the UnixFS node; NotFound if the node can't find it within the lookup time."""
        cid = normalize_cid(cid)
        result = self._call(
            "look up content",
            lambda c: c.files.stat(f"/ipfs/{cid}", opts={"timeout": _duration(self.lookup_timeout_s)}),
        )
        return {"cid": normalize_cid(str(result["Hash"])), "size": int(result["Size"]), "type": str(result["Type"])}

    def cat(self, cid: str) -> Generator[bytes, None, None]:
        """Stream the content of `cid` in chunks (as the node sends them, up to 256 KiB).

        Lazy: nothing is sent to the node until the first `next()`, which first looks the CID up (NotFound within
        `lookup_timeout_s` if the node lacks it, StorageUnavailable if the node is down), so a caller can pull the
        first chunk in a worker thread before answering HTTP. Every `next()` blocks: run it off the event loop.
        The generator holds an HTTP connection until exhausted or closed (`.close()`, or garbage collection).
        """
        cid = normalize_cid(cid)
        return self._cat(cid)

    def _cat(self, cid: str) -> Generator[bytes, None, None]:
        info = self.stat(cid)  # fails fast if the node lacks the root block
        if info["type"] != "file":
            raise NotFound(f"{cid} is a directory, not a file.")
        # The RPC timeout bounds the whole streamed response; lookups already happened above.
        response = self._call(
            "read content",
            lambda c: c.cat(cid, stream=True, opts={"timeout": _duration(self.stream_timeout_s)}),
        )
        try:
            for chunk in response:
                if chunk:
                    yield chunk
        except Exception as error:  # noqa: BLE001 - translated
            raise self._translate("read content", error) from None
        finally:
            response.close()

    def cat_range(self, cid: str, *, offset: int = 0, length: int | None = None) -> Generator[bytes, None, None]:
        """Stream `length` bytes of `cid` from byte `offset` (to the end when `length` is None).

        The node reads only the blocks that hold the range (RPC `cat` `offset`/`length`, which Kubo and js-ipfs both
        honour), so serving the end of a 50 MB video never reads its start. Lazy like `cat`: the first `next()`
        looks the CID up (NotFound within `lookup_timeout_s`, StorageUnavailable when the node is down). Never
        yields more than `length` bytes.
        """
        cid = normalize_cid(cid)
        if offset < 0 or (length is not None and length < 0):
            raise InvalidInput("A byte range starts at 0 or later and has a length of 0 or more.")
        return self._cat_range(cid, offset, length)

    def _cat_range(self, cid: str, offset: int, length: int | None) -> Generator[bytes, None, None]:
        info = self.stat(cid)  # fails fast if the node lacks the root block
        if info["type"] != "file":
            raise NotFound(f"{cid} is a directory, not a file.")
        if length == 0 or offset >= info["size"]:
            return
        # ipfshttpclient's cat() drops its own offset/length arguments when opts= is given: pass them in opts.
        opts: dict[str, Any] = {"timeout": _duration(self.stream_timeout_s)}
        if offset:
            opts["offset"] = offset
        if length is not None:
            opts["length"] = length
        response = self._call("read content", lambda c: c.cat(cid, stream=True, opts=opts))
        left = length
        try:
            for chunk in response:
                if not chunk:
                    continue
                if left is not None:
                    chunk = chunk[:left]
                    left -= len(chunk)
                yield chunk
                if left == 0:
                    break
        except Exception as error:  # noqa: BLE001 - translated
            raise self._translate("read content", error) from None
        finally:
            response.close()

    def cat_bytes(self, cid: str, *, max_bytes: int = 10 * 1024 * 1024) -> bytes:
        """The whole content of `cid` (metadata JSON, small files); InvalidInput if larger than `max_bytes`.

        Same failures as `cat` (NotFound within `lookup_timeout_s`, StorageUnavailable); stops reading as soon as
        the content is known to be too large.
        """
        buffer = bytearray()
        chunks = self.cat(cid)
        try:
            for chunk in chunks:
                buffer += chunk
                if len(buffer) > max_bytes:
                    raise InvalidInput(f"The content of {normalize_cid(cid)} is larger than {max_bytes} bytes.")
        finally:
            chunks.close()
        return bytes(buffer)

    def is_pinned(self, cid: str) -> bool:
        """True if `cid` is pinned recursively (as every add here pins it)."""
        cid = normalize_cid(cid)

        def pinned_keys(client: ipfshttpclient.Client) -> list[str]:
            try:
                result = client.pin.ls(cid, type="recursive", opts={"timeout": _duration(self.lookup_timeout_s)})
            except ipfs_errors.ErrorResponse as error:
                if "not pinned" in str(error).lower():  # Kubo and js-ipfs: "path '<cid>' is not pinned"
                    return []
                raise
            return list(result.get("Keys") or {})

        try:
            keys = self._call("list pins", pinned_keys)
        except NotFound:
            return False
        return any(normalize_cid(key) == cid for key in keys)

    def pin(self, cid: str) -> None:
        """Pin content the node already holds (NotFound within the lookup time otherwise)."""
        cid = normalize_cid(cid)
        self._call("pin content", lambda c: c.pin.add(cid, opts={"timeout": _duration(self.lookup_timeout_s)}))
        if self.remote is not None:
            self.remote.submit(cid)

    def unpin(self, cid: str) -> None:
        """Unpin content (a removed avatar); content that is not pinned is fine. The node frees the blocks at its
        next garbage collection; the pinning service's pins of it are removed too."""
        cid = normalize_cid(cid)

        def rm(client: ipfshttpclient.Client) -> None:
            try:
                client.pin.rm(cid, opts={"timeout": _duration(self.lookup_timeout_s)})
            except ipfs_errors.ErrorResponse as error:
                if "not pinned" not in str(error).lower():
                    raise

        try:
            self._call("unpin content", rm)
        except NotFound:
            pass
        if self.remote is not None:
            self.remote.unpin(cid)  # and its pins at the pinning service, in the background

    def version(self) -> str:
        """The node's version string; doubles as a health check (StorageUnavailable when down)."""
        result = self._call("report its version", lambda c: c.version())
        return str(result["Version"])
