"""Exhibitions on the web: the list (current ones first) and an exhibition's page (its text, dates, place and
works). Curating is the admins' API (POST /api/exhibitions ...)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from marketplace.core.deps import SessionDep
from marketplace.exhibitions import service as exhibitions_service
from marketplace.exhibitions.models import MAX_SLUG_CHARS
from marketplace.web.dependencies import Viewer
from marketplace.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/exhibitions", response_class=HTMLResponse)
def exhibitions_page(request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    exhibitions = exhibitions_service.exhibitions_public(
        session=session, exhibitions=exhibitions_service.list_exhibitions(session=session))
    return render(request, "exhibitions.html", {
        "current": [e for e in exhibitions if e.is_current],
        "upcoming": [e for e in exhibitions if not e.is_current and e.starts_on > exhibitions_service.today()],
        "past": [e for e in exhibitions if not e.is_current and e.ends_on < exhibitions_service.today()],
    }, account=viewer)


@router.get("/exhibitions/{slug}", response_class=HTMLResponse)
def exhibition_page(slug: str, request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    exhibition = (exhibitions_service.get_exhibition(session=session, slug=slug)
                  if len(slug) <= MAX_SLUG_CHARS else None)
    if exhibition is None:
        raise HTTPException(404)
    return render(request, "exhibition.html", {
        "exhibition": exhibitions_service.exhibitions_public(session=session, exhibitions=[exhibition])[0],
        "works": exhibitions_service.shown_works(session=session, exhibition=exhibition),
    }, account=viewer)


def now_showing(session) -> list:
    """The current exhibitions, for the gallery's "Now showing" strip."""
    return exhibitions_service.exhibitions_public(
        session=session, exhibitions=exhibitions_service.list_exhibitions(session=session, current=True))
