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
