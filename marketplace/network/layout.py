"""A deterministic layout of the network, in plain Python (no numpy): clusters by discipline, then a short
force-directed pass with grid-accelerated repulsion, then an overlap removal pass.

1. Each node's radius grows with the square root of its degree (capped).
2. Nodes are grouped by discipline (organisations and people without one: a group of their own). In each group
   the nodes sit on a sunflower (Vogel) spiral, most connected at the centre, each taking room for its own disc.
3. The groups sit on a ring, each given an arc as wide as it is, the largest first: groups never overlap.
4. Fruchterman-Reingold for ITERATIONS rounds: edges attract, nodes repel only within a cut-off (a grid of cells
   that size, so each node looks at its 3 x 3 cells, not at every node), and each node is pulled back to its
   group's centre; the step cools down linearly. No randomness: the same graph gives the same drawing.
5. Pairs still closer than their radii plus a gap are pushed apart (again through a grid), up to OVERLAP_PASSES.

`readability` says how it went: overlapping pairs left, and the smallest gap between two discs. Layouts are kept
in a small in-process cache keyed by the graph itself (the same graph is drawn at once a second time).
"""

from __future__ import annotations

import math
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
MIN_RADIUS = 4.0
MAX_RADIUS = 16.0
GAP = 3.0  # the room between two discs
ITERATIONS = 24
OVERLAP_PASSES = 30
MARGIN = 40.0
CACHE_SIZE = 8


@dataclass(frozen=True)
class LayoutNode:
    id: str
    group: str  # the discipline ('' for none)
    degree: int


@dataclass
class Layout:
    x: dict[str, float]
    y: dict[str, float]
    r: dict[str, float]
    width: float
    height: float
    overlaps: int  # pairs of discs that overlap
    min_gap: float  # the smallest distance between two discs' edges (negative: an overlap)


def radius(degree: int) -> float:
    return min(MAX_RADIUS, MIN_RADIUS + 1.6 * math.sqrt(max(degree, 0)))


class _Grid:
    def __init__(self, cell: float) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[int]] = defaultdict(list)

    def build(self, xs: list[float], ys: list[float]) -> None:
        self.cells.clear()
        c = self.cell
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            self.cells[(math.floor(x / c), math.floor(y / c))].append(i)

    def pairs(self):
        """Each pair of points in the same or neighbouring cells, once."""
        cells = self.cells
        for (cx, cy), members in cells.items():
            for k, i in enumerate(members):
                for j in members[k + 1:]:
                    yield i, j
            for dx, dy in ((1, 0), (1, 1), (0, 1), (-1, 1)):
                other = cells.get((cx + dx, cy + dy))
                if other:
                    for i in members:
                        for j in other:
                            yield i, j


_cache: OrderedDict[tuple, Layout] = OrderedDict()


def layout(nodes: Sequence[LayoutNode], edges: Sequence[tuple[str, str, int]], *,
           groups_order: Sequence[str] = ()) -> Layout:
    key = (tuple(nodes), tuple(edges), tuple(groups_order))
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    result = _compute(nodes, edges, groups_order)
    _cache[key] = result
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return result


