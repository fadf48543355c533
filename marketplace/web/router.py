"""Server-rendered pages (Jinja2 templates in frontend/templates). The full site comes with the web issue."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from marketplace.catalog.models import Work
from marketplace.db import SessionDep
from marketplace.payments.models import Purchase

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[2] / "frontend" / "templates")

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def landing(request: Request) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "index.html", {})


@router.get("/purchases/{purchase_id}", response_class=HTMLResponse)
def purchase_return(request: Request, purchase_id: int, session: SessionDep, cancelled: int = 0) -> HTMLResponse:
    """Where Stripe Checkout returns the buyer. Shows only the status (no personal data); refreshes until final."""
    purchase = session.get(Purchase, purchase_id)
    work = session.get(Work, purchase.work_id) if purchase else None
    return TEMPLATES.TemplateResponse(request, "purchase.html", {
        "purchase": purchase, "work": work, "cancelled": bool(cancelled),
        "final": purchase is not None and purchase.status in ("delivered", "refunded", "failed", "expired"),
    }, status_code=200 if purchase else 404)
