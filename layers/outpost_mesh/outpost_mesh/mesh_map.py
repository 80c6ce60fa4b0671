"""The mesh map: each managed VPC's Outposts, subnets and LGW routes as one inline SVG, in a
self-contained HTML page (pure: no I/O).

What the CloudWatch custom widget returns (functions/mesh_map) and what ``outpost-mesh graph
--format html`` writes. Outposts are columns; their subnets are boxes (Name tag or id, CIDR); an
LGW route in a subnet's route table to a sibling subnet's CIDR is an arrow from that subnet to the
sibling (a table serving several subnets of one Outpost: an arrow from each). An arrow's state:

- ``ok``: the pair is reachable (``verify.reachability``);
- ``broken``: the pair's routes are all in place, both ways, yet it is unreachable (what verify
  and the UnreachablePairs alarm count: ``service.Verification.broken``);
- ``held``: deletion safety holds the route's deletion (a plan's ``routes_held``: given by a
  caller that planned, see :func:`held_pairs`);
- ``partial``: the route is there but the pair is not meshed both ways (not yet, or half undone).

An LGW route that no arrow shows (its destination is no subnet on another Outpost, or its table
serves no Outpost subnet) is listed under the picture, as are broken pairs and open findings.

The page loads nothing (no script, stylesheet, image or font from elsewhere: the console shows
it offline, and strips scripts; docs/aws-facts.md, "CloudWatch custom widgets"). Every text is
escaped and written as ASCII (character references), so a tag value is shown, never run, in any
charset. Bounded (rule 10): the widget's page stays within ``limits.MESH_MAP_BYTES`` measured as
the Lambda response carries it; a VPC too large for what is left is drawn Outpost by Outpost, and
the VPCs past the limit are counted ("and N more VPCs: outpost-mesh status"). VPCs with broken
pairs come first.
"""

from __future__ import annotations

import html
import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, RootModel

from outpost_mesh.domains import routing_domain
from outpost_mesh.fleet import worth_looking_at
from outpost_mesh.limits import MESH_MAP_BYTES, MESH_MAP_LISTED, clip, first, json_size, more
from outpost_mesh.model import (
    Approval,
    Finding,
    PairReachability,
    Plan,
    RouteTable,
    Subnet,
    Topology,
)
from outpost_mesh.planner import desired_state
from outpost_mesh.service import Verification
from outpost_mesh.verify import reachability

if TYPE_CHECKING:
    from outpost_mesh.ledger import FleetLedger
    from outpost_mesh.observe import FleetObservation

Pair = tuple[str, str]

OK, BROKEN, HELD, PARTIAL = "ok", "broken", "held", "partial"
# Arrow colour and dash per state (the CLI graph's colours), least to most severe: the order they
# are drawn in (broken on top), and the state an Outpost pair's arrows show together.
STROKES = {
    PARTIAL: ("#8a8a8a", ""),
    OK: ("#2a7d2a", ""),
    HELD: ("#d08000", "2 3"),
    BROKEN: ("#c00000", "6 4"),
}
LEGEND = {
    OK: "reachable",
    BROKEN: "broken: routed both ways, unreachable",
    HELD: "held: deletion safety keeps the route",
    PARTIAL: "route in place, pair not meshed both ways",
}
# A route targets a local gateway when its target is one (EC2's LocalGatewayId: ``lgw-...``; the
# first target key of a route, model.ROUTE_TARGET_KEYS), seen or not among the VPC's Outposts.
LGW_ID_PREFIX = "lgw-"
# Why an LGW route has no arrow.
NO_SOURCE = "its table serves no Outpost subnet"
NO_TARGET = "no Outpost subnet has this CIDR"
SAME_OUTPOST = "its destination is on the same Outpost"
TITLE = "outpost-mesh: mesh map"
LABEL_CHARS = 36  # of a name in a box (the whole one is in its tooltip)
DETAIL_CHARS = 46  # of a box's second line (CIDR and id)
MESSAGE_CHARS = 300  # of a finding's message in the list

# Geometry (px).
PAD, COL_W, GUTTER = 12, 280, 150
HEADER_H, BOX_H, BOX_GAP, LANE = 56, 40, 12, 7
PAIR_OFFSET = 4  # the two directions of a pair sit apart


