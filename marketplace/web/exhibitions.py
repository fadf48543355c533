"""Exhibitions on the web: the list (current ones first) and an exhibition's page (its text, dates, place and
works), and the admins' curation: "New exhibition" (/exhibitions/new), and an exhibition's curation page
(/exhibitions/{slug}/curate) where they change its details, find published works to add and take works out. Every
action is the same service call as its API route (marketplace/exhibitions/router.py)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.responses import Response

from marketplace.accounts.models import Account, Role
from marketplace.catalog import service as catalog_service
from marketplace.catalog.schemas import WorkFilters
from marketplace.core.deps import SessionDep, WorkId
from marketplace.core.exceptions import InvalidInput, MarketplaceError
from marketplace.core.limits import MAX_DB_ID, MAX_PAGE_SIZE, MAX_SEARCH_CHARS
from marketplace.exhibitions import service as exhibitions_service
from marketplace.exhibitions.models import MAX_SLUG_CHARS, EventKind, Exhibition
from marketplace.web.dependencies import CsrfForm, TranslatorDep, Viewer
from marketplace.web.forms import exhibition_form, text
from marketplace.web.i18n import Translator
from marketplace.web.templating import admin_or_refusal, redirect, render

router = APIRouter(include_in_schema=False)
FOUND_PAGE_SIZE = 24  # works offered to add, per search
EVENT_KINDS = [k.value for k in EventKind]


@router.get("/exhibitions", response_class=HTMLResponse)
def exhibitions_page(request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    exhibitions = exhibitions_service.exhibitions_public(
        session=session, exhibitions=exhibitions_service.list_exhibitions(session=session))
    return render(request, "exhibitions.html", {
        "current": [e for e in exhibitions if e.is_current],
        "upcoming": [e for e in exhibitions if not e.is_current and e.starts_on > exhibitions_service.today()],
        "past": [e for e in exhibitions if not e.is_current and e.ends_on < exhibitions_service.today()],
        "curator": viewer is not None and viewer.role == Role.admin,
    }, account=viewer)


# ------------------------------------------------------------------------------------------------ curation (admins)
def _exhibition_or_404(session, slug: str) -> Exhibition:
    exhibition = (exhibitions_service.get_exhibition(session=session, slug=slug)
                  if len(slug) <= MAX_SLUG_CHARS else None)
    if exhibition is None:
        raise HTTPException(404)
    return exhibition


def _new_form(request: Request, viewer: Account, *, values: dict, errors: dict,
              status_code: int = 200) -> HTMLResponse:
    return render(request, "exhibition_form.html", {
        "values": values, "errors": errors, "event_kinds": EVENT_KINDS, "action": "/exhibitions", "new": True,
    }, account=viewer, status_code=status_code)


@router.get("/exhibitions/new", response_class=HTMLResponse)
def new_exhibition_page(request: Request, viewer: Viewer) -> Response:
    if (refusal := admin_or_refusal(request, viewer, "/exhibitions/new")) is not None:
        return refusal
    today = exhibitions_service.today().isoformat()
    return _new_form(request, viewer, values={"starts_on": today, "ends_on": today, "event_kind": "other"},
                     errors={})


@router.post("/exhibitions", response_class=HTMLResponse)
def create_exhibition(request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
                      t: TranslatorDep) -> Response:
    """The "New exhibition" form: exhibitions_service.create_exhibition, as POST /api/exhibitions; then its
    curation page, to choose the works."""
    if (refusal := admin_or_refusal(request, viewer, "/exhibitions/new")) is not None:
        return refusal
    exhibition_in, errors = exhibition_form(form, t, new=True)
    if exhibition_in is None:
        return _new_form(request, viewer, values=dict(form), errors=errors, status_code=422)
    try:
        exhibition = exhibitions_service.create_exhibition(session=session, admin=viewer,
                                                           exhibition_in=exhibition_in)
    except MarketplaceError as exc:
        session.rollback()
        errors = ({"slug": t.gettext("Another exhibition has this address: choose another.")}
                  if exc.status_code == 409 else
                  {"form": t.gettext("This could not be done: %(error)s", error=exc.message)})
        return _new_form(request, viewer, values=dict(form), errors=errors,
                         status_code=exc.status_code if exc.status_code < 500 else 503)
    return redirect(request, f"/exhibitions/{exhibition.slug}/curate")


def _found(session, q: str, shown_ids: set[int]) -> list:
    """Published works matching the curator's search (the gallery's: title, description, creator), newest first,
    those shown already left out; the newest ones when nothing is typed."""
    try:
        filters = WorkFilters(q=q[:MAX_SEARCH_CHARS] or None,
                              page_size=min(MAX_PAGE_SIZE, FOUND_PAGE_SIZE + len(shown_ids)))
    except ValidationError:  # a character a search may not hold: nothing found
        return []
    rows, _ = catalog_service.list_works(session=session, filters=filters, viewer=None)
    return [(w, c) for w, c in rows if w.id not in shown_ids][:FOUND_PAGE_SIZE]


def _curate(request: Request, session, viewer: Account, exhibition: Exhibition, t: Translator, *,
            errors: dict | None = None, values: dict | None = None, status_code: int = 200) -> HTMLResponse:
    q = (request.query_params.get("q") or "").strip()
    works = exhibitions_service.shown_works(session=session, exhibition=exhibition)
    public = exhibitions_service.exhibitions_public(session=session, exhibitions=[exhibition])[0]
    return render(request, "exhibition_curate.html", {
        "exhibition": public, "works": works, "q": q, "found": _found(session, q, {w.id for w, _ in works}),
        "values": values or {**public.model_dump(mode="json")}, "errors": errors or {},
        "event_kinds": EVENT_KINDS, "action": f"/exhibitions/{exhibition.slug}/edit", "new": False,
    }, account=viewer, status_code=status_code)


@router.get("/exhibitions/{slug}/curate", response_class=HTMLResponse)
def curate_page(slug: str, request: Request, session: SessionDep, viewer: Viewer, t: TranslatorDep) -> Response:
    if (refusal := admin_or_refusal(request, viewer, f"/exhibitions/{slug[:MAX_SLUG_CHARS]}/curate")) is not None:
        return refusal
    return _curate(request, session, viewer, _exhibition_or_404(session, slug), t)


@router.post("/exhibitions/{slug}/edit", response_class=HTMLResponse)
def edit_exhibition(slug: str, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
                    t: TranslatorDep) -> Response:
    """The curation page's details form: exhibitions_service.update_exhibition, as PATCH /api/exhibitions/{slug}."""
    if (refusal := admin_or_refusal(request, viewer, f"/exhibitions/{slug[:MAX_SLUG_CHARS]}/curate")) is not None:
        return refusal
    exhibition = _exhibition_or_404(session, slug)
    exhibition_in, errors = exhibition_form(form, t, new=False)
    if exhibition_in is None:
        return _curate(request, session, viewer, exhibition, t, errors=errors, values=dict(form), status_code=422)
    exhibitions_service.update_exhibition(session=session, exhibition=exhibition, exhibition_in=exhibition_in)
    return redirect(request, f"/exhibitions/{exhibition.slug}/curate")


