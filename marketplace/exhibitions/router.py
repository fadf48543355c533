"""The exhibitions' API: public list and pages; admins create, edit and choose the works."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from marketplace.accounts.dependencies import CurrentAdmin
from marketplace.core.api_errors import errors
from marketplace.core.deps import SessionDep, WorkId
from marketplace.exhibitions import service as exhibitions_service
from marketplace.exhibitions.models import MAX_SLUG_CHARS, ExhibitionDetail, ExhibitionsPublic
from marketplace.exhibitions.schemas import ExhibitionCreate, ExhibitionUpdate, ExhibitionWorkIn

router = APIRouter(prefix="/api/exhibitions", tags=["exhibitions"])
Slug = Annotated[str, Path(min_length=1, max_length=MAX_SLUG_CHARS, pattern=r"^[a-z0-9-]+$",
                           description="the exhibition's slug")]


@router.get("", response_model=ExhibitionsPublic, responses=errors(422, 503))
def list_exhibitions(session: SessionDep, current: bool | None = None) -> ExhibitionsPublic:
    """Exhibitions, the latest start first, each with its work count. `current=true`: those on today (UTC)
    between their dates (inclusive); `current=false`: the others. Public."""
    exhibitions = exhibitions_service.list_exhibitions(session=session, current=current)
    return ExhibitionsPublic(data=exhibitions_service.exhibitions_public(session=session, exhibitions=exhibitions),
                             count=len(exhibitions))


@router.get("/{slug}", response_model=ExhibitionDetail, responses=errors(404, 422, 503))
def get_exhibition(slug: Slug, session: SessionDep) -> ExhibitionDetail:
    """An exhibition with its works (hidden works left out). Public."""
    exhibition = exhibitions_service.get_exhibition_or_raise(session=session, slug=slug)
    return exhibitions_service.exhibition_detail(session=session, exhibition=exhibition)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ExhibitionDetail,
             responses=errors(401, 403, 408, 409, 422, 503))
def create_exhibition(exhibition_in: ExhibitionCreate, session: SessionDep, admin: CurrentAdmin) -> ExhibitionDetail:
    """A new exhibition (admins): 409 when the slug is taken; 422 when it ends before it starts."""
    exhibition = exhibitions_service.create_exhibition(session=session, admin=admin, exhibition_in=exhibition_in)
    return exhibitions_service.exhibition_detail(session=session, exhibition=exhibition)


def _update(slug: str, exhibition_in: ExhibitionUpdate, session) -> ExhibitionDetail:
    exhibition = exhibitions_service.get_exhibition_or_raise(session=session, slug=slug)
    exhibition = exhibitions_service.update_exhibition(session=session, exhibition=exhibition,
                                                       exhibition_in=exhibition_in)
    return exhibitions_service.exhibition_detail(session=session, exhibition=exhibition)


@router.put("/{slug}", response_model=ExhibitionDetail, responses=errors(401, 403, 404, 408, 422, 503))
def put_exhibition(slug: Slug, exhibition_in: ExhibitionUpdate, session: SessionDep,
                   admin: CurrentAdmin) -> ExhibitionDetail:
    """Change an exhibition (admins): the fields given (the slug stays)."""
    return _update(slug, exhibition_in, session)


@router.patch("/{slug}", response_model=ExhibitionDetail, responses=errors(401, 403, 404, 408, 422, 503))
def patch_exhibition(slug: Slug, exhibition_in: ExhibitionUpdate, session: SessionDep,
                     admin: CurrentAdmin) -> ExhibitionDetail:
    """Change an exhibition (admins): the fields given."""
    return _update(slug, exhibition_in, session)


@router.post("/{slug}/works", status_code=status.HTTP_201_CREATED, response_model=ExhibitionDetail,
             responses=errors(401, 403, 404, 408, 409, 422, 503))
def add_work(slug: Slug, work_in: ExhibitionWorkIn, session: SessionDep, admin: CurrentAdmin) -> ExhibitionDetail:
    """Show a published work in the exhibition, after the others (admins). 409: a draft, a hidden work, or shown
    already."""
    exhibition = exhibitions_service.get_exhibition_or_raise(session=session, slug=slug)
    exhibitions_service.add_work(session=session, exhibition=exhibition, work_id=work_in.work_id)
    return exhibitions_service.exhibition_detail(session=session, exhibition=exhibition)


@router.delete("/{slug}/works/{work_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(401, 403, 404, 422, 503))
def remove_work(slug: Slug, work_id: WorkId, session: SessionDep, admin: CurrentAdmin) -> Response:
    """Take a work out of the exhibition (admins); 404 when it is not in it."""
    exhibition = exhibitions_service.get_exhibition_or_raise(session=session, slug=slug)
    exhibitions_service.remove_work(session=session, exhibition=exhibition, work_id=work_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