# -- what is drawn --------------------------------------------------------------------------------
@dataclass(frozen=True)
class VpcMap:
    """One VPC as the map draws it: its topology, its pairs (``verification``), the pairs whose
    route deletion is held, the changes that wait for a person's approval and its open
    findings."""

    topology: Topology
    verification: Verification
    name: str | None = None
    held: frozenset[Pair] = frozenset()
    approval: Approval | None = None  # shown while it waits (approval mode)
    findings: tuple[Finding, ...] = ()

    @property
    def pending(self) -> tuple[str, ...]:
        """The keys of the changes that wait for approval (none unless a request waits)."""
        approval = self.approval
        return approval.changes if approval is not None and approval.pending else ()

    @cached_property
    def broken(self) -> frozenset[Pair]:
        return frozenset(p.key for p in self.verification.broken)


def vpc_map(
    topology: Topology,
    *,
    account_id: str = "",
    quarantined: frozenset[str] = frozenset(),
    name: str | None = None,
    held: Iterable[Pair] = (),
    approval: Approval | None = None,
    findings: Iterable[Finding] = (),
) -> VpcMap:
    """The VPC's map: its pairs checked as verify checks them (``account_id`` and
    ``quarantined`` as the stack sees them decide which pairs are meshed)."""
    desired = desired_state(topology, quarantined, account_id)
    verification = Verification(
        reachability(topology), desired.expected_pairs, desired.routed_pairs(topology)
    )
    return VpcMap(topology, verification, name, frozenset(held), approval, tuple(sorted(findings)))


def held_pairs(plan: Plan) -> frozenset[Pair]:
    """The (from, to) subnet pairs of the routes whose deletion the plan holds."""
    return frozenset(
        (source, change.destination_subnet_id)
        for change in plan.routes_held
        for source in change.source_subnet_ids
    )


def fleet_maps(
    seen: FleetObservation,
    ledger: FleetLedger,
    *,
    managed: Callable[[Mapping[str, str]], bool],
    account_id: str = "",
) -> list[VpcMap]:
    """Every managed VPC of a fleet read (``observe_fleet`` and ``LedgerStore.fleet``, read once
    each) with an Outpost subnet or something owned: ``managed`` says from a VPC's tags whether
    the stack manages it (``ReconcileService.managed_by_tags``). Quarantines are not read (the
    widget may only Query the ledger): a pair through a quarantined rack whose routes are all in
    place and that is unreachable shows as broken, which it is."""
    maps = []
    for vpc_id, topology in sorted(seen.topologies.items()):
        tags = seen.vpc_tags.get(vpc_id, {})
        owned = ledger.ledger(vpc_id)
        if not managed(tags):
            continue
        if not worth_looking_at(topology, owned):
            continue
        maps.append(
            vpc_map(
                topology,
                account_id=account_id,
                name=tags.get("Name"),
                approval=owned.approval,
                findings=ledger.open_findings.get(vpc_id, ()),
            )
        )
    return maps


# -- the widget's request ------------------------------------------------------------------------
class WidgetContext(BaseModel):
    """The part of a custom widget's ``widgetContext`` the map uses (docs/aws-facts.md,
    "CloudWatch custom widgets"); the rest (time range, theme, forms, params...) is ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    dashboard_name: str = Field(default="", alias="dashboardName", max_length=255)
    widget_id: str = Field(default="", alias="widgetId", max_length=255)


class WidgetRequest(BaseModel):
    """A custom widget's call: ``describe`` asks for the widget's documentation."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    describe: bool = False
    widget_context: WidgetContext | None = Field(default=None, alias="widgetContext")


class WidgetPage(RootModel[str]):
    """What the widget's function returns: the page (or the description), a plain string."""


# -- escaping ------------------------------------------------------------------------------------
def esc(value: object) -> str:
    """``value`` as HTML text or attribute value: markup escaped, control characters blanked,
    everything beyond ASCII as character references."""
    text = "".join(c if c >= " " or c == "\t" else " " for c in str(value))
    return html.escape(text, quote=True).encode("ascii", "xmlcharrefreplace").decode("ascii")


