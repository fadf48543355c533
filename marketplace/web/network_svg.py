"""The /network drawing as one SVG string, built in Python (a Jinja loop over 4,000 elements costs ~0.4 s at
1,000 creators; this costs a few ms). Every text is escaped; the node titles are in the reader's language."""

from __future__ import annotations

from html import escape

from marketplace.network.service import Drawing
from marketplace.web.i18n import Translator
from marketplace.web.labels import N_


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


TITLE = N_("The collaboration network")
DESCRIPTION = N_("The tables below list its hubs and its connections.")
CONNECTIONS = ("%(num)s connection", "%(num)s connections")  # the plural message of network.html


def node_title(t: Translator, node) -> str:
    links = t.ngettext(*CONNECTIONS, node.degree)
    if node.kind == "organisation":
        return f"{node.label} ({t.label('organisation_kind', node.organisation_kind)}): {links}"
    if node.discipline:
        return f"{node.label} ({t.label('discipline', node.discipline)}): {links}"
    return f"{node.label}: {links}"


def render_svg(drawing: Drawing, t: Translator, *, display_width: int, display_height: int,
               label_size: float) -> str:
    out = [f'<svg class="network-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(drawing.width)} '
           f'{_num(drawing.height)}" width="{display_width}" height="{display_height}" role="img" '
           f'aria-labelledby="network-title network-desc">',
           f'<title id="network-title">{escape(t.gettext(TITLE))}</title>',
           f'<desc id="network-desc">{escape(t.gettext(DESCRIPTION))}'
           '</desc>', '<g class="net-edges">']
    for e in drawing.edges:
        width = f' stroke-width="{min(1 + e["edge"].weight, 6)}"' if e["edge"].weight > 1 else ""
        out.append(f'<line class="net-e-{e["edge"].kind}" x1="{_num(e["x1"])}" y1="{_num(e["y1"])}" '
                   f'x2="{_num(e["x2"])}" y2="{_num(e["y2"])}"{width}/>')
    out.append('</g><g class="net-nodes">')
    for d in drawing.nodes:
        n = d["node"]
        classes = f'net-node{" net-org" if n.kind == "organisation" else ""} net-d-{n.discipline or "none"}' + (
            " net-hub" if d["hub"] else "")
        title = f"<title>{escape(node_title(t, n))}</title>"
        x, y, r = d["x"], d["y"], d["r"]
        if n.kind == "organisation":
            shape = (f'<rect class="{classes}" data-id="{n.id}" x="{_num(x - r)}" y="{_num(y - r)}" '
                     f'width="{_num(2 * r)}" height="{_num(2 * r)}">{title}</rect>')
        else:
            shape = (f'<circle class="{classes}" data-id="{n.id}" cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}">'
                     f"{title}</circle>")
        out.append(f'<a href="{escape(n.href)}">{shape}</a>' if n.href else shape)
    out.append(f'</g><g class="net-labels" font-size="{_num(label_size)}" aria-hidden="true">')
    for x, y, label in place_labels(drawing, label_size):
        out.append(f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="middle">{escape(label)}</text>')
    out.append("</g></svg>")
    return "\n".join(out)


def place_labels(drawing: Drawing, size: float) -> list[tuple[float, float, str]]:
    """Each hub's name above its disc, else below, right or left of it: the first place that no name placed
    before overlaps (names estimated 0.6 em a character wide). The most connected are placed first; a name that
    fits nowhere is left out of the drawing (it is in the table of hubs)."""
    placed: list[tuple[float, float, float, float]] = []
    out: list[tuple[float, float, str]] = []
    hubs = {h.id: rank for rank, h in enumerate(drawing.hubs)}
    for d in sorted((d for d in drawing.nodes if d["hub"]), key=lambda d: hubs.get(d["node"].id, 0)):
        label = d["node"].label
        w, h = 0.6 * size * len(label) + 4, size * 1.2
        x, y, r = d["x"], d["y"], d["r"]
        for cx, cy in ((x, y - r - 4), (x, y + r + 4 + size), (x + r + 4 + w / 2, y + size / 3),
                       (x - r - 4 - w / 2, y + size / 3)):
            box = (cx - w / 2, cy - size, cx + w / 2, cy - size + h)
            if box[0] < 0 or box[2] > drawing.width or box[1] < 0 or box[3] > drawing.height:
                continue
            if all(box[2] <= b[0] or box[0] >= b[2] or box[3] <= b[1] or box[1] >= b[3] for b in placed):
                placed.append(box)
                out.append((cx, cy, label))
                break
    return out
