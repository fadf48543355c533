"""The licences a work is sold under: each one a document, not a label.

The Creative Commons licences are their canonical legal code. The two marketplace licences (`personal-use`,
`commercial-use`, modelled on a16z's "Can't Be Evil" personal and commercial licences) are documents shipped
here, next to this module, each holding its English, French and German text. They are pinned on IPFS as one raw
block each, so a document's CID is the SHA-256 of its bytes: computed here without the node, the same on every
start and every machine, and named by each token's metadata (so the token id, the metadata's digest, commits to
the exact terms).

The summaries are part of each licence's definition, in every shipped language, because `GET /api/licenses`
gives them all at once (pages pick the reader's language).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, Field

from marketplace.core.config import LICENSES
from marketplace.core.exceptions import StorageUnavailable
from marketplace.integrations.ipfs.client import IpfsClient, raw_cid_of_bytes

log = logging.getLogger(__name__)

DOCUMENTS_DIR = Path(__file__).resolve().parent
SUMMARY_LANGUAGES = ("en", "fr", "de")  # the pages' languages (web.i18n.LANGUAGES; a test keeps them equal)


@dataclass(frozen=True)
class Licence:
    id: str
    name: str
    summary: dict[str, str]  # language -> plain words
    commercial_use: bool
    derivatives: bool  # adaptations allowed (with share_alike: under the same licence)
    attribution: bool  # the creators must be named
    share_alike: bool = False
    legal_code_url: str | None = None  # Creative Commons: the canonical legal code; None: a document shipped here

    @property
    def token_bound(self) -> bool:
        """The marketplace licences grant rights to the token's holder while they hold it; Creative Commons grants
        them to everyone, for good."""
        return self.legal_code_url is None

    @cached_property
    def document(self) -> bytes | None:
        """The full terms, in every language, exactly as pinned (None for Creative Commons: see legal_code_url)."""
        return (DOCUMENTS_DIR / f"{self.id}.md").read_bytes() if self.token_bound else None

    @cached_property
    def cid(self) -> str | None:
        return raw_cid_of_bytes(self.document) if self.document is not None else None

    @property
    def terms_uri(self) -> str:
        """What a token's metadata names: the document's `ipfs://` URI (content-addressed), or the legal code."""
        return f"ipfs://{self.cid}" if self.cid else self.legal_code_url

    def terms_url(self, public_base_url: str) -> str:
        """Where a browser reads the terms: our IPFS gateway for a pinned document, else the legal code."""
        return f"{public_base_url.rstrip('/')}/ipfs/{self.cid}" if self.cid else self.legal_code_url


_CC = "https://creativecommons.org"

LICENCES: dict[str, Licence] = {lic.id: lic for lic in (
    Licence(
        id="CC0-1.0", name="CC0 1.0 Universal (public domain dedication)",
        summary={
            "en": "No rights reserved: anyone may copy, change and use the work for any purpose, commercial ones "
                  "included, without asking and without naming the creators.",
            "fr": "Aucun droit réservé : chacun peut copier, modifier et utiliser l'œuvre à toutes fins, y compris "
                  "commerciales, sans demander d'autorisation ni nommer les créateurs.",
            "de": "Keine Rechte vorbehalten: Jeder darf das Werk für jeden Zweck, auch kommerziell, kopieren, "
                  "verändern und nutzen, ohne zu fragen und ohne die Urheber zu nennen.",
        },
        commercial_use=True, derivatives=True, attribution=False,
        legal_code_url=f"{_CC}/publicdomain/zero/1.0/legalcode"),
    Licence(
        id="CC-BY-4.0", name="Creative Commons Attribution 4.0 International",
        summary={
            "en": "Anyone may share and adapt the work for any purpose, commercial ones included, as long as they "
                  "name the creators, link to the licence and say what they changed.",
            "fr": "Chacun peut partager et adapter l'œuvre à toutes fins, y compris commerciales, à condition de "
                  "nommer les créateurs, d'indiquer la licence et de signaler les modifications.",
            "de": "Jeder darf das Werk für jeden Zweck, auch kommerziell, teilen und bearbeiten, sofern er die "
                  "Urheber nennt, auf die Lizenz verweist und Änderungen angibt.",
        },
        commercial_use=True, derivatives=True, attribution=True,
        legal_code_url=f"{_CC}/licenses/by/4.0/legalcode"),
    Licence(
        id="CC-BY-SA-4.0", name="Creative Commons Attribution-ShareAlike 4.0 International",
        summary={
            "en": "Anyone may share and adapt the work for any purpose, commercial ones included, if they name "
                  "the creators and share their adaptations under this same licence.",
            "fr": "Chacun peut partager et adapter l'œuvre à toutes fins, y compris commerciales, s'il nomme les "
                  "créateurs et partage ses adaptations sous cette même licence.",
            "de": "Jeder darf das Werk für jeden Zweck, auch kommerziell, teilen und bearbeiten, wenn er die "
                  "Urheber nennt und seine Bearbeitungen unter derselben Lizenz weitergibt.",
        },
        commercial_use=True, derivatives=True, attribution=True, share_alike=True,
        legal_code_url=f"{_CC}/licenses/by-sa/4.0/legalcode"),
    Licence(
        id="CC-BY-NC-4.0", name="Creative Commons Attribution-NonCommercial 4.0 International",
        summary={
            "en": "Anyone may share and adapt the work, not for commercial purposes, as long as they name the "
                  "creators, link to the licence and say what they changed.",
            "fr": "Chacun peut partager et adapter l'œuvre, à des fins non commerciales, à condition de nommer "
                  "les créateurs, d'indiquer la licence et de signaler les modifications.",
            "de": "Jeder darf das Werk teilen und bearbeiten, nicht zu kommerziellen Zwecken, sofern er die "
                  "Urheber nennt, auf die Lizenz verweist und Änderungen angibt.",
        },
        commercial_use=False, derivatives=True, attribution=True,
        legal_code_url=f"{_CC}/licenses/by-nc/4.0/legalcode"),
    Licence(
        id="personal-use", name="Creative Marketplace Personal Use Licence 1.0",
        summary={
            "en": "While you hold the token you may enjoy the work and show it as yours, privately and on "
                  "non-commercial pages; no commercial use and no changes. The copyright stays with the "
                  "creators, and the licence passes to whoever you transfer the token to.",
            "fr": "Tant que vous détenez le jeton, vous pouvez profiter de l'œuvre et la montrer comme vôtre, en "
                  "privé et sur des pages non commerciales ; ni usage commercial ni modification. Le droit "
                  "d'auteur reste aux créateurs, et la licence passe à la personne à qui vous cédez le jeton.",
            "de": "Solange Sie den Token halten, dürfen Sie das Werk genießen und als Ihres zeigen, privat und auf "
                  "nicht kommerziellen Seiten; keine kommerzielle Nutzung und keine Änderungen. Das Urheberrecht "
                  "bleibt bei den Urhebern, und die Lizenz geht auf den über, dem Sie den Token übertragen.",
        },
        commercial_use=False, derivatives=False, attribution=True),
    Licence(
        id="commercial-use", name="Creative Marketplace Commercial Use Licence 1.0",
        summary={
            "en": "While you hold the token you may use the work for any purpose, commercial ones included, and "
                  "adapt it, naming the creators and respecting the work. The copyright stays with the creators, "
                  "and the licence passes to whoever you transfer the token to.",
            "fr": "Tant que vous détenez le jeton, vous pouvez utiliser l'œuvre à toutes fins, y compris "
                  "commerciales, et l'adapter, en nommant les créateurs et en respectant l'œuvre. Le droit "
                  "d'auteur reste aux créateurs, et la licence passe à la personne à qui vous cédez le jeton.",
            "de": "Solange Sie den Token halten, dürfen Sie das Werk für jeden Zweck, auch kommerziell, nutzen und "
                  "bearbeiten, wobei Sie die Urheber nennen und das Werk respektieren. Das Urheberrecht bleibt "
                  "bei den Urhebern, und die Lizenz geht auf den über, dem Sie den Token übertragen.",
        },
        commercial_use=True, derivatives=True, attribution=True),
)}
assert tuple(LICENCES) == LICENSES, "one definition per licence of the vocabulary (core.config.LICENSES)"
assert all(tuple(lic.summary) == SUMMARY_LANGUAGES for lic in LICENCES.values()), "a summary in every language"


class LicencePublic(BaseModel):
    id: str = Field(description="the code a work's `license` names")
    name: str
    summary: dict[str, str] = Field(description="plain words, per language (`en`, `fr`, `de`)")
    url: str = Field(description="the full terms: the pinned document on this server's IPFS gateway, or the "
                                 "Creative Commons legal code")
    cid: str | None = Field(description="the IPFS CID of the pinned document (null for Creative Commons)")
    commercial_use: bool
    derivatives: bool = Field(description="adaptations allowed (with `share_alike`: only under the same licence)")
    attribution: bool = Field(description="the creators must be named")
    share_alike: bool
    token_bound: bool = Field(description="true: the rights are the token holder's while they hold it (they pass "
                                          "with the token); false: Creative Commons, everyone's")


def to_public(licence: Licence, *, public_base_url: str) -> LicencePublic:
    return LicencePublic(
        id=licence.id, name=licence.name, summary=licence.summary, url=licence.terms_url(public_base_url),
        cid=licence.cid, commercial_use=licence.commercial_use, derivatives=licence.derivatives,
        attribution=licence.attribution, share_alike=licence.share_alike, token_bound=licence.token_bound)


def get(licence_id: str) -> Licence:
    return LICENCES[licence_id]


def by_cid(cid: str) -> Licence | None:
    """The marketplace licence whose document has this CID (what /ipfs/{cid} serves as the terms)."""
    return next((lic for lic in LICENCES.values() if lic.cid is not None and lic.cid == cid), None)


def pin_document(ipfs: IpfsClient, licence: Licence) -> str | None:
    """Add the licence's document to the node (pinned). Idempotent: the same bytes are the same block and CID. The
    node must give the CID computed here, else the terms the tokens name would not be the ones it serves."""
    if licence.document is None:
        return None
    cid = ipfs.add_bytes(licence.document)
    if cid != licence.cid:
        raise StorageUnavailable(f"IPFS gave the {licence.id} terms the CID {cid}, expected {licence.cid}")
    return cid


def pin_documents(ipfs: IpfsClient) -> list[str]:
    """Pin every shipped document (at start-up). A node that cannot be reached is logged, not fatal: each mint pins
    its work's licence again before its metadata."""
    try:
        return [cid for lic in LICENCES.values() if (cid := pin_document(ipfs, lic)) is not None]
    except StorageUnavailable as exc:
        log.warning("the licence documents are not pinned yet (each mint pins its own): %s", exc)
        return []