def _attrs(**values: object) -> str:
    return "".join(f' {k.replace("_", "-")}="{esc(v)}"' for k, v in values.items())


def _label(subnet: Subnet) -> str:
    return subnet.name or subnet.subnet_id


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _cidr_order(subnet: Subnet) -> tuple[int, int, str]:
    try:
        net = ipaddress.ip_network(subnet.cidr or "", strict=False)
    except ValueError:
        return (9, 0, subnet.subnet_id)
    return (net.version, int(net.network_address), subnet.subnet_id)


# -- one VPC -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Arrow:
    """One LGW route drawn: ``route_table``'s route to ``destination`` from ``source``."""

    source: Subnet
    target: Subnet
    route_table: str
    destination: str
    gateway: str
    state: str


@dataclass
class _Layout:
    """Where each Outpost's column and each subnet's box sit in one VPC's SVG."""

    outposts: list[str]
    subnets: dict[str, list[Subnet]]
    lanes: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def top(self) -> int:
        return PAD + len(self.lanes) * LANE + (LANE if self.lanes else 0)

    def column(self, outpost: str) -> int:
        return self.outposts.index(outpost)

    def x(self, column: int) -> int:
        return PAD + column * (COL_W + GUTTER)

    def box_y(self, row: int) -> int:
        return self.top + HEADER_H + BOX_GAP + row * (BOX_H + BOX_GAP)

    @property
    def width(self) -> int:
        return self.x(len(self.outposts)) - GUTTER + PAD

    @property
    def height(self) -> int:
        rows = max((len(s) for s in self.subnets.values()), default=0)
        return self.box_y(rows) + PAD


