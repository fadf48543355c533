"""/ipfs/{cid} served as browsers expect media (Range, HEAD, If-None-Match), and drafts' media kept private."""

from __future__ import annotations

import io
import os
import wave

import ipfshttpclient
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from devtools.procs import pick_free_port
from marketplace.accounts.models import Account
from marketplace.catalog.models import Work
from marketplace.core import db
from marketplace.integrations.ipfs.client import raw_cid_of_bytes
from tests.conftest import png_bytes

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

SECURITY = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox",
}


def noise_wav(n_bytes: int = 700_000) -> bytes:
    """A WAV of random samples: several IPFS blocks (256 KiB each) and no two ranges alike."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(os.urandom(n_bytes - 44))
    return buf.getvalue()


@pytest.fixture
def song(api):
    """A published (minted) audio work: its media is public."""
    creator = api.register(role="creator")
    content = noise_wav()
    r = api.upload(creator, content=content, filename="song.wav", discipline="music")
    assert r.status_code == 201, r.text
    work = r.json()
    set_status(work["id"], "minted")
    return {"work": work, "content": content, "url": f"/ipfs/{work['media_cid']}", "creator": creator}


def set_status(work_id: int, status: str) -> None:
    with Session(db.get_engine()) as session:
        session.execute(update(Work).where(Work.id == work_id).values(status=status))
        session.commit()


def make_admin(account_id: int) -> None:
    with Session(db.get_engine()) as session:
        session.execute(update(Account).where(Account.id == account_id).values(role="admin"))
        session.commit()


def assert_security_headers(response) -> None:
    for name, value in SECURITY.items():
        assert response.headers[name] == value, name
    assert "max-age=31536000" in response.headers["cache-control"]


# --------------------------------------------------------------------------------------------------------------
# Range
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "first", "last"), [
    ("bytes=0-1023", 0, 1023),
    ("bytes=300000-300009", 300_000, 300_009),  # crosses no boundary, inside the second block
    ("bytes=262140-262150", 262_140, 262_150),  # across the first block boundary (256 KiB)
    ("bytes=699000-", 699_000, 699_999),
    ("bytes=-500", 699_500, 699_999),
    ("bytes=-900000", 0, 699_999),  # a suffix longer than the file is the whole file
    ("bytes=699990-800000", 699_990, 699_999),  # the end is clamped to the size
    ("bytes=5-5", 5, 5),
])
def test_single_range_is_206_with_exactly_those_bytes(api, song, header, first, last):
    r = api.client.get(song["url"], headers={"Range": header})
    assert r.status_code == 206, r.text
    assert r.content == song["content"][first : last + 1]
    assert r.headers["content-range"] == f"bytes {first}-{last}/700000"
    assert r.headers["content-length"] == str(last - first + 1)
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-type"] == "audio/wav"
    assert r.headers["etag"] == f'"{song["work"]["media_cid"]}"'
    assert_security_headers(r)


def test_a_range_is_read_from_the_node_with_offset_and_length(api, song, monkeypatch):
    asked: list[dict] = []
    real_cat = ipfshttpclient.Client.cat

    def recording_cat(self, cid, *args, **kwargs):
        asked.append(dict(kwargs.get("opts") or {}))
        return real_cat(self, cid, *args, **kwargs)

    monkeypatch.setattr(ipfshttpclient.Client, "cat", recording_cat)
    r = api.client.get(song["url"], headers={"Range": "bytes=600000-600099"})
    assert r.status_code == 206
    assert r.content == song["content"][600_000:600_100]
    assert len(asked) == 1
    assert (asked[0]["offset"], asked[0]["length"]) == (600_000, 100)


@pytest.mark.parametrize("header", ["bytes=700000-", "bytes=700000-700010", "bytes=-0", "bytes=" + "9" * 40 + "-"])
def test_unsatisfiable_range_is_416_with_the_size(api, song, header):
    r = api.client.get(song["url"], headers={"Range": header})
    assert r.status_code == 416, r.text
    assert r.headers["content-range"] == "bytes */700000"
    assert r.json()["code"] == "range_not_satisfiable"
    assert set(r.json()) == {"detail", "code"}
    assert_security_headers(r)


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "bytes=10-5", "items=0-10", "bytes=abc", "bytes=-"])
def test_multi_and_malformed_ranges_get_the_whole_body(api, song, header):
    """Several ranges are answered with the whole content (200), as RFC 9110 allows; so is a malformed header."""
    r = api.client.get(song["url"], headers={"Range": header})
    assert r.status_code == 200
    assert r.content == song["content"]
    assert r.headers["content-length"] == "700000"
    assert "content-range" not in r.headers


def test_if_range_with_another_etag_gets_the_whole_body(api, song):
    r = api.client.get(song["url"], headers={"Range": "bytes=0-9", "If-Range": '"bafkreisomethingelse"'})
    assert r.status_code == 200
    assert r.content == song["content"]
    same = api.client.get(song["url"], headers={"Range": "bytes=0-9", "If-Range": f'"{song["work"]["media_cid"]}"'})
    assert same.status_code == 206
    assert same.content == song["content"][:10]


def test_full_answer_has_content_length_and_accept_ranges(api, song):
    r = api.client.get(song["url"])
    assert r.status_code == 200
    assert r.content == song["content"]
    assert r.headers["content-length"] == "700000"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert_security_headers(r)


def test_content_not_of_a_work_gets_its_size_from_the_node(api, ipfs_client):
    data = os.urandom(400_000)
    cid = ipfs_client.add_bytes(data)
    r = api.client.get(f"/ipfs/{cid}")
    assert r.status_code == 200
    assert r.headers["content-length"] == "400000"
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.content == data
    tail = api.client.get(f"/ipfs/{cid}", headers={"Range": "bytes=-100"})
    assert tail.status_code == 206
    assert tail.headers["content-range"] == "bytes 399900-399999/400000"
    assert tail.content == data[-100:]


# --------------------------------------------------------------------------------------------------------------
# HEAD and If-None-Match
# --------------------------------------------------------------------------------------------------------------


def test_head_answers_the_headers_without_a_body(api, song):
    r = api.client.head(song["url"])
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == "700000"
    assert r.headers["content-type"] == "audio/wav"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["etag"] == f'"{song["work"]["media_cid"]}"'
    assert_security_headers(r)
    part = api.client.head(song["url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == b""
    assert part.headers["content-range"] == "bytes 100-199/700000"
    assert part.headers["content-length"] == "100"


@pytest.mark.parametrize("template", ['"{cid}"', 'W/"{cid}"', '"bafkreiother", "{cid}"', "*", '"x",W/"{cid}"'])
def test_if_none_match_with_our_etag_is_304(api, song, template):
    cid = song["work"]["media_cid"]
    r = api.client.get(song["url"], headers={"If-None-Match": template.format(cid=cid)})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == f'"{cid}"'
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert_security_headers(r)
    assert api.client.head(song["url"], headers={"If-None-Match": template.format(cid=cid)}).status_code == 304


def test_if_none_match_with_another_etag_sends_the_content(api, song):
    r = api.client.get(song["url"], headers={"If-None-Match": '"bafkreiother", W/"x"'})
    assert r.status_code == 200
    assert r.content == song["content"]


def test_unknown_cid_is_404_and_an_unreachable_node_503(api, make_client):
    absent = raw_cid_of_bytes(os.urandom(32))
    r = api.client.get(f"/ipfs/{absent}")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    assert api.client.get("/ipfs/not-a-cid").status_code == 404
    down = make_client(ipfs_api_url=f"/ip4/127.0.0.1/tcp/{pick_free_port()}/http", ipfs_timeout_s=2.0)
    r = down.get(f"/ipfs/{absent}")
    assert r.status_code == 503
    assert r.json()["code"] == "ipfs_unavailable"


def test_openapi_documents_ipfs_as_binary_with_its_errors(client):
    operation = client.get("/openapi.json").json()["paths"]["/ipfs/{cid}"]
    for method in ("get", "head"):
        responses = operation[method]["responses"]
        for code in ("200", "206"):
            schema = responses[code]["content"]["application/octet-stream"]["schema"]
            assert schema == {"type": "string", "format": "binary"}
            assert "application/json" not in responses[code]["content"]
        assert "content" not in responses["304"]
        for code in ("404", "416", "503"):
            schema = responses[code]["content"]["application/json"]["schema"]
            assert schema["required"] == ["detail", "code"]


# --------------------------------------------------------------------------------------------------------------
# Drafts stay private
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def draft(api):
    creator = api.register(role="creator")
    content = png_bytes((900, 600), color=(10, 200, 30))
    r = api.upload(creator, content=content, filename="secret.png")
    assert r.status_code == 201, r.text
    work = r.json()
    assert work["status"] == "draft"
    return {"work": work, "content": content, "creator": creator}


def token_of(user: dict) -> str:
    return user["headers"]["Authorization"].removeprefix("Bearer ")


def with_cookie(api, user: dict) -> TestClient:
    """Another browser on the same app, signed in to the pages (its session cookie holds the access token)."""
    return TestClient(api.client.app, base_url=str(api.client.base_url), cookies={"mp_session": token_of(user)})


def test_a_drafts_media_and_thumbnail_are_404_to_anyone_but_its_creator(api, draft):
    work = draft["work"]
    absent = api.client.get(f"/ipfs/{raw_cid_of_bytes(os.urandom(32))}")
    other = api.register(role="creator")
    buyer = api.register(role="buyer")
    for cid in (work["media_cid"], work["thumbnail_cid"]):
        url = f"/ipfs/{cid}"
        for headers in ({}, other["headers"], buyer["headers"], {"Authorization": "Bearer not-a-token"}):
            r = api.client.get(url, headers=headers)
            assert r.status_code == 404, (cid, headers)
            assert r.json() == absent.json()  # the same answer as for a CID that does not exist
            assert api.client.head(url, headers=headers).status_code == 404
            assert api.client.get(url, headers={**headers, "If-None-Match": "*"}).status_code == 404
            assert api.client.get(url, headers={**headers, "Range": "bytes=0-9"}).status_code == 404
        other_cookie = with_cookie(api, other).get(url)
        assert other_cookie.status_code == 404


def test_a_drafts_creator_sees_it_by_bearer_token_or_session_cookie(api, draft):
    work, creator = draft["work"], draft["creator"]
    url = f"/ipfs/{work['media_cid']}"
    by_bearer = api.client.get(url, headers=creator["headers"])
    assert by_bearer.status_code == 200
    assert by_bearer.content == draft["content"]
    assert by_bearer.headers["cache-control"] == "private, max-age=31536000, immutable"  # never in a shared cache
    by_cookie = with_cookie(api, creator).get(url)
    assert by_cookie.status_code == 200
    assert by_cookie.content == draft["content"]
    thumb = with_cookie(api, creator).get(f"/ipfs/{work['thumbnail_cid']}")
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/webp"
    ranged = api.client.get(url, headers={**creator["headers"], "Range": "bytes=0-7"})
    assert ranged.status_code == 206
    assert ranged.content == b"\x89PNG\r\n\x1a\n"


def test_admins_see_drafts(api, draft):
    admin = api.register(role="buyer")
    make_admin(admin["id"])
    r = api.client.get(f"/ipfs/{draft['work']['media_cid']}", headers=admin["headers"])
    assert r.status_code == 200
    assert r.content == draft["content"]


def test_a_signed_out_session_no_longer_sees_the_draft(api, draft):
    creator = draft["creator"]
    assert api.client.post("/api/auth/signout", headers=creator["headers"]).status_code in (200, 204)
    r = with_cookie(api, creator).get(f"/ipfs/{draft['work']['media_cid']}")
    assert r.status_code == 404


def test_the_same_bytes_in_a_published_work_are_public(api, draft):
    """CIDs are content: when any non-draft work holds the same bytes, those bytes are public."""
    url = f"/ipfs/{draft['work']['media_cid']}"
    assert api.client.get(url).status_code == 404
    someone = api.register(role="creator")
    again = api.upload(someone, content=draft["content"], filename="same.png")
    assert again.status_code == 201
    assert again.json()["media_cid"] == draft["work"]["media_cid"]
    assert api.client.get(url).status_code == 404  # still only drafts
    set_status(again.json()["id"], "minting")
    r = api.client.get(url)
    assert r.status_code == 200
    assert r.content == draft["content"]
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
