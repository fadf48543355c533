"""Each licence is a document: GET /api/licenses, the marketplace terms pinned on IPFS with a CID that is the same on
every start, served byte for byte at /ipfs/{cid}, and named by the metadata every token id commits to."""

from __future__ import annotations

import hashlib
import json

import pytest

from devtools.ipfs_node import IpfsNode, pick_free_port
from marketplace.catalog import licences
from marketplace.core.config import LICENSES
from marketplace.integrations.ipfs.client import IpfsClient, raw_cid_digest
from marketplace.web.i18n import LANGUAGES

MARKETPLACE = ("personal-use", "commercial-use")
LEGAL_CODE = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/legalcode",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/legalcode",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/legalcode",
    "CC-BY-NC-4.0": "https://creativecommons.org/licenses/by-nc/4.0/legalcode",
}
# what each licence allows: (commercial_use, derivatives, attribution, share_alike)
RIGHTS = {
    "CC0-1.0": (True, True, False, False), "CC-BY-4.0": (True, True, True, False),
    "CC-BY-SA-4.0": (True, True, True, True), "CC-BY-NC-4.0": (False, True, True, False),
    "personal-use": (False, False, True, False), "commercial-use": (True, True, True, False),
}


def test_every_licence_is_summarised_in_each_language_the_pages_speak():
    assert licences.SUMMARY_LANGUAGES == LANGUAGES
    assert all(set(lic.summary) == set(LANGUAGES) for lic in licences.LICENCES.values())


def test_every_marketplace_document_holds_the_whole_terms_in_each_language_in_one_raw_block():
    for licence_id in MARKETPLACE:
        document = licences.get(licence_id).document
        text = document.decode()
        assert len(document) <= 256 * 1024  # one raw block: the CID is the SHA-256 of these bytes
        assert [line for line in text.splitlines() if line.startswith("## ")] == ["## English", "## Français",
                                                                                 "## Deutsch"]
        # what the holder may do and for how long, what stays with the creators, transfer, termination, law
        for words in ("For as long as you hold the Token", "moral rights", "authorship", "integrity",
                      "This licence follows the Token", "breach", "No trademark rights", "Grand Duchy of Luxembourg",
                      "Tant que vous détenez le Jeton", "droits moraux", "Grand-Duché de Luxembourg",
                      "Solange Sie den Token halten", "Urheberpersönlichkeitsrechte", "Großherzogtums Luxemburg"):
            assert words in text, (licence_id, words)
    personal, commercial = (licences.get(i).document.decode() for i in MARKETPLACE)
    assert "personal, non-commercial" in personal and "commercial ones included" in commercial


@pytest.mark.ipfs
@pytest.mark.chain
def test_the_api_lists_every_licence_with_its_terms_summaries_and_rights(client):
    r = client.get("/api/licenses")
    assert r.status_code == 200, r.text
    listed = {lic["id"]: lic for lic in r.json()}
    assert list(listed) == list(LICENSES)
    for licence_id, lic in listed.items():
        assert set(lic["summary"]) == set(LANGUAGES) and all(len(s) > 40 for s in lic["summary"].values())
        assert len(set(lic["summary"].values())) == 3  # really three languages
        assert (lic["commercial_use"], lic["derivatives"], lic["attribution"], lic["share_alike"]) == \
            RIGHTS[licence_id]
        if licence_id in MARKETPLACE:
            assert lic["token_bound"] and lic["cid"].startswith("bafkrei")
            assert lic["url"] == f"http://testserver/ipfs/{lic['cid']}"
            assert raw_cid_digest(lic["cid"]) == hashlib.sha256(licences.get(licence_id).document).digest()
        else:
            assert (lic["url"], lic["cid"], lic["token_bound"]) == (LEGAL_CODE[licence_id], None, False)
    assert listed["personal-use"]["name"] == "Creative Marketplace Personal Use Licence 1.0"
    assert listed["commercial-use"]["summary"]["de"].startswith("Solange Sie den Token halten")


@pytest.mark.ipfs
@pytest.mark.chain
@pytest.mark.slow
def test_the_app_pins_the_terms_at_start_with_the_same_cid_every_time(make_client, tmp_path):
    """A fresh node holds nothing: the app's start-up pins the documents; a second start finds the same CIDs and
    the gateway serves the exact bytes the CIDs name."""
    with IpfsNode.start(tmp_path / "repo", pick_free_port(), timeout=90) as node, \
            IpfsClient(node.api_addr, lookup_timeout_s=3.0) as ipfs:
        assert not any(ipfs.is_pinned(licences.get(i).cid) for i in MARKETPLACE)  # the start-up does it
        cids = []
        for _start in range(2):
            client = make_client(ipfs_api_url=node.api_addr)
            listed = {lic["id"]: lic for lic in client.get("/api/licenses").json()}
            cids.append([listed[i]["cid"] for i in MARKETPLACE])
            for licence_id in MARKETPLACE:
                cid, document = listed[licence_id]["cid"], licences.get(licence_id).document
                assert ipfs.is_pinned(cid)
                assert ipfs.cat_bytes(cid) == document
                served = client.get(f"/ipfs/{cid}")
                assert served.status_code == 200 and served.content == document
                assert served.headers["content-type"] == "text/plain; charset=utf-8"
                assert "attachment" not in served.headers.get("content-disposition", "")  # read in the browser
        assert cids[0] == cids[1] == [licences.get(i).cid for i in MARKETPLACE]


@pytest.mark.ipfs
@pytest.mark.chain
@pytest.mark.parametrize("licence_id", ["personal-use", "CC-BY-SA-4.0"])
def test_the_token_metadata_names_the_licence_and_its_terms(api, ipfs_client, licence_id):
    """The token id is the metadata's digest, and the metadata names the terms by their own content address."""
    creator = api.register(role="creator")
    work = api.upload(creator, license=licence_id).json()
    assert api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
    minted = api.wait_for_status(work["id"], "minted")

    raw = ipfs_client.cat_bytes(minted["metadata_cid"])
    assert minted["token_id"] == int.from_bytes(hashlib.sha256(raw).digest(), "big")
    metadata = json.loads(raw)
    assert metadata["license"] == licence_id
    licence = licences.get(licence_id)
    if licence.token_bound:
        assert metadata["license_url"] == f"ipfs://{licence.cid}"
        assert ipfs_client.cat_bytes(licence.cid) == licence.document  # the terms the token names are there
    else:
        assert metadata["license_url"] == LEGAL_CODE[licence_id]