class _VpcDrawing:
    """One VPC's picture and lists."""

    def __init__(self, vpc: VpcMap) -> None:
        self.vpc = vpc
        topology = vpc.topology
        self.topology = topology
        on_outposts = sorted((s for s in topology.subnets if s.on_outpost), key=_cidr_order)
        subnets: dict[str, list[Subnet]] = {}
        for subnet in on_outposts:
            assert subnet.outpost_arn is not None
            subnets.setdefault(subnet.outpost_arn, []).append(subnet)
        # Outposts left to right by their first subnet (subnets are in CIDR order)
        self.layout = _Layout(list(subnets), subnets)
        self.rows = {s.subnet_id: row for rows in subnets.values() for row, s in enumerate(rows)}
        self.pairs: dict[Pair, PairReachability] = {p.key: p for p in vpc.verification.pairs}
        self.in_broken = {subnet for pair in vpc.broken for subnet in pair}
        self.arrows, self.undrawn = self._routes()
        self.slots: dict[Arrow, int] = {}
        slots: dict[tuple[int, int], int] = {}
        for arrow in self.arrows:
            a, b = (self.layout.column(s.outpost_arn or "") for s in (arrow.source, arrow.target))
            if abs(a - b) > 1:
                self.layout.lanes.setdefault((a, b), len(self.layout.lanes))
                # each arrow of a lane climbs and comes down a little apart from the others
                self.slots[arrow] = slots.get((a, b), 0)
                slots[(a, b)] = self.slots[arrow] + 1

    def _routes(self) -> tuple[list[Arrow], list[tuple[RouteTable, str, str, str]]]:
        """Every LGW route: an arrow per subnet its table serves, or (table, destination,
        gateway, why) when no arrow can show it."""
        topology = self.topology
        by_cidr = {s.cidr: s for s in topology.subnets if s.cidr and s.on_outpost}
        arrows: list[Arrow] = []
        undrawn = []
        for table in topology.route_tables:
            sources = [s for s in topology.served_subnets(table) if s.on_outpost]
            for route in table.routes:
                if not route.target.startswith(LGW_ID_PREFIX):
                    continue
                target = by_cidr.get(route.destination)
                drawn = [
                    Arrow(s, target, table.route_table_id, route.destination, route.target, "")
                    for s in sources
                    if target is not None and s.outpost_arn != target.outpost_arn
                ]
                if not sources:
                    undrawn.append((table, route.destination, route.target, NO_SOURCE))
                elif target is None:
                    undrawn.append((table, route.destination, route.target, NO_TARGET))
                elif not drawn:
                    undrawn.append((table, route.destination, route.target, SAME_OUTPOST))
                arrows += [self._with_state(a) for a in drawn]
        order = list(STROKES)
        arrows.sort(key=lambda a: (order.index(a.state), a.route_table, a.destination))
        return arrows, undrawn

    def _with_state(self, arrow: Arrow) -> Arrow:
        key = (arrow.source.subnet_id, arrow.target.subnet_id)
        pair = self.pairs.get(key)
        if key in self.vpc.broken:
            state = BROKEN
        elif key in self.vpc.held:
            state = HELD
        elif pair is not None and pair.reachable:
            state = OK
        else:
            state = PARTIAL
        return replace(arrow, state=state)

    # -- the SVG ---------------------------------------------------------------------------------
    def svg(self) -> str:
        layout = self.layout
        if not layout.outposts:
            return '<p class="om-note">No Outpost subnet.</p>'
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width}" '
            f'height="{layout.height}" viewBox="0 0 {layout.width} {layout.height}" '
            f'role="img"{_attrs(aria_label=f"mesh of {self.topology.vpc_id}")}>'
        ]
        parts += [self._arrow(a) for a in self.arrows]
        for column, outpost in enumerate(layout.outposts):
            parts.append(self._outpost(layout, column, outpost))
            parts += [self._subnet(column, row, s) for row, s in enumerate(layout.subnets[outpost])]
        parts.append("</svg>")
        return "".join(parts)

    def _outpost(self, layout: _Layout, column: int, outpost: str) -> str:
        """The Outpost's header: its id, its LGW, and the VPC's routing domain there."""
        x, y = layout.x(column), layout.top
        domain = routing_domain(self.topology.index, outpost)
        lgw = domain.table
        if lgw is None:
            gateway, state, ready = "no routing domain", domain.reason, False
        else:
            assoc = self.topology.association_for(lgw.route_table_id)
            ready = assoc is not None and assoc.state == "associated"
            gateway = f"{lgw.local_gateway_id} · {lgw.name or lgw.route_table_id}"
            state = f"VPC {assoc.state}" if assoc is not None else "VPC not associated"
        lines = "".join(
            f'<text x="{x + 8}" y="{y + dy}"{attrs}>{esc(clip(text, DETAIL_CHARS))}</text>'
            for dy, attrs, text in (
                (17, ' font-weight="600"', f"Outpost {_short(outpost)}"),
                (33, ' font-size="11" fill="#414d5c"', gateway),
                (48, f' font-size="11" fill="{"#414d5c" if ready else "#c00000"}"', state),
            )
        )
        return (
            f'<g class="om-outpost"{_attrs(data_outpost_arn=outpost)}>'
            f"<title>{esc(outpost)}: {esc(domain.reason)}</title>"
            f'<rect x="{x}" y="{y}" width="{COL_W}" height="{HEADER_H}" rx="4" fill="#e9edf2" '
            f'stroke="{"#8d99a8" if ready else "#c00000"}"/>{lines}</g>'
        )

    def _subnet(self, column: int, row: int, subnet: Subnet) -> str:
        x, y = self.layout.x(column), self.layout.box_y(row)
        broken = subnet.subnet_id in self.in_broken
        table = self.topology.effective_route_table(subnet.subnet_id)
        tip = f"{subnet.subnet_id} · {subnet.cidr or 'no IPv4'} · " + (
            f"route table {table.route_table_id}" if table else "no route table"
        )
        detail = subnet.cidr or "no IPv4"
        if subnet.name:
            detail += f" · {subnet.subnet_id}"
        return (
            f'<g class="om-subnet{" om-broken" if broken else ""}"'
            f"{_attrs(data_subnet_id=subnet.subnet_id, data_cidr=subnet.cidr or '')}>"
            f"<title>{esc(_label(subnet))}: {esc(tip)}</title>"
            f'<rect x="{x}" y="{y}" width="{COL_W}" height="{BOX_H}" rx="6" fill="#f4f8fc" '
            f'stroke="{"#c00000" if broken else "#5b7fa6"}"/>'
            f'<text x="{x + 8}" y="{y + 16}" font-weight="600">'
            f"{esc(clip(_label(subnet), LABEL_CHARS))}</text>"
            f'<text x="{x + 8}" y="{y + 32}" font-size="11" fill="#414d5c">'
            f"{esc(clip(detail, DETAIL_CHARS))}</text></g>"
        )

    def _arrow(self, arrow: Arrow) -> str:
        layout = self.layout
        a = layout.column(arrow.source.outpost_arn or "")
        b = layout.column(arrow.target.outpost_arn or "")
        rightwards = b > a
        dy = -PAIR_OFFSET if rightwards else PAIR_OFFSET
        ya = layout.box_y(self.rows[arrow.source.subnet_id]) + BOX_H // 2 + dy
        yb = layout.box_y(self.rows[arrow.target.subnet_id]) + BOX_H // 2 + dy
        xa = layout.x(a) + (COL_W if rightwards else 0)
        xb = layout.x(b) + (0 if rightwards else COL_W)
        if abs(b - a) == 1:
            middle = (xa + xb) // 2
            path = f"M{xa} {ya} C{middle} {ya} {middle} {yb} {xb} {yb}"
        else:  # over the columns between, in a lane of its own above them
            lane = layout.lanes[(a, b)]
            step = 1 if rightwards else -1
            inset = GUTTER // 5 + (self.slots[arrow] % 12) * 5
            y_lane = PAD + lane * LANE + LANE // 2
            path = f"M{xa} {ya} H{xa + step * inset} V{y_lane} H{xb - step * inset} V{yb} H{xb}"
        pair = self.pairs.get((arrow.source.subnet_id, arrow.target.subnet_id))
        why = pair.reason if pair is not None else ""
        tip = (
            f"{arrow.route_table} sends {arrow.destination} to {arrow.gateway}: "
            f"{_label(arrow.source)} -> {_label(arrow.target)}, {LEGEND[arrow.state]}"
            + (f" ({why})" if arrow.state != OK and why else "")
        )
        return (
            f'<path class="om-route om-{arrow.state}" d="{path}" fill="none"{_stroke(arrow.state)}'
            + _attrs(
                data_state=arrow.state,
                data_route_table=arrow.route_table,
                data_destination=arrow.destination,
                data_source=arrow.source.subnet_id,
                data_target=arrow.target.subnet_id,
            )
            + f"><title>{esc(tip)}</title></path>"
        )

    # -- the text --------------------------------------------------------------------------------
    def header(self, compact: bool = False) -> str:
        vpc, topology = self.vpc, self.topology
        outposts = len(self.layout.outposts)
        subnets = sum(len(s) for s in self.layout.subnets.values())
        in_region = sum(1 for s in topology.subnets if not s.on_outpost)
        verification = vpc.verification
        facts = [
            f"{subnets} Outpost subnet(s) on {outposts} Outpost(s)",
            f"{len(self.arrows) + len(self.undrawn)} LGW route(s)",
            f"{verification.reachable} of {len(verification.expected)} pair(s) reachable",
            f"{len(vpc.broken)} broken",
        ]
        if vpc.held:
            facts.append(f"{len(vpc.held)} held")
        if vpc.pending:
            facts.append(f"{len(vpc.pending)} change(s) wait for approval")
        if in_region:
            facts.append(f"{in_region} In-Region subnet(s) not drawn")
        title = topology.vpc_id + (f" ({vpc.name})" if vpc.name else "")
        note = (
            '<p class="om-note">Too large to draw subnet by subnet here: Outposts and route '
            f"counts. {esc(f'outpost-mesh graph --vpc {topology.vpc_id} --format html')} draws "
            "it whole.</p>"
            if compact
            else ""
        )
        return (
            f'<section class="om-vpc{" om-compact" if compact else ""}"'
            f"{_attrs(data_vpc_id=topology.vpc_id)}>"
            f"<h2>VPC {esc(title)} <small>{esc(', '.join(topology.vpc_cidrs))}</small></h2>"
            f'<p class="om-facts">{esc(" · ".join(facts))}</p>{note}'
        )

    def lists(self) -> str:
        vpc_id = self.topology.vpc_id
        names = {s.subnet_id: _label(s) for s in self.topology.subnets}
        broken = self.vpc.verification.broken
        parts = [
            _listing(
                "om-broken-pairs",
                "Broken pairs",
                [
                    (
                        f"{names.get(p.source_subnet_id, p.source_subnet_id)} -> "
                        f"{names.get(p.destination_subnet_id, p.destination_subnet_id)}: "
                        f"{p.reason}",
                        {"data_source": p.source_subnet_id, "data_target": p.destination_subnet_id},
                    )
                    for p in broken
                ],
                vpc_id,
            ),
            _listing(
                "om-other-routes",
                "LGW routes not drawn",
                [
                    (
                        f"{table.route_table_id}: {destination} -> {gateway} ({why})",
                        {"data_route_table": table.route_table_id, "data_destination": destination},
                    )
                    for table, destination, gateway, why in self.undrawn
                ],
                vpc_id,
            ),
            _listing(
                "om-pending-approval",
                "Waiting for approval (outpost-mesh approve / reject --vpc " + vpc_id + ")",
                [(key, {"data_change": key}) for key in self.vpc.pending],
                vpc_id,
            ),
            _listing(
                "om-findings",
                "Open findings",
                [
                    (
                        f"{f.kind}: {f.subject}: {clip(f.message, MESSAGE_CHARS)}",
                        {"data_kind": str(f.kind)},
                    )
                    for f in self.vpc.findings
                ],
                vpc_id,
            ),
        ]
        return "".join(parts)

    def full(self) -> str:
        return self.header() + self.svg() + self.lists() + "</section>"

    def compact(self) -> str:
        """Outpost by Outpost: one box per Outpost, one arrow per Outpost pair with routes."""
        layout = _Layout(self.layout.outposts, {o: [] for o in self.layout.outposts})
        groups: dict[tuple[str, str], list[Arrow]] = {}
        for arrow in self.arrows:
            key = (arrow.source.outpost_arn or "", arrow.target.outpost_arn or "")
            groups.setdefault(key, []).append(arrow)
        width = layout.width
        height = PAD * 2 + HEADER_H + (len(groups) + 2) * 18
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img">'
        ]
        for column, outpost in enumerate(layout.outposts):
            parts.append(self._outpost(layout, column, outpost))
            parts.append(
                f'<text x="{layout.x(column) + 8}" y="{PAD + HEADER_H + 14}" font-size="11">'
                f"{len(self.layout.subnets[outpost])} subnet(s)</text>"
            )
        for index, ((source, target), arrows) in enumerate(sorted(groups.items())):
            routes = len({(a.route_table, a.destination) for a in arrows})
            broken = len({a for a in arrows if a.state == BROKEN})
            state = max((a.state for a in arrows), key=list(STROKES).index)
            xa = layout.x(layout.column(source)) + COL_W // 2
            xb = layout.x(layout.column(target)) + COL_W // 2
            y = PAD * 2 + HEADER_H + (index + 2) * 18
            parts.append(
                f'<g class="om-route-group"{_attrs(data_state=state, data_source_outpost=source)}'
                f"{_attrs(data_target_outpost=target, data_routes=routes, data_broken=broken)}>"
                f'<path d="M{xa} {y} H{xb}" fill="none"{_stroke(state)}/>'
                f'<text x="{min(xa, xb) + 8}" y="{y - 4}" font-size="11">'
                f"{routes} LGW route(s), {broken} broken pair(s)</text></g>"
            )
        parts.append("</svg>")
        return self.header(compact=True) + "".join(parts) + self.lists() + "</section>"


