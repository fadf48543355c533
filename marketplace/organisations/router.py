"""The organisations' API: list and read them (public), create one (admins), add and remove members (admins of the
site or of the organisation)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from marketplace.accounts.dependencies import CurrentAccount
from marketplace.core.api_errors import errors
from marketplace.core.deps import AccountId, SessionDep
from marketplace.core.text import OptionalLine
from marketplace.organisations import service as organisations_service
from marketplace.organisations.models import MAX_SLUG_CHARS, OrganisationKind
from marketplace.organisations.schemas import (
    MemberIn,
    MemberPublic,
    OrganisationCreate,
    OrganisationPublic,
    OrganisationsPublic,
)

router = APIRouter(prefix="/api/organisations", tags=["organisations"])
Slug = Annotated[str, Path(min_length=1, max_length=MAX_SLUG_CHARS, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                           description="the organisation's address")]


@router.get("", response_model=OrganisationsPublic, responses=errors(422, 503))
def list_organisations(session: SessionDep, kind: OrganisationKind | None = None,
                       q: Annotated[OptionalLine, Query(max_length=200, description="in the name, city or description")]
                       = None) -> OrganisationsPublic:
    """Every organisation (studios, hubs, schools, the cluster, companies, associations) with its member count;
    `kind` and `q` (in the name, city or description) narrow it."""
    data = organisations_service.list_organisations(session, kind=kind.value if kind else None, q=q)
    return OrganisationsPublic(data=data, count=len(data))


@router.get("/{slug}", response_model=OrganisationPublic, responses=errors(404, 422, 503))
def get_organisation(slug: Slug, session: SessionDep) -> OrganisationPublic:
    """An organisation, its members, the published works of its members and the calls its members posted."""
    organisation = organisations_service.get_or_raise(session, slug=slug)
    return organisations_service.organisation_public(session, organisation)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrganisationPublic,
             responses=errors(401, 403, 408, 409, 422, 503))
def create_organisation(body: OrganisationCreate, session: SessionDep, account: CurrentAccount) -> OrganisationPublic:
    """Create an organisation (admins only)."""
    organisations_service.require_site_admin(account)
    organisation = organisations_service.create_organisation(session, **body.model_dump())
    return organisations_service.organisation_public(session, organisation)


@router.post("/{slug}/members", status_code=status.HTTP_201_CREATED, response_model=MemberPublic,
             responses=errors(401, 403, 404, 408, 422, 503))
def add_member(slug: Slug, body: MemberIn, session: SessionDep, account: CurrentAccount) -> MemberPublic:
    """Add an account to the organisation as a `member` or an `admin` (or change its role): a site admin or an
    admin of the organisation."""
    organisation = organisations_service.get_or_raise(session, slug=slug)
    organisations_service.require_manager(session, organisation=organisation, account=account)
    member = organisations_service.add_member(session, organisation=organisation, account_id=body.account_id,
                                              role=body.role)
    return organisations_service.member_public(session, member)


@router.delete("/{slug}/members/{account_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(401, 403, 404, 422, 503))
def remove_member(slug: Slug, account_id: AccountId, session: SessionDep, account: CurrentAccount) -> Response:
    """Remove a member: a site admin or an admin of the organisation; or a member leaving."""
    organisation = organisations_service.get_or_raise(session, slug=slug)
    if account_id != account.id:
        organisations_service.require_manager(session, organisation=organisation, account=account)
    organisations_service.remove_member(session, organisation=organisation, account_id=account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