def _compute(nodes: Sequence[LayoutNode], edges: Sequence[tuple[str, str, int]],
             groups_order: Sequence[str]) -> Layout:
    n = len(nodes)
    if n == 0:
        return Layout({}, {}, {}, 2 * MARGIN, 2 * MARGIN, 0, 0.0)
    index = {node.id: i for i, node in enumerate(nodes)}
    rs = [radius(node.degree) for node in nodes]
    # 2. the groups, each a sunflower, most connected first
    members: dict[str, list[int]] = defaultdict(list)
    for i, node in enumerate(nodes):
        members[node.group].append(i)
    rank = {g: k for k, g in enumerate(groups_order)}
    groups = sorted(members, key=lambda g: (-len(members[g]), rank.get(g, len(rank)), g))
    local: dict[int, tuple[float, float]] = {}
    group_radius: dict[str, float] = {}
    for g in groups:
        ordered = sorted(members[g], key=lambda i: (-nodes[i].degree, nodes[i].id))
        area = 0.0
        for k, i in enumerate(ordered):
            d = 2 * rs[i] + GAP
            rho = math.sqrt(area / math.pi) if k else 0.0
            if k:
                rho = max(rho, rs[ordered[0]] + rs[i] + GAP)
            local[i] = (rho * math.cos(k * GOLDEN_ANGLE), rho * math.sin(k * GOLDEN_ANGLE))
            area += 1.15 * d * d
        group_radius[g] = max(math.hypot(*local[i]) + rs[i] for i in ordered)
    # 3. the groups on a ring
    centres: dict[str, tuple[float, float]] = {}
    if len(groups) == 1:
        centres[groups[0]] = (0.0, 0.0)
    else:
        widths = [2 * group_radius[g] + 4 * GAP for g in groups]
        ring = max(sum(widths) / (2 * math.pi), max(group_radius.values()) + 4 * GAP)
        # the arcs are chords of the ring: widen it until each group fits its arc
        while True:
            total_angle = sum(2 * math.asin(min(1.0, w / (2 * ring))) for w in widths)
            if total_angle <= 2 * math.pi:
                break
            ring *= 1.05
        spare = (2 * math.pi - total_angle) / len(groups)
        angle = -math.pi / 2
        for g, w in zip(groups, widths, strict=True):
            half = math.asin(min(1.0, w / (2 * ring))) + spare / 2
            angle += half
            centres[g] = (ring * math.cos(angle), ring * math.sin(angle))
            angle += half
    xs = [0.0] * n
    ys = [0.0] * n
    home_x = [0.0] * n
    home_y = [0.0] * n
    for i, node in enumerate(nodes):
        cx, cy = centres[node.group]
        home_x[i], home_y[i] = cx, cy
        xs[i], ys[i] = cx + local[i][0], cy + local[i][1]
    # 4. a short force pass
    links = [(index[a], index[b], w) for a, b, w in edges if a in index and b in index and a != b]
    k_len = 2 * MIN_RADIUS + 3 * GAP
    cutoff = 2.5 * k_len
    grid = _Grid(cutoff)
    for it in range(ITERATIONS):
        step = k_len * 0.9 * (1 - it / ITERATIONS) + 0.5
        dx = [0.0] * n
        dy = [0.0] * n
        grid.build(xs, ys)
        for i, j in grid.pairs():
            ex, ey = xs[i] - xs[j], ys[i] - ys[j]
            dist2 = ex * ex + ey * ey
            if dist2 >= cutoff * cutoff:
                continue
            if dist2 < 1e-6:
                ex, ey, dist2 = (1e-3 * (1 + (i % 7)), 1e-3 * (1 + (j % 5)), 1e-6)
            want = rs[i] + rs[j] + GAP
            f = (want * k_len) / dist2
            dx[i] += ex * f
            dy[i] += ey * f
            dx[j] -= ex * f
            dy[j] -= ey * f
        for i, j, w in links:
            ex, ey = xs[i] - xs[j], ys[i] - ys[j]
            dist = math.hypot(ex, ey) or 1e-3
            f = min(dist, 4 * k_len) * math.log1p(w) / k_len * 0.6
            ux, uy = ex / dist * f, ey / dist * f
            dx[i] -= ux
            dy[i] -= uy
            dx[j] += ux
            dy[j] += uy
        for i in range(n):
            gx, gy = home_x[i] - xs[i], home_y[i] - ys[i]
            dist = math.hypot(gx, gy)
            reach = group_radius[nodes[i].group]
            pull = 0.05 + (0.3 * (dist - reach) / dist if dist > reach else 0.0)
            dx[i] += gx * pull
            dy[i] += gy * pull
            length = math.hypot(dx[i], dy[i])
            if length > step:
                dx[i] *= step / length
                dy[i] *= step / length
            xs[i] += dx[i]
            ys[i] += dy[i]
    # 5. overlap removal
    grid = _Grid(2 * MAX_RADIUS + GAP)
    for _ in range(OVERLAP_PASSES):
        moved = False
        grid.build(xs, ys)
        for i, j in grid.pairs():
            want = rs[i] + rs[j] + GAP
            ex, ey = xs[j] - xs[i], ys[j] - ys[i]
            dist = math.hypot(ex, ey)
            if dist >= want:
                continue
            if dist < 1e-6:
                angle = (i * 2.399963) % (2 * math.pi)
                ex, ey, dist = math.cos(angle), math.sin(angle), 1.0
                push = want / 2
            else:
                push = (want - dist) / 2 + 0.01
            ux, uy = ex / dist * push, ey / dist * push
            xs[i] -= ux
            ys[i] -= uy
            xs[j] += ux
            ys[j] += uy
            moved = True
        if not moved:
            break
    overlaps, min_gap = readability(xs, ys, rs)
    min_x = min(x - r for x, r in zip(xs, rs, strict=True)) - MARGIN
    min_y = min(y - r for y, r in zip(ys, rs, strict=True)) - MARGIN
    max_x = max(x + r for x, r in zip(xs, rs, strict=True)) + MARGIN
    max_y = max(y + r for y, r in zip(ys, rs, strict=True)) + MARGIN
    return Layout(x={node.id: round(xs[i] - min_x, 1) for i, node in enumerate(nodes)},
                  y={node.id: round(ys[i] - min_y, 1) for i, node in enumerate(nodes)},
                  r={node.id: round(rs[i], 1) for i, node in enumerate(nodes)},
                  width=round(max_x - min_x, 1), height=round(max_y - min_y, 1),
                  overlaps=overlaps, min_gap=round(min_gap, 2))


def readability(xs: Sequence[float], ys: Sequence[float], rs: Sequence[float]) -> tuple[int, float]:
    """Overlapping pairs, and the smallest gap between two discs (their edges, not their centres)."""
    if len(xs) < 2:
        return 0, 0.0
    grid = _Grid(2 * MAX_RADIUS + GAP)
    grid.build(list(xs), list(ys))
    overlaps, min_gap = 0, math.inf
    for i, j in grid.pairs():
        gap = math.hypot(xs[i] - xs[j], ys[i] - ys[j]) - rs[i] - rs[j]
        min_gap = min(min_gap, gap)
        if gap < 0:
            overlaps += 1
    if min_gap == math.inf:  # nobody is near anybody: the grid's cell is the gap's lower bound
        min_gap = 2 * MAX_RADIUS + GAP
    return overlaps, min_gap
