"""The words the pages show for stored codes (a work's discipline, licence, media kind and status; a purchase's
status; a call's, a proposal's and a team member's status; the gallery's sorts). Marked with `N_` so `pybabel extract` finds them; translated when shown
(`Translator.label`). tests/web/test_i18n.py checks that every code of each vocabulary has its word."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated later, where it is shown."""
    return message


LABELS: dict[str, dict[str, str]] = {
    "discipline": {
        "design": N_("Design"),
        "music": N_("Music"),
        "photography": N_("Photography"),
        "film": N_("Film"),
        "games": N_("Games"),
        "architecture": N_("Architecture"),
        "publishing": N_("Publishing"),
        "fashion": N_("Fashion"),
        "digital-art": N_("Digital art"),
    },
    "license": {
        "CC0-1.0": N_("CC0 (public domain)"),
        "CC-BY-4.0": N_("CC BY 4.0 (credit the creator)"),
        "CC-BY-SA-4.0": N_("CC BY-SA 4.0 (credit, share alike)"),
        "CC-BY-NC-4.0": N_("CC BY-NC 4.0 (credit, non-commercial)"),
        "personal-use": N_("Personal use"),
        "commercial-use": N_("Commercial use"),
    },
    "kind": {
        "image": N_("Image"),
        "audio": N_("Audio"),
        "video": N_("Video"),
        "document": N_("PDF document"),
        "model": N_("3D model"),
    },
    "work_status": {
        "draft": N_("Draft"),
        "minting": N_("Minting…"),
        "minted": N_("Minted"),
        "mint_failed": N_("Minting failed"),
    },
    "purchase_status": {
        "pending": N_("Awaiting payment"),
        "paid": N_("Paid, delivering"),
        "delivered": N_("Delivered"),
        "refunded": N_("Refunded"),
        "failed": N_("Failed"),
        "expired": N_("Expired"),
    },
    "payout_status": {
        "booked": N_("Booked"),
        "pending": N_("Waiting"),
        "sending": N_("Sending"),
        "paid": N_("Transferred"),
        "reversed": N_("Reversed"),
        "offset": N_("Paid a debt"),
        "cancelled": N_("Cancelled"),
        "failed": N_("Refused by Stripe"),
    },
    "statement_line": {
        "credit": N_("Sale"),
        "refund": N_("Refund"),
        "transfer": N_("Transfer"),
        "reversal": N_("Transfer reversal"),
    },
    "collaborator_status": {
        "invited": N_("Invited"),
        "accepted": N_("Accepted"),
        "declined": N_("Declined"),
    },
    "call_status": {
        "open": N_("Open"),
        "awarded": N_("Awarded"),
        "paid": N_("Paid"),
        "delivered": N_("Delivered"),
        "closed": N_("Closed"),
    },
    "proposal_status": {
        "forming": N_("Forming: waiting for the team"),
        "submitted": N_("Submitted"),
        "declined": N_("Declined"),
        "awarded": N_("Awarded"),
    },
    "member_status": {
        "invited": N_("Invited"),
        "accepted": N_("Accepted"),
        "declined": N_("Declined"),
    },
    "organisation_kind": {
        "studio": N_("Studio"),
        "hub": N_("Hub"),
        "school": N_("School"),
        "cluster": N_("Cluster"),
        "company": N_("Company"),
        "association": N_("Association"),
    },
    "organisation_role": {
        "member": N_("Member"),
        "admin": N_("Organisation admin"),
    },
    "node_kind": {
        "creator": N_("Creator"),
        "caller": N_("Caller"),
        "organisation": N_("Organisation"),
    },
    "edge_kind": {
        "co_created": N_("Co-created works"),
        "awarded_call": N_("Awarded call"),
        "member_of": N_("Member of"),
    },
    "report_reason": {
        "illegal_content": N_("Illegal content"),
        "intellectual_property": N_("Infringes intellectual property (copyright, trademark)"),
        "privacy": N_("Violates someone's privacy or image rights"),
        "fraud": N_("Fraud or scam"),
        "hate_or_violence": N_("Hate speech or violence"),
        "other": N_("Something else"),
    },
    "report_status": {
        "open": N_("Open"),
        "actioned": N_("Work hidden"),
        "dismissed": N_("Dismissed"),
    },
    "decision_action": {
        "hide": N_("Hidden"),
        "restore": N_("Restored"),
        "dismiss": N_("Report dismissed"),
    },
    "event_kind": {
        "round_table": N_("Round table"),
        "open_studio": N_("Open studio"),
        "festival": N_("Festival"),
        "fair": N_("Fair"),
        "other": N_("Event"),
    },
    "sort": {
        "newest": N_("Newest"),
        "oldest": N_("Oldest"),
        "price_asc": N_("Price, low to high"),
        "price_desc": N_("Price, high to low"),
        "title": N_("Title A–Z"),
    },
}