def _stroke(state: str) -> str:
    """An arrow's stroke attributes (not CSS: a console that drops the style element keeps them)."""
    color, dash = STROKES[state]
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return f' stroke="{color}" stroke-width="1.6"{dashes} marker-end="url(#om-arrow-{state})"'


def _listing(
    css: str, heading: str, items: Sequence[tuple[str, Mapping[str, object]]], vpc_id: str
) -> str:
    if not items:
        return ""
    kept, left_out = first(items, MESH_MAP_LISTED)
    lines = [f"<li{_attrs(**attrs)}>{esc(text)}</li>" for text, attrs in kept]
    if left_out:
        lines.append(f'<li class="om-more">{esc(more(left_out, vpc_id))}</li>')
    return f'<h3>{esc(heading)}</h3><ul class="{css}">{"".join(lines)}</ul>'


# -- the page ------------------------------------------------------------------------------------
_STYLE = (
    "<style>"
    ".om-map{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "font-size:13px;color:#16191f}"
    ".om-map h2{font-size:15px;margin:14px 0 2px}.om-map h2 small{font-weight:400;color:#5f6b7a}"
    ".om-map h3{font-size:13px;margin:8px 0 2px}"
    ".om-map .om-facts,.om-map .om-note{margin:0 0 6px;color:#414d5c}"
    ".om-map svg{display:block;max-width:none;font-size:12px}"
    ".om-map ul{margin:2px 0 8px 18px;padding:0}"
    ".om-map .om-broken-pairs li{color:#c00000}"
    ".om-map .om-legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 4px}"
    ".om-map .om-legend svg{display:inline-block;vertical-align:middle}"
    "</style>"
)


