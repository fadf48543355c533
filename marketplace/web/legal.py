"""What the law asks a Luxembourg marketplace to publish: the terms of sale (with the withdrawal right and the
consent to immediate supply the work page asks for), the privacy notice and the imprint. Public pages, in the
reader's language; the operator's details come from the settings (OPERATOR_*: placeholders until set)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from marketplace.core.config import Settings
from marketplace.web.dependencies import Viewer
from marketplace.web.labels import IMMEDIATE_SUPPLY_CONSENT
from marketplace.web.templating import render, settings_of

router = APIRouter(include_in_schema=False)


def _context(request: Request) -> dict:
    settings = settings_of(request)
    return {"consent_text": IMMEDIATE_SUPPLY_CONSENT, "placeholder": _placeholder(settings),
            "fee": f"{settings.platform_fee_bps / 100:g}", "vat": f"{settings.vat_rate_bps / 100:g}"}


def _placeholder(settings: Settings) -> bool:
    """Are the operator's details still the defaults (the pages then say so in a marked block)?"""
    defaults = Settings.model_fields
    return any(getattr(settings, name) == defaults[name].default
               for name in ("operator_name", "operator_address", "operator_rcs", "operator_vat_id"))


@router.get("/terms", response_class=HTMLResponse)
def terms(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(request, "legal/terms.html", _context(request), account=viewer)


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(request, "legal/privacy.html", _context(request), account=viewer)


@router.get("/imprint", response_class=HTMLResponse)
def imprint(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(request, "legal/imprint.html", _context(request), account=viewer)