def _work_change(request: Request, session, viewer: Account | None, slug: str, t: Translator, change) -> Response:
    if (refusal := admin_or_refusal(request, viewer, f"/exhibitions/{slug[:MAX_SLUG_CHARS]}/curate")) is not None:
        return refusal
    exhibition = _exhibition_or_404(session, slug)
    try:
        change(exhibition)
    except MarketplaceError as exc:
        session.rollback()
        return _curate(request, session, viewer, exhibition, t, status_code=exc.status_code
                       if exc.status_code < 500 else 503,
                       errors={"works": t.gettext("This could not be done: %(error)s", error=exc.message)})
    return redirect(request, f"/exhibitions/{exhibition.slug}/curate")


@router.post("/exhibitions/{slug}/works", response_class=HTMLResponse)
def add_work(slug: str, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
             t: TranslatorDep) -> Response:
    """"Add" beside a found work: exhibitions_service.add_work, as POST /api/exhibitions/{slug}/works."""
    raw = text(form, "work_id")
    work_id = int(raw) if raw.isdigit() and len(raw) < 20 and 0 < int(raw) <= MAX_DB_ID else None

    def change(exhibition):
        if work_id is None:
            raise InvalidInput("Choose a work to add", loc=("body", "work_id"))
        exhibitions_service.add_work(session=session, exhibition=exhibition, work_id=work_id)
    return _work_change(request, session, viewer, slug, t, change)


@router.post("/exhibitions/{slug}/works/{work_id}/remove", response_class=HTMLResponse)
def remove_work(slug: str, work_id: WorkId, request: Request, form: CsrfForm, session: SessionDep, viewer: Viewer,
                t: TranslatorDep) -> Response:
    """"Take out" beside a shown work: exhibitions_service.remove_work, as DELETE
    /api/exhibitions/{slug}/works/{work_id}."""
    return _work_change(request, session, viewer, slug, t, lambda exhibition: exhibitions_service.remove_work(
        session=session, exhibition=exhibition, work_id=work_id))


# ------------------------------------------------------------------------------------------------ the public pages
@router.get("/exhibitions/{slug}", response_class=HTMLResponse)
def exhibition_page(slug: str, request: Request, session: SessionDep, viewer: Viewer) -> HTMLResponse:
    exhibition = _exhibition_or_404(session, slug)
    return render(request, "exhibition.html", {
        "exhibition": exhibitions_service.exhibitions_public(session=session, exhibitions=[exhibition])[0],
        "works": exhibitions_service.shown_works(session=session, exhibition=exhibition),
        "curator": viewer is not None and viewer.role == Role.admin,
    }, account=viewer)


def now_showing(session) -> list:
    """The current exhibitions, for the gallery's "Now showing" strip."""
    return exhibitions_service.exhibitions_public(
        session=session, exhibitions=exhibitions_service.list_exhibitions(session=session, current=True))
