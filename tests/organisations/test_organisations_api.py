"""The organisations' API: create (admins only), list ({data, count}, by kind and text), read (members, works of the
members, calls of the members), add and remove members (site admins and the organisation's admins)."""

from __future__ import annotations

from sqlmodel import Session, select

from marketplace.core import db
from marketplace.organisations import service as organisations_service
from marketplace.organisations.models import Organisation, OrganisationMember
from tests.calls.conftest import CallsApi
from tests.organisations.helpers import add_member, make_org, published_work


def test_an_admin_creates_organisations_anyone_lists_them(api):
    admin = api.register_admin()
    hub = make_org(api, admin, "Design Hub Esch", "hub", city="Esch-sur-Alzette", website="https://hub.example.lu",
                   description="Desks and a print shop.")
    assert hub["slug"] == "design-hub-esch" and hub["kind"] == "hub" and hub["member_count"] == 0
    assert hub["members"] == [] and hub["works"] == [] and hub["calls"] == []
    make_org(api, admin, "École d'Art", "school", slug="ecole-art")
    r = api.client.get("/api/organisations")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"data", "count"} and body["count"] == 2
    assert [o["name"] for o in body["data"]] == ["Design Hub Esch", "École d'Art"]
    assert {tuple(sorted(o)) for o in body["data"]} == {tuple(sorted(
        ["id", "slug", "name", "kind", "description", "city", "website", "member_count", "created_at"]))}
    assert [o["slug"] for o in api.client.get("/api/organisations?kind=school").json()["data"]] == ["ecole-art"]
    assert [o["slug"] for o in api.client.get("/api/organisations?q=esch").json()["data"]] == ["design-hub-esch"]
    assert api.client.get("/api/organisations?kind=castle").status_code == 422
    assert api.client.get("/api/organisations", params={"q": "es\x00ch"}).status_code == 422
    page = api.client.get("/organisations", params={"q": "es\x00ch"}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Design Hub Esch" in page.text  # the filter ignored
    assert api.client.get("/api/organisations/design-hub-esch").json()["city"] == "Esch-sur-Alzette"
    assert api.client.get("/api/organisations/no-such-place").status_code == 404


def test_only_admins_create_and_bad_input_changes_nothing(api):
    admin, creator = api.register_admin(), api.register(role="creator")
    body = {"name": "Studio Nord", "kind": "studio"}
    assert api.client.post("/api/organisations", json=body).status_code == 401
    r = api.client.post("/api/organisations", headers=creator["headers"], json=body)
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert api.client.get("/api/organisations").json()["count"] == 0
    make_org(api, admin, "Studio Nord")
    again = api.client.post("/api/organisations", headers=admin["headers"], json=body)
    assert again.status_code == 409 and "studio-nord" in again.json()["detail"]
    for bad in ({"name": "X", "kind": "castle"}, {"name": " ", "kind": "hub"},
                {"name": "Y", "kind": "hub", "website": "javascript:alert(1)"},
                {"name": "Z", "kind": "hub", "slug": "Not A Slug"}):
        assert api.client.post("/api/organisations", headers=admin["headers"], json=bad).status_code == 422, bad
    assert api.client.get("/api/organisations").json()["count"] == 1


def test_members_are_added_and_removed_by_admins_of_the_site_or_the_organisation(api):
    admin = api.register_admin()
    boss, maker, other = (api.register(role="creator", name=n) for n in ("Boss Weber", "Maker Reis", "Other Klein"))
    org = make_org(api, admin, "Kiosk Collective", "association")
    slug = org["slug"]
    # only the site's admins, then also the organisation's admins
    assert add_member(api, boss, slug, boss["id"], "admin").status_code == 403
    r = add_member(api, admin, slug, boss["id"], "admin")
    assert r.status_code == 201 and r.json()["role"] == "admin" and r.json()["display_name"] == "Boss Weber"
    assert add_member(api, boss, slug, maker["id"]).status_code == 201
    assert add_member(api, maker, slug, other["id"]).status_code == 403  # a plain member cannot
    assert add_member(api, boss, slug, 999_999).status_code == 404
    assert api.client.post(f"/api/organisations/{slug}/members", json={"account_id": other["id"]}).status_code == 401
    members = api.client.get(f"/api/organisations/{slug}").json()["members"]
    assert [(m["display_name"], m["role"]) for m in members] == [("Boss Weber", "admin"), ("Maker Reis", "member")]
    assert api.client.get("/api/organisations").json()["data"][0]["member_count"] == 2
    # adding again changes the role, never a second row
    assert add_member(api, boss, slug, maker["id"], "admin").json()["role"] == "admin"
    with Session(db.get_engine()) as session:
        assert len(session.exec(select(OrganisationMember).where(
            OrganisationMember.account_id == maker["id"])).all()) == 1
    # removing
    assert api.client.delete(f"/api/organisations/{slug}/members/{maker['id']}",
                             headers=other["headers"]).status_code == 403
    assert api.client.delete(f"/api/organisations/{slug}/members/{maker['id']}",
                             headers=boss["headers"]).status_code == 204
    assert api.client.delete(f"/api/organisations/{slug}/members/{maker['id']}",
                             headers=boss["headers"]).status_code == 404
    assert api.client.delete(f"/api/organisations/nowhere/members/{maker['id']}",
                             headers=admin["headers"]).status_code == 404
    assert [m["account_id"] for m in api.client.get(f"/api/organisations/{slug}").json()["members"]] == [boss["id"]]
    # a member may leave on their own
    assert add_member(api, boss, slug, other["id"]).status_code == 201
    assert api.client.delete(f"/api/organisations/{slug}/members/{other['id']}",
                             headers=other["headers"]).status_code == 204
    assert [m["account_id"] for m in api.client.get(f"/api/organisations/{slug}").json()["members"]] == [boss["id"]]


def test_an_organisation_shows_its_members_works_and_calls(api):
    admin = api.register_admin()
    anna, luc, outsider = (api.register(role="creator", name=n) for n in ("Anna Schmit", "Luc Weber", "Out Sider"))
    buyer = api.register(role="buyer", name="Moselle Festival")
    org = make_org(api, admin, "Moselle Studio")
    for person in (anna, luc, buyer):
        assert add_member(api, admin, org["slug"], person["id"]).status_code == 201
    own = published_work(anna["id"], "film", title="Anna's film")
    together = published_work(outsider["id"], "music", crew=[luc["id"]], title="Outsider with Luc")
    published_work(anna["id"], "film", status="draft", title="Anna's draft")
    published_work(outsider["id"], "music", title="Outsider alone")
    call = CallsApi(api).post_call(buyer)
    body = api.client.get(f"/api/organisations/{org['slug']}").json()
    assert body["member_count"] == 3
    assert {w["id"] for w in body["works"]} == {own, together}
    assert [(c["id"], c["caller_name"]) for c in body["calls"]] == [(call["id"], "Moselle Festival")]
    # a member who deletes their account leaves the organisation
    assert api.client.request("DELETE", "/api/me", headers=luc["headers"],
                              json={"password": luc["password"]}).status_code == 204
    body = api.client.get(f"/api/organisations/{org['slug']}").json()
    assert luc["id"] not in [m["account_id"] for m in body["members"]] and body["member_count"] == 2
    assert together not in {w["id"] for w in body["works"]}
    with Session(db.get_engine()) as session:
        assert session.exec(select(OrganisationMember).where(OrganisationMember.account_id == luc["id"])).all() == []


def test_the_service_functions_a_seed_calls(api):
    creator = api.register(role="creator")
    with Session(db.get_engine()) as session:
        org = organisations_service.create_organisation(session, name="Luxembourg Creative Cluster", kind="cluster",
                                                        city="Luxembourg")
        member = organisations_service.add_member(session, organisation=org, account_id=creator["id"], role="admin")
        assert (org.slug, member.role) == ("luxembourg-creative-cluster", "admin")
        assert [o.name for o in organisations_service.organisations_of(session, account_id=creator["id"])] == [
            "Luxembourg Creative Cluster"]
        assert session.exec(select(Organisation)).one().kind == "cluster"
