"""The collaboration network: who co-created with whom. No FastAPI.

Nodes: creators (their discipline: the most frequent one among their published works, ties by the order of
DISCIPLINES; without works, the first discipline of their profile), accounts that posted an awarded call without
being creators (`caller`), and organisations (their discipline: their members' most frequent one).
Edges (undirected, one per pair and kind, `weight` counting what joins them):
  co_created    every pair of accepted creators of a published (not draft) co-created work; weight: the works
  awarded_call  every pair of the accepted members of an awarded team proposal, and the call's poster with each
                member; weight: the calls
  member_of     a creator and an organisation they belong to; weight 1
Deleted accounts are left out, with their edges. Creators without a published work nor an edge are left out (a
dot alone says nothing about collaboration). Hubs: the HUBS nodes of highest degree (the weights of their edges,
summed), ties by label; a node without edges is never a hub.

Reads accounts, the catalog, the calls and the organisations; writes nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from sqlmodel import Session, col, select

from marketplace.accounts.models import Account, ProfileTag, Role
from marketplace.calls.models import Call, CallStatus, MemberStatus, TeamMember
from marketplace.catalog.models import CollaboratorStatus, Work, WorkCollaborator, WorkStatus
from marketplace.core.config import DISCIPLINES
from marketplace.network.layout import LayoutNode, layout
from marketplace.network.schemas import NetworkEdge, NetworkNode, NetworkPublic
from marketplace.organisations import service as organisations_service

HUBS = 10
AWARDED = (CallStatus.awarded.value, CallStatus.paid.value, CallStatus.delivered.value)
CREATOR_ROLES = (Role.creator.value, Role.admin.value)


@dataclass
class Graph:
    nodes: list[NetworkNode] = field(default_factory=list)
    edges: list[NetworkEdge] = field(default_factory=list)
    hubs: list[str] = field(default_factory=list)

    def public(self) -> NetworkPublic:
        return NetworkPublic(nodes=self.nodes, edges=self.edges, hubs=self.hubs)


def _most_frequent(counts: Counter) -> str | None:
    if not counts:
        return None
    order = {d: i for i, d in enumerate(DISCIPLINES)}
    return min(counts, key=lambda d: (-counts[d], order.get(d, len(order)), d))


def person_id(account_id: int) -> str:
    return f"a{account_id}"


def organisation_id(org_id: int) -> str:
    return f"o{org_id}"


def build_network(session: Session, *, hubs: int = HUBS) -> Graph:
    live = {a.id: a for a in session.exec(select(Account).where(col(Account.deleted_at).is_(None))).all()}
    weights: Counter = Counter()  # (kind, a, b) with a < b as node ids

    def link(kind: str, a: str, b: str, weight: int = 1) -> None:
        if a != b:
            weights[(kind, *sorted((a, b)))] += weight

    # published works: each creator's disciplines, and the pairs of co-creators
    disciplines: dict[int, Counter] = defaultdict(Counter)
    works = session.exec(select(Work.id, Work.creator_id, Work.discipline)
                         .where(Work.status != WorkStatus.draft.value)).all()
    discipline_of_work = {}
    for work_id, creator_id, discipline in works:
        discipline_of_work[work_id] = discipline
    crews: dict[int, list[int]] = defaultdict(list)
    for work_id, account_id in session.exec(
            select(WorkCollaborator.work_id, WorkCollaborator.account_id)
            .where(WorkCollaborator.status == CollaboratorStatus.accepted.value)
            .order_by(WorkCollaborator.work_id, WorkCollaborator.position)).all():
        if work_id in discipline_of_work and account_id in live:
            crews[work_id].append(account_id)
    for work_id, creator_id, discipline in works:
        for account_id in crews.get(work_id) or ([creator_id] if creator_id in live else []):
            disciplines[account_id][discipline] += 1
    for crew in crews.values():
        for a, b in combinations(sorted(set(crew)), 2):
            link("co_created", person_id(a), person_id(b))

    # awarded calls: the team pairwise, the poster with each member
    awarded = session.exec(select(Call.caller_id, Call.awarded_proposal_id).where(
        col(Call.status).in_(AWARDED), col(Call.awarded_proposal_id).is_not(None))).all()
    teams: dict[int, set[int]] = defaultdict(set)
    for proposal_id, account_id in session.exec(
            select(TeamMember.proposal_id, TeamMember.account_id).where(
                col(TeamMember.proposal_id).in_([p for _, p in awarded]),
                TeamMember.status == MemberStatus.accepted.value)).all():
        if account_id in live:
            teams[proposal_id].add(account_id)
    for caller_id, proposal_id in awarded:
        team = sorted(teams.get(proposal_id, ()))
        for a, b in combinations(team, 2):
            link("awarded_call", person_id(a), person_id(b))
        if caller_id in live:
            for m in team:
                link("awarded_call", person_id(caller_id), person_id(m))

    # organisations and their creator members
    organisations = organisations_service.all_organisations(session)
    org_disciplines: dict[int, Counter] = defaultdict(Counter)
    for org_id, account_id, _role in organisations_service.all_memberships(session):
        account = live.get(account_id)
        if account is None or account.role not in CREATOR_ROLES:
            continue
        link("member_of", person_id(account_id), organisation_id(org_id))
        org_disciplines[org_id].update(disciplines.get(account_id, Counter()))

    # the nodes: people with an edge or a published work, every organisation
    degree: Counter = Counter()
    for (_kind, a, b), w in weights.items():
        degree[a] += w
        degree[b] += w
    people = {int(n[1:]) for n in degree if n.startswith("a")} | {
        a for a in disciplines if live[a].role in CREATOR_ROLES}
    profile_discipline = _profile_disciplines(session, [a for a in people if not disciplines.get(a)])
    nodes: list[NetworkNode] = []
    for account_id in sorted(people):
        account = live[account_id]
        is_creator = account.role in CREATOR_ROLES
        node_id = person_id(account_id)
        nodes.append(NetworkNode(
            id=node_id, kind="creator" if is_creator else "caller", label=account.display_name,
            discipline=_most_frequent(disciplines.get(account_id, Counter())) or profile_discipline.get(account_id),
            href=f"/creators/{account_id}" if is_creator else None, degree=degree[node_id]))
    for org in organisations:
        node_id = organisation_id(org.id)
        nodes.append(NetworkNode(id=node_id, kind="organisation", label=org.name,
                                 discipline=_most_frequent(org_disciplines.get(org.id, Counter())),
                                 organisation_kind=org.kind, href=f"/organisations/{org.slug}",
                                 degree=degree[node_id]))
    edges = [NetworkEdge(source=a, target=b, kind=kind, weight=w)
             for (kind, a, b), w in sorted(weights.items(), key=lambda item: (item[0][0], _key(item[0][1]),
                                                                               _key(item[0][2])))]
    labels = {n.id: n.label for n in nodes}
    ranked = sorted((n for n in nodes if n.degree > 0), key=lambda n: (-n.degree, labels[n.id].lower(), n.id))
    return Graph(nodes=nodes, edges=edges, hubs=[n.id for n in ranked[:hubs]])


def _key(node_id: str) -> tuple[str, int]:
    return node_id[0], int(node_id[1:])


def _profile_disciplines(session: Session, account_ids: list[int]) -> dict[int, str]:
    if not account_ids:
        return {}
    found: dict[int, Counter] = defaultdict(Counter)
    for account_id, value in session.exec(select(ProfileTag.account_id, ProfileTag.value).where(
            col(ProfileTag.account_id).in_(account_ids), ProfileTag.kind == "discipline")).all():
        found[account_id][value] += 1
    return {a: _most_frequent(c) for a, c in found.items()}


# ------------------------------------------------------------------------------------------------ the drawing
EDGE_TABLE_LIMIT = 300  # the page's table of edges lists at most this many (the heaviest); the API has them all


@dataclass
class Drawing:
    """What the /network page draws: positions from layout.layout, the graph, its hubs, readability figures."""

    graph: Graph
    width: float
    height: float
    nodes: list[dict]  # {node, x, y, r, hub}
    edges: list[dict]  # {edge, x1, y1, x2, y2}
    hubs: list[NetworkNode]
    table_edges: list[NetworkEdge]
    overlaps: int
    min_gap: float


def drawing(session: Session, *, graph: Graph | None = None) -> Drawing:
    graph = graph or build_network(session)
    placed = layout([LayoutNode(n.id, n.discipline or "", n.degree) for n in graph.nodes],
                    [(e.source, e.target, e.weight) for e in graph.edges], groups_order=DISCIPLINES)
    hubs = set(graph.hubs)
    by_id = {n.id: n for n in graph.nodes}
    nodes = [{"node": n, "x": placed.x[n.id], "y": placed.y[n.id], "r": placed.r[n.id], "hub": n.id in hubs}
             for n in graph.nodes]
    nodes.sort(key=lambda d: (d["hub"], d["node"].degree))  # hubs drawn last, on top
    edges = [{"edge": e, "x1": placed.x[e.source], "y1": placed.y[e.source], "x2": placed.x[e.target],
              "y2": placed.y[e.target]} for e in graph.edges]
    heaviest = sorted(graph.edges, key=lambda e: (-e.weight, e.kind, _key(e.source), _key(e.target)))
    return Drawing(graph=graph, width=placed.width, height=placed.height, nodes=nodes, edges=edges,
                   hubs=[by_id[h] for h in graph.hubs], table_edges=heaviest[:EDGE_TABLE_LIMIT],
                   overlaps=placed.overlaps, min_gap=placed.min_gap)