def _markers() -> str:
    """The arrowheads, once per page (an SVG with no size; the others refer to them)."""
    marks = "".join(
        f'<marker id="om-arrow-{state}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" '
        f'fill="{color}"/></marker>'
        for state, (color, _) in STROKES.items()
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" aria-hidden="true" '
        f'style="position:absolute"><defs>{marks}</defs></svg>'
    )


def _legend() -> str:
    entries = []
    for state in (OK, BROKEN, HELD, PARTIAL):
        entries.append(
            f'<span class="om-legend-{state}"><svg xmlns="http://www.w3.org/2000/svg" '
            f'width="40" height="10"><path d="M2 5 H34" fill="none"{_stroke(state)}/></svg> '
            f"{esc(LEGEND[state])}</span>"
        )
    return f'<div class="om-legend">{"".join(entries)}</div>'


def _cost(text: str) -> int:
    """Bytes ``text`` adds to the JSON string a Lambda response carries it in."""
    return json_size(text) - 2


def _more_vpcs(left_out: int) -> str:
    return (
        f'<p class="om-more"{_attrs(data_left_out=left_out)}>'
        f"{esc(f'and {left_out:,} more VPCs: outpost-mesh status')}</p>"
    )


def render_fragment(maps: Sequence[VpcMap], *, max_bytes: int | None = MESH_MAP_BYTES) -> str:
    """The map as an HTML fragment (a style element and one ``div``), what the custom widget
    returns: VPCs with broken pairs first, then by id. ``max_bytes``: the most the fragment may
    weigh as a JSON string (the Lambda response); None draws every VPC whole."""
    ordered = sorted(maps, key=lambda m: (not m.broken, m.topology.vpc_id))
    head = _STYLE + '<div class="om-map">' + _markers() + _legend()
    tail = "</div>"
    if not ordered:
        return head + '<p class="om-note">No managed VPC with an Outpost subnet.</p>' + tail
    parts = [head]
    room = None if max_bytes is None else max_bytes - 2 - _cost(head + tail + _more_vpcs(10**9))
    drawn = 0
    for vpc in ordered:
        drawing = _VpcDrawing(vpc)
        section = drawing.full()
        if room is not None and _cost(section) > room:
            section = drawing.compact()
            if _cost(section) > room:
                break
        parts.append(section)
        drawn += 1
        if room is not None:
            room -= _cost(section)
    if drawn < len(ordered):
        parts.append(_more_vpcs(len(ordered) - drawn))
    return "".join(parts) + tail


def render_html(maps: Sequence[VpcMap], *, title: str = TITLE, max_bytes: int | None = None) -> str:
    """The map as a whole HTML document (what ``outpost-mesh graph --format html`` writes):
    :func:`render_fragment` in a page with a title; every VPC drawn whole unless ``max_bytes``."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)}</title></head><body style="font-family:system-ui,sans-serif">'
        f"<h1>{esc(title)}</h1>"
        f"{render_fragment(maps, max_bytes=max_bytes)}</body></html>\n"
    )