# catalog.media.ACCEPTED_SUMMARY, in words a translator can translate (a test keeps the two equal).
ACCEPTED_SUMMARY = N_("Accepted: images (PNG, JPEG, GIF, WebP, AVIF, TIFF, SVG without scripts), audio (MP3, WAV, "
                      "FLAC, OGG, M4A), video (MP4, MOV, WebM), PDF documents and glTF 2.0 3D models (.glb, .gltf).")

# What a token's holder may and may not do under each licence, in plain words (the certificate says it; the full
# terms are the licence's document or legal code). tests/web/test_i18n.py checks that every licence has both.
_PASSES_ON = N_("Sell or give away the token: the licence passes to its next holder.")
_NO_CLAIM = N_("Claim to be its author, or suggest that its creators endorse you.")
_CREDIT = N_("Use it without naming its creators and linking to the licence.")
_EVERYONE = N_("Share, copy and adapt it for any purpose, commercial ones included: so may everyone else.")
LICENSE_TERMS: dict[str, dict[str, tuple[str, ...]]] = {
    "CC0-1.0": {
        "may": (N_("Do anything with it, changes and commercial use included, without naming its creators: so may "
                   "everyone else."), _PASSES_ON),
        "may_not": (N_("Stop others from using it: the work is in the public domain."), _NO_CLAIM),
    },
    "CC-BY-4.0": {"may": (_EVERYONE, _PASSES_ON), "may_not": (_CREDIT, _NO_CLAIM)},
    "CC-BY-SA-4.0": {
        "may": (_EVERYONE, _PASSES_ON),
        "may_not": (_CREDIT, N_("Share what you adapt from it under any licence other than CC BY-SA 4.0."),
                    _NO_CLAIM),
    },
    "CC-BY-NC-4.0": {
        "may": (N_("Share, copy and adapt it for non-commercial purposes: so may everyone else."), _PASSES_ON),
        "may_not": (N_("Use it commercially: selling it or things made from it, advertising, paid channels."),
                    _CREDIT, _NO_CLAIM),
    },
    "personal-use": {
        "may": (N_("Enjoy it privately, on any device, as often as you like."),
                N_("Show it as yours in wallets, virtual galleries and on personal pages that earn no money."),
                _PASSES_ON),
        "may_not": (N_("Use it commercially: no copies for sale, merchandise, advertising or paid channels."),
                    N_("Change it or make new works from it, or use it to train AI models."),
                    N_("Keep using it once you no longer hold the token."), _NO_CLAIM),
    },
    "commercial-use": {
        "may": (N_("Use it for any purpose, commercial ones included: products, merchandise, advertising, "
                   "publications, films, games."),
                N_("Adapt it and sell what you make from it, naming its creators."), _PASSES_ON),
        "may_not": (N_("Distort it in a way that harms its creators' honour or reputation."),
                    N_("Mint other tokens of it, register it as a trademark or license it to others."),
                    N_("Start new uses once you no longer hold the token."), _NO_CLAIM),
    },
}

# The consent a work's buyer gives before paying (payments.models.IMMEDIATE_SUPPLY_CONSENT, marked here for the
# catalogues; tests/web/test_buyer_rights.py checks the two are the same words). Shown translated, recorded as shown.
IMMEDIATE_SUPPLY_CONSENT = N_("I ask for the work to be supplied to me immediately, before the 14-day withdrawal "
                              "period ends, and I acknowledge that I thereby lose my right of withdrawal.")
