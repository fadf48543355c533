"""Organisations and the collaboration network on the web: the list of organisations, an organisation's page (its
members, their works, their calls) and /network, the drawing of who co-created with whom (server-side SVG, with
tables of its hubs and edges). Read-only pages: organisations are made and joined through the API."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from marketplace.core.deps import SessionDep
from marketplace.core.text import clean_line
from marketplace.network import service as network_service
from marketplace.organisations import service as organisations_service
from marketplace.organisations.models import OrganisationKind
from marketplace.web.dependencies import Viewer
from marketplace.web.network_svg import render_svg
from marketplace.web.templating import render, translator

router = APIRouter(include_in_schema=False)
KINDS = tuple(k.value for k in OrganisationKind)


@router.get("/organisations", response_class=HTMLResponse)
def organisations_page(request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    q = request.query_params
    kind = q.get("kind") if q.get("kind") in KINDS else None
    text = (q.get("q") or "").strip()[:200]
    try:
        text = clean_line(text)
    except ValueError:  # control characters: ignored, as any other filter that does not parse
        text = ""
    organisations = organisations_service.list_organisations(session, kind=kind, q=text or None)
    return render(request, "organisations.html", {"organisations": organisations, "kind": kind or "", "q": text,
                                                  "kinds": KINDS}, account=viewer)


@router.get("/organisations/{slug}", response_class=HTMLResponse)
def organisation_page(slug: str, request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    organisation = organisations_service.get_by_slug(session, slug=slug[:200])
    if organisation is None:
        raise HTTPException(404)
    members = organisations_service.members_of(session, organisation)
    ids = [a.id for _, a in members]
    return render(request, "organisation.html", {
        "organisation": organisation, "members": members,
        "works": organisations_service.works_of_members(session, ids),
        "calls": organisations_service.calls_of_members(session, ids),
        "may_manage": organisations_service.may_manage(session, organisation=organisation, account=viewer),
    }, account=viewer)


@router.get("/network", response_class=HTMLResponse)
def network_page(request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    drawing = network_service.drawing(session)
    labels = {n.id: n.label for n in drawing.graph.nodes}
    # drawn at its own size in CSS pixels (a small network twice as big, up to 640 px), never wider than the page;
    # labels 12 px at that size
    scale = max(1.0, min(2.0, 640 / drawing.width)) if drawing.width else 1.0
    svg = render_svg(drawing, translator(request), display_width=round(drawing.width * scale),
                     display_height=round(drawing.height * scale), label_size=round(12 / scale, 1))
    return render(request, "network.html", {"drawing": drawing, "labels": labels, "svg": Markup(svg),
                                            "edge_count": len(drawing.graph.edges)}, account=viewer)
