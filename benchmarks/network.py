"""The collaboration network at 1,000 creators: GET /api/network and the /network page (`marketplace serve`),
against GET /api/health of the same server in the same run; and the drawing's readability.

The database (SQLite) is seeded straight through the ORM: 1,000 creators in nine disciplines, co-created works of
two or three creators (partners mostly of the same discipline, a few very connected creators), 60 awarded calls
with teams of three, 20 organisations of 25 creators each: ~3,000 edges in all. A small network (12 creators, the
size of a freshly seeded demo with a few collaborations) is measured the same way.

Figures: the median of REPEATS requests after one cold request (the first /network computes the layout; later
ones read it from the in-process cache while the graph is unchanged: both are reported), the SVG's and the
page's bytes, and readability: overlapping discs (pairs closer than their radii) and the smallest gap between two
discs, in SVG units (a disc is 8 to 32 units wide; the hubs' labels are 12 px at the drawing's own size).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import Session

from benchmarks.common import BenchStack, Figure, stop_proc
from benchmarks.upload_memory import _SETTING_NAMES, _start_server
from devtools.procs import pick_free_port
from marketplace.accounts.models import Account
from marketplace.calls.models import Call, Proposal, TeamMember
from marketplace.catalog.models import Work, WorkCollaborator
from marketplace.core.config import DISCIPLINES
from marketplace.core.db import make_engine
from marketplace.core.migrate import upgrade
from marketplace.network import service as network_service
from marketplace.network.layout import GAP
from marketplace.organisations.models import Organisation, OrganisationMember

SECTION = "network"
REPEATS = 10


def seed(url: str, *, creators: int, co_created_pairs: int, calls: int, organisations: int, per_org: int,
         rng: random.Random) -> dict:
    """The synthetic sector; returns what was made."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        with Session(engine) as session:
            people = [Account(email=f"c{i}@net.bench", display_name=f"Creator {i:04d}", role="creator",
                              password_hash="!", created_at=now) for i in range(creators)]
            callers = [Account(email=f"caller{i}@net.bench", display_name=f"Caller {i}", role="buyer",
                               password_hash="!", created_at=now) for i in range(max(1, calls // 6))]
            session.add_all(people + callers)
            session.flush()
            ids = [p.id for p in people]
            by_discipline = {d: [i for k, i in enumerate(ids) if k % len(DISCIPLINES) == n]
                             for n, d in enumerate(DISCIPLINES)}
            stars = set(rng.sample(ids, max(1, creators // 50)))  # a few very connected creators
            pairs: set[tuple[int, int]] = set()
            n_work = 0
            while len(pairs) < co_created_pairs:
                discipline = rng.choice(DISCIPLINES)
                pool = by_discipline[discipline] if rng.random() < 0.85 else ids
                crew = {rng.choice(list(stars)) if rng.random() < 0.15 else rng.choice(pool)
                        for _ in range(rng.choice((2, 2, 3)))}
                if len(crew) < 2:
                    continue
                crew_list = sorted(crew)
                n_work += 1
                work = Work(title=f"Together {n_work}", discipline=discipline, license="CC0-1.0", price_cents=1000,
                            creator_id=crew_list[0], status="minted", media_cid=f"bafkreinet{n_work:030d}",
                            media_mime="image/png", media_kind="image", media_size=1, media_sha256=f"{n_work:064x}",
                            created_at=now)
                session.add(work)
                session.flush()
                share = 10_000 // len(crew_list)
                session.add_all(WorkCollaborator(work_id=work.id, account_id=a, position=k, role="maker",
                                                 share_bps=share + (10_000 - share * len(crew_list) if k == 0 else 0),
                                                 status="accepted") for k, a in enumerate(crew_list))
                pairs.update((a, b) for a in crew_list for b in crew_list if a < b)
            for c in range(calls):
                team = rng.sample(ids, 3)
                call = Call(caller_id=callers[c % len(callers)].id, title=f"Call {c}", brief="Bench.",
                            budget_cents=100_000, deadline=now + timedelta(days=10), status="awarded",
                            created_at=now, awarded_at=now)
                session.add(call)
                session.flush()
                proposal = Proposal(call_id=call.id, author_id=team[0], title="Team", pitch="Bench.",
                                    status="awarded", submitted_at=now)
                session.add(proposal)
                session.flush()
                call.awarded_proposal_id = proposal.id
                session.add_all(TeamMember(proposal_id=proposal.id, account_id=a, position=k, role="maker",
                                           share_bps=(3334 if k == 0 else 3333), status="accepted")
                                for k, a in enumerate(team))
            for o in range(organisations):
                org = Organisation(slug=f"org-{o}", name=f"Organisation {o}",
                                   kind=("studio", "hub", "school", "cluster", "company", "association")[o % 6])
                session.add(org)
                session.flush()
                session.add_all(OrganisationMember(organisation_id=org.id, account_id=a, role="member")
                                for a in rng.sample(ids, min(per_org, len(ids))))
            session.commit()
        return {"creators": creators, "co_created_works": n_work, "co_created_pairs": len(pairs), "calls": calls,
                "organisations": organisations}
    finally:
        engine.dispose()


def _overlapping_nodes(drawing) -> int:
    """Nodes whose disc overlaps another's (all pairs: a check of the layout's own grid-based count)."""
    discs = [(d["x"], d["y"], d["r"]) for d in drawing.nodes]
    hit = set()
    for i, (x1, y1, r1) in enumerate(discs):
        for j in range(i + 1, len(discs)):
            x2, y2, r2 = discs[j]
            if (x1 - x2) ** 2 + (y1 - y2) ** 2 < (r1 + r2) ** 2:
                hit.update((i, j))
    return len(hit)


def _timed(client: httpx.Client, path: str) -> tuple[float, httpx.Response]:
    t0 = time.perf_counter()
    r = client.get(path)
    ms = (time.perf_counter() - t0) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"GET {path} answered {r.status_code}: {r.text[:300]}")
    return ms, r


def _measure(label: str, stack: BenchStack, url: str, log) -> dict:
    work_dir = stack.tmp / f"network-{label}"
    work_dir.mkdir()
    port = pick_free_port()
    base_env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTING_NAMES}
    env = {**base_env, "ENV": "test", "RUN_MAIL_WORKER": "false", "DATABASE_URL": url, "RPC_URL": stack.rpc_url,
           "IPFS_API_URL": stack.ipfs.api_addr, "DATA_DIR": str(work_dir / "data"),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "RUN_MINT_WORKER": "false", "RUN_DELIVERY_WORKER": "false"}
    server = _start_server(f"network-{label}", [sys.executable, "-m", "marketplace.cli", "serve", "--host",
                                                "127.0.0.1", "--port", str(port)], env, work_dir, port,
                           stack.tmp / "logs")
    try:
        with httpx.Client(base_url=server.base_url, timeout=120) as client:
            health = statistics.median(_timed(client, "/api/health")[0] for _ in range(REPEATS))
            api_cold, r = _timed(client, "/api/network")
            body = r.json()
            api_ms = statistics.median(_timed(client, "/api/network")[0] for _ in range(REPEATS))
            page_cold, page = _timed(client, "/network")
            page_ms = statistics.median(_timed(client, "/network")[0] for _ in range(REPEATS))
    finally:
        stop_proc(server.proc)
    html = page.text
    svg = html[html.index("<svg"):html.index("</svg>") + 6] if "<svg" in html else ""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            t0 = time.perf_counter()
            graph = network_service.build_network(session)
            build_s = time.perf_counter() - t0
            from marketplace.network import layout as layout_module

            layout_module._cache.clear()
            t0 = time.perf_counter()
            drawing = network_service.drawing(session, graph=graph)
            layout_s = time.perf_counter() - t0
    finally:
        engine.dispose()
    result = {"nodes": len(body["nodes"]), "edges": len(body["edges"]),
              "edges_by_kind": {k: sum(1 for e in body["edges"] if e["kind"] == k)
                                for k in ("co_created", "awarded_call", "member_of")},
              "health_ms": round(health, 2), "api_cold_ms": round(api_cold, 1), "api_ms": round(api_ms, 1),
              "api_bytes": len(r.content), "page_cold_ms": round(page_cold, 1), "page_ms": round(page_ms, 1),
              "page_bytes": len(page.content), "svg_bytes": len(svg.encode()), "svg_width": drawing.width,
              "svg_height": drawing.height, "overlaps": drawing.overlaps, "min_gap": drawing.min_gap,
              "overlapping_nodes": _overlapping_nodes(drawing),
              "build_graph_ms": round(build_s * 1000, 1), "layout_and_drawing_ms": round(layout_s * 1000, 1),
              "hubs": body["hubs"][:5]}
    log(f"  {label}: {result['nodes']} nodes, {result['edges']} edges {result['edges_by_kind']}; "
        f"/api/network {api_ms:.0f} ms, /network {page_cold:.0f} ms cold, {page_ms:.0f} ms warm; "
        f"SVG {result['svg_bytes'] / 1024:.0f} KiB; overlaps {drawing.overlaps}, min gap {drawing.min_gap}")
    return result


def run(stack: BenchStack, *, quick: bool, log=print) -> tuple[list[Figure], dict]:
    details: dict = {}
    figures: list[Figure] = []
    sizes = {"small": dict(creators=12, co_created_pairs=12, calls=2, organisations=2, per_org=4),
             "1000": (dict(creators=200, co_created_pairs=440, calls=12, organisations=4, per_org=25) if quick else
                      dict(creators=1000, co_created_pairs=2200, calls=60, organisations=20, per_org=25))}
    for label, size in sizes.items():
        url = f"sqlite:///{stack.tmp / f'network-{label}.db'}"
        upgrade(url)
        t0 = time.perf_counter()
        details[label] = {"seeded": seed(url, rng=random.Random(27), **size)}
        log(f"  {label}: seeded in {time.perf_counter() - t0:.1f} s: {details[label]['seeded']}")
        details[label].update(_measure(label, stack, url, log))
        d = details[label]
        n = f"{d['nodes']} nodes, {d['edges']} edges"
        figures += [
            Figure(SECTION, f"{label}: GET /api/network (median of {REPEATS})", d["api_ms"], d["health_ms"],
                   unit="ms", note=n),
            Figure(SECTION, f"{label}: GET /network, first (layout computed)", d["page_cold_ms"], d["health_ms"],
                   unit="ms"),
            Figure(SECTION, f"{label}: GET /network (median of {REPEATS}, layout cached)", d["page_ms"],
                   d["health_ms"], unit="ms"),
            Figure(SECTION, f"{label}: SVG size, vs the JSON of the same graph", d["svg_bytes"] / 1024,
                   d["api_bytes"] / 1024, unit="KiB", note=f"page {d['page_bytes'] / 1024:.0f} KiB"),
            Figure(SECTION, f"{label}: nodes drawn clear of every other, of all nodes",
                   d["nodes"] - d["overlapping_nodes"], d["nodes"], unit="nodes", goal=">= 1", digits=0,
                   note=f"{d['overlaps']} overlapping pairs"),
            Figure(SECTION, f"{label}: smallest gap between two discs, vs the gap aimed at", d["min_gap"], GAP,
                   unit="SVG units", goal=">= 0.99", note=f"drawing {d['svg_width']:.0f} x {d['svg_height']:.0f}"),
        ]
    return figures, details


if __name__ == "__main__":
    from contextlib import ExitStack

    from benchmarks.common import start_stack

    with ExitStack() as stack:
        bench = start_stack(stack)
        for figure in run(bench, quick="--quick" in sys.argv)[0]:
            print(figure.as_json())
