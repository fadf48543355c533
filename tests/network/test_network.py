"""The collaboration network: GET /api/network's nodes and edges for a known scene (a work of three creators, an
awarded call's team, an organisation's members), its hubs, deleted accounts left out, and the /network page's
drawing and tables (EN, FR, DE)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from marketplace.core.config import DISCIPLINES
from marketplace.network.layout import LayoutNode, layout
from tests.calls.conftest import CallsApi
from tests.conftest import Api
from tests.organisations.helpers import add_member, make_org, published_work


@dataclass
class Scene:
    anna: dict
    luc: dict
    sofia: dict
    dora: dict
    emil: dict
    festival: dict  # a buyer account that posted the awarded call
    org: dict


@pytest.fixture
def scene(api: Api) -> Scene:
    admin = api.register_admin()
    anna, luc, sofia, dora, emil = (api.register(role="creator", name=n) for n in (
        "Anna Schmit", "Luc Weber", "Sofia Reis", "Dora Thill", "Emil Kieffer"))
    festival = api.register(role="buyer", name="Moselle Festival")
    published_work(anna["id"], "music", crew=[luc["id"], sofia["id"]])  # three creators: three edges
    published_work(anna["id"], "music", crew=[luc["id"]])  # Anna and Luc again: weight 2
    published_work(anna["id"], "film")
    published_work(sofia["id"], "photography", crew=[dora["id"]], status="draft")  # a draft: no edge
    calls = CallsApi(api)
    call = calls.post_call(festival)
    proposal = calls.submitted(dora, call["id"], [(dora, 6000, "director"), (emil, 4000, "composer")])
    assert calls.award(festival, call["id"], proposal["id"]).status_code == 200
    org = make_org(api, admin, "Esch Sound Hub", "hub")
    for person in (anna, dora):
        assert add_member(api, admin, org["slug"], person["id"]).status_code == 201
    assert add_member(api, admin, org["slug"], festival["id"]).status_code == 201  # not a creator: no member_of
    return Scene(anna, luc, sofia, dora, emil, festival, org)


def _edges(body: dict) -> dict[tuple[str, frozenset], int]:
    return {(e["kind"], frozenset((e["source"], e["target"]))): e["weight"] for e in body["edges"]}


def a(user: dict) -> str:
    return f"a{user['id']}"


def test_the_network_of_a_known_scene(api, scene: Scene):
    r = api.client.get("/api/network")
    assert r.status_code == 200
    body = r.json()
    assert {"nodes", "edges"} <= set(body)
    assert all({"id", "kind", "label", "discipline"} <= set(n) for n in body["nodes"])
    assert all({"source", "target", "kind"} <= set(e) for e in body["edges"])
    org = f"o{scene.org['id']}"
    s = scene
    assert _edges(body) == {
        ("co_created", frozenset((a(s.anna), a(s.luc)))): 2,
        ("co_created", frozenset((a(s.anna), a(s.sofia)))): 1,
        ("co_created", frozenset((a(s.luc), a(s.sofia)))): 1,
        ("awarded_call", frozenset((a(s.dora), a(s.emil)))): 1,
        ("awarded_call", frozenset((a(s.festival), a(s.dora)))): 1,
        ("awarded_call", frozenset((a(s.festival), a(s.emil)))): 1,
        ("member_of", frozenset((a(s.anna), org))): 1,
        ("member_of", frozenset((a(s.dora), org))): 1,
    }
    nodes = {n["id"]: n for n in body["nodes"]}
    assert set(nodes) == {a(s.anna), a(s.luc), a(s.sofia), a(s.dora), a(s.emil), a(s.festival), org}
    assert nodes[a(s.anna)] | {} == {**nodes[a(s.anna)], "kind": "creator", "label": "Anna Schmit",
                                     "discipline": "music", "degree": 4}
    assert nodes[a(s.sofia)]["discipline"] == "music"  # her one published work; the draft does not count
    assert nodes[a(s.festival)]["kind"] == "caller"
    assert (nodes[org]["kind"], nodes[org]["organisation_kind"], nodes[org]["label"]) == (
        "organisation", "hub", "Esch Sound Hub")
    # hubs: by weighted degree, most connected first (Anna 4; Luc 3; Dora 3; ...), ties by name
    assert body["hubs"][:3] == [a(s.anna), a(s.dora), a(s.luc)]
    degrees = [nodes[h]["degree"] for h in body["hubs"]]
    assert degrees == sorted(degrees, reverse=True)
    assert max(n["degree"] for n in body["nodes"]) == nodes[body["hubs"][0]]["degree"]


def test_deleted_accounts_are_left_out(api, scene: Scene):
    s = scene
    assert api.client.request("DELETE", "/api/me", headers=s.luc["headers"],
                              json={"password": s.luc["password"]}).status_code == 204
    body = api.client.get("/api/network").json()
    assert a(s.luc) not in {n["id"] for n in body["nodes"]}
    assert all(a(s.luc) not in (e["source"], e["target"]) for e in body["edges"])
    assert _edges(body)[("co_created", frozenset((a(s.anna), a(s.sofia))))] == 1
    assert a(s.luc) not in body["hubs"]


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ("The collaboration network", "Hubs: the most connected", "Co-created works", "Awarded call")),
    ("fr", ("Le réseau des collaborations", "Les pôles : les plus connectés", "Œuvres cocréées", "Appel attribué")),
    ("de", ("Das Netz der Zusammenarbeit", "Knoten: die am besten vernetzten", "Gemeinsam geschaffene Werke",
            "Vergebener Aufruf")),
])
def test_the_network_page_draws_every_node_and_names_the_hubs(api, scene: Scene, lang, words):
    page = api.client.get("/network", headers={"Accept-Language": lang})
    assert page.status_code == 200
    html = page.text
    for word in words:
        assert word in html, word
    body = api.client.get("/api/network").json()
    svg = html[html.index("<svg"):html.index("</svg>")]
    drawn = re.findall(r'class="net-node[^"]*" data-id="([ao]\d+)"', svg)
    assert sorted(drawn) == sorted(n["id"] for n in body["nodes"])  # a node per node
    assert svg.count("<line ") == len(body["edges"])
    assert svg.count("<title>") == len(body["nodes"])  # each node's (the drawing's own has an id)
    assert "Anna Schmit" in svg and "<text" in svg  # the most connected is named on the drawing
    hub_rows = re.findall(r'<tr class="hub-row" data-id="([ao]\d+)"', html)
    assert hub_rows == body["hubs"]  # a row per hub, in order
    assert html.count('<tr class="edge-row">') == len(body["edges"])
    assert "<script" not in svg


def test_an_empty_network_has_a_page(api):
    page = api.client.get("/network")
    assert page.status_code == 200 and "Nobody has made anything together yet." in page.text
    assert api.client.get("/api/network").json() == {"nodes": [], "edges": [], "hubs": []}


def _synthetic(n: int, edges: int) -> tuple[list[LayoutNode], list[tuple[str, str, int]]]:
    """A deterministic graph: preferential-ish attachment, disciplines in turn."""
    pairs: set[tuple[int, int]] = set()
    x = 12345
    while len(pairs) < edges:
        x = (1103515245 * x + 12345) % 2**31
        i = x % n
        x = (1103515245 * x + 12345) % 2**31
        j = (x % n) if x % 3 else (x % max(1, n // 20))
        if i != j:
            pairs.add((min(i, j), max(i, j)))
    degree = [0] * n
    for i, j in pairs:
        degree[i] += 1
        degree[j] += 1
    nodes = [LayoutNode(f"a{i}", DISCIPLINES[i % len(DISCIPLINES)], degree[i]) for i in range(n)]
    return nodes, [(f"a{i}", f"a{j}", 1) for i, j in sorted(pairs)]


def test_the_layout_is_deterministic_and_leaves_no_overlap_at_a_thousand_creators():
    nodes, edges = _synthetic(1000, 3000)
    first = layout(nodes, edges, groups_order=DISCIPLINES)
    assert first.overlaps == 0 and first.min_gap > 0
    assert len(first.x) == 1000 and all(0 < first.x[k] < first.width and 0 < first.y[k] < first.height
                                        for k in first.x)
    from marketplace.network import layout as layout_module

    layout_module._cache.clear()
    again = layout(nodes, edges, groups_order=DISCIPLINES)
    assert (again.x, again.y) == (first.x, first.y)
