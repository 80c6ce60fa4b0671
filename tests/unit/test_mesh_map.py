"""The mesh map page, on plain data: what it draws, what it marks, what it escapes and how it
stays within what a CloudWatch custom widget may return (outpost_mesh.mesh_map)."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings

from outpost_mesh.ledger import FleetLedger
from outpost_mesh.limits import LAMBDA_RESPONSE_BYTES, MESH_MAP_BYTES, MESH_MAP_LISTED, json_size
from outpost_mesh.mesh_map import (
    LGW_ID_PREFIX,
    WidgetPage,
    WidgetRequest,
    fleet_maps,
    held_pairs,
    render_fragment,
    render_html,
    vpc_map,
)
from outpost_mesh.model import (
    Approval,
    ApprovalStatus,
    Finding,
    FindingKind,
    LocalGatewayRouteTable,
    Plan,
    Route,
    RouteChange,
    RouteTable,
    Subnet,
    Topology,
    VpcAssociation,
)
from outpost_mesh.observe import FleetObservation

from .strategies import topologies
from .test_verify import B_CIDR, VPC, association, meshed, rack

HOSTILE = "<script>alert('x')</script>\" onmouseover=\"alert(1)"


def arrows(page: str) -> dict[tuple[str, str], dict[str, str]]:
    """The page's route arrows by (from, to), each with its attributes."""
    found = {}
    for tag in re.findall(r'<path class="om-route[^>]*>', page):
        attrs = dict(re.findall(r'([a-z-]+)="([^"]*)"', tag))
        found[(attrs["data-source"], attrs["data-target"])] = attrs
    return found


class Elements(HTMLParser):
    """Every element's tag and attribute names, as a browser's parser reads the page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, [name for name, _ in attrs]))


def routes_shown(page: str) -> set[tuple[str, str]]:
    return set(re.findall(r'data-route-table="([^"]*)" data-destination="([^"]*)"', page))


def racks_mesh(vpc_id: str, racks: int, per_rack: int, second: int = 0) -> Topology:
    """``racks`` x ``per_rack`` subnets, a table each, fully meshed and associated."""
    cells = [(r, i) for r in range(racks) for i in range(per_rack)]
    cidr = {(r, i): f"10.{second}.{r * per_rack + i}.0/24" for r, i in cells}
    tables = [
        RouteTable(
            f"rtb-{vpc_id}-{r}-{i}",
            vpc_id,
            subnet_ids=(f"subnet-{vpc_id}-{r}-{i}",),
            routes=tuple(Route(cidr[c], f"lgw-{r}") for c in cells if c[0] != r),
        )
        for r, i in cells
    ]
    return Topology(
        vpc_id,
        (f"10.{second}.0.0/16",),
        tuple(
            Subnet(f"subnet-{vpc_id}-{r}-{i}", vpc_id, cidr[(r, i)], rack(str(r)), name=f"s{r}{i}")
            for r, i in cells
        ),
        (RouteTable(f"rtb-{vpc_id}-main", vpc_id, main=True), *tables),
        tuple(
            LocalGatewayRouteTable(rack(str(r)), f"lgw-{r}", f"lgw-rtb-{r}") for r in range(racks)
        ),
        tuple(
            VpcAssociation(f"assoc-{vpc_id}-{r}", f"lgw-rtb-{r}", vpc_id, "associated", f"lgw-{r}")
            for r in range(racks)
        ),
    )


# -- what is drawn and marked ------------------------------------------------------------------
def test_a_broken_pair_is_a_red_dashed_arrow_and_listed_the_other_direction_is_ok() -> None:
    # rack a's LGW route table is no longer associated: both routes stay, a -> b leads nowhere
    page = render_fragment([vpc_map(meshed(associations=(association("b"),)))])

    drawn = arrows(page)
    assert set(drawn) == {("subnet-a", "subnet-b"), ("subnet-b", "subnet-a")}
    broken = drawn[("subnet-a", "subnet-b")]
    assert (broken["data-state"], broken["stroke"], broken["stroke-dasharray"]) == (
        "broken",
        "#c00000",
        "6 4",
    )
    assert drawn[("subnet-b", "subnet-a")]["data-state"] == "ok"
    assert 'data-source="subnet-a" data-target="subnet-b">subnet-a -&gt; subnet-b: VPC not' in page
    assert "broken: routed both ways, unreachable" in page  # the legend


def test_a_route_one_way_only_is_not_broken() -> None:
    page = render_fragment([vpc_map(meshed(rt_b=()))])

    assert {k: v["data-state"] for k, v in arrows(page).items()} == {
        ("subnet-a", "subnet-b"): "partial"
    }
    assert '<ul class="om-broken-pairs"' not in page


def test_held_pairs_and_pending_approvals_have_their_slots() -> None:
    plan = Plan(
        VPC,
        routes_held=(RouteChange("rt-b", "10.7.7.0/24", "lgw-b", "subnet-a", ("subnet-b",)),),
    )
    keys = ("+route rt-a 10.7.99.0/24 lgw-a", "-route rt-b 10.7.7.0/24 lgw-b")
    waiting = Approval(VPC, "exec-1", ApprovalStatus.WAITING, "d", keys)
    page = render_fragment([vpc_map(meshed(), held=held_pairs(plan), approval=waiting)])

    assert held_pairs(plan) == {("subnet-b", "subnet-a")}
    states = {k: v["data-state"] for k, v in arrows(page).items()}
    assert states == {("subnet-a", "subnet-b"): "ok", ("subnet-b", "subnet-a"): "held"}
    assert "2 change(s) wait for approval" in page
    assert all(f'data-change="{key}"' in page for key in keys)
    assert "outpost-mesh approve / reject --vpc" in page
    assert "1 held" in page
    # an answered request is not shown as waiting
    answered = replace(waiting, status=ApprovalStatus.APPROVED)
    assert "wait for approval" not in render_fragment([vpc_map(meshed(), approval=answered)])


def test_a_table_serving_two_subnets_of_a_rack_draws_an_arrow_from_each() -> None:
    base = meshed()
    a2 = Subnet("subnet-a2", VPC, "10.7.8.0/24", rack("a"))
    tables = tuple(
        replace(t, subnet_ids=("subnet-a", "subnet-a2")) if t.route_table_id == "rt-a" else t
        for t in base.route_tables
    )
    topology = replace(base, subnets=(*base.subnets, a2), route_tables=tables)

    drawn = arrows(render_fragment([vpc_map(topology)]))

    assert {k for k, v in drawn.items() if v["data-route-table"] == "rt-a"} == {
        ("subnet-a", "subnet-b"),
        ("subnet-a2", "subnet-b"),
    }


def test_an_lgw_route_no_arrow_can_show_is_listed() -> None:
    topology = meshed(rt_a=((B_CIDR, "lgw-a"), ("10.7.99.0/24", "lgw-a")))

    page = render_fragment([vpc_map(topology)])

    assert ("rt-a", "10.7.99.0/24") in routes_shown(page)
    assert "rt-a: 10.7.99.0/24 -&gt; lgw-a (no Outpost subnet has this CIDR)" in page


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies())
def test_every_subnet_and_every_lgw_route_is_on_the_page(topology: Topology) -> None:
    page = render_fragment([vpc_map(topology)], max_bytes=None)

    boxes = set(re.findall(r'<g class="om-subnet[^"]*" data-subnet-id="([^"]*)"', page))
    assert boxes == {s.subnet_id for s in topology.subnets if s.on_outpost}
    lgw = [
        (t.route_table_id, r.destination)
        for t in topology.route_tables
        for r in t.routes
        if r.target.startswith(LGW_ID_PREFIX)
    ]
    listed = len(re.findall(r'<li data-route-table="', page))
    more = re.search(r'class="om-more">and (\d+) more', page)
    if listed < MESH_MAP_LISTED or more is None:
        assert routes_shown(page) == set(lgw)
    else:  # the undrawn ones past the list's length are counted
        assert routes_shown(page) <= set(lgw)
        assert len(routes_shown(page)) + int(more.group(1)) == len(set(lgw))
    for (source, target), attrs in arrows(page).items():
        table = topology.route_table(attrs["data-route-table"])
        assert table is not None
        assert source in {s.subnet_id for s in topology.served_subnets(table)}
        route = table.route_to(attrs["data-destination"])
        assert route is not None and route.target.startswith(LGW_ID_PREFIX)
        assert topology.subnet(target) is not None
        assert topology.subnet(target).cidr == route.destination  # type: ignore[union-attr]


# -- escaping and what the page may hold ------------------------------------------------------
def test_a_name_tag_with_markup_is_text_in_every_place_it_appears() -> None:
    base = meshed()
    named = tuple(
        replace(s, name=HOSTILE) if s.subnet_id == "subnet-b" else s for s in base.subnets
    )
    finding = Finding(FindingKind.CONFLICT, "rt-a", f"a route to {HOSTILE}")
    page = render_html(
        [vpc_map(replace(base, subnets=named), name=HOSTILE, findings=[finding])],
        title=HOSTILE,
    )

    parsed = Elements()
    parsed.feed(page)
    assert "script" not in {tag for tag, _ in parsed.found}
    assert not [name for _, attrs in parsed.found for name in attrs if name.startswith("on")]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot; onmouseover=&quot;" in page
    assert page.isascii()


def test_characters_beyond_ascii_are_references() -> None:
    base = meshed()
    named = tuple(replace(s, name="Zürich\u2028rack") for s in base.subnets)

    page = render_fragment([vpc_map(replace(base, subnets=named))])

    assert page.isascii()
    assert "Z&#252;rich&#8232;rack" in page


def test_the_page_loads_nothing_from_elsewhere() -> None:
    page = render_html([vpc_map(meshed(associations=(association("b"),)))])

    lowered = page.lower()
    for needle in ("<script", "<link", "<img", "<iframe", "<object", "@import", "src=", "href="):
        assert needle not in lowered, needle
    assert set(re.findall(r"url\(([^)]*)\)", page)) <= {
        f"#om-arrow-{state}" for state in ("ok", "broken", "held", "partial")
    }
    assert set(re.findall(r"https?://[^\"' ]+", page)) == {"http://www.w3.org/2000/svg"}


# -- bounded ------------------------------------------------------------------------------------
def test_the_widget_page_stays_within_its_limit_and_counts_the_vpcs_left_out() -> None:
    maps = [vpc_map(racks_mesh(f"vpc-{n:04d}", 2, 3, second=n % 250)) for n in range(400)]

    page = render_fragment(maps, max_bytes=200_000)

    assert json_size(page) <= 200_000
    drawn = re.findall(r'<section class="om-vpc" data-vpc-id="([^"]*)"', page)
    (left_out,) = re.findall(r'data-left-out="(\d+)">and ([\d,]+) more VPCs', page)
    assert 0 < len(drawn) < 400
    assert int(left_out[0]) == int(left_out[1].replace(",", "")) == 400 - len(drawn)
    assert "more VPCs: outpost-mesh status" in page
    assert drawn == sorted(drawn)  # none broken: by id


def test_the_widget_limit_is_far_under_lambda_s_response_limit() -> None:
    assert MESH_MAP_BYTES * 4 <= LAMBDA_RESPONSE_BYTES
    whole = [vpc_map(racks_mesh(f"vpc-{n:04d}", 3, 10, second=n)) for n in range(40)]
    assert json_size(render_fragment(whole)) <= MESH_MAP_BYTES


def test_a_vpc_too_large_to_draw_whole_is_drawn_outpost_by_outpost() -> None:
    big = racks_mesh("vpc-big", 2, 60)  # 7,200 routes
    routes = sum(len(t.routes) for t in big.route_tables)

    page = render_fragment([vpc_map(big)], max_bytes=100_000)

    assert json_size(page) <= 100_000
    assert 'class="om-vpc om-compact" data-vpc-id="vpc-big"' in page
    counted = [int(n) for n in re.findall(r'data-routes="(\d+)"', page)]
    assert sorted(counted) == [routes // 2, routes // 2]
    assert "outpost-mesh graph --vpc vpc-big --format html" in page
    assert json_size(render_fragment([vpc_map(big)], max_bytes=None)) > 100_000


def test_vpcs_with_broken_pairs_come_first() -> None:
    fine = vpc_map(racks_mesh("vpc-0001", 2, 1))
    broken = vpc_map(replace(meshed(associations=(association("b"),)), vpc_id="vpc-9999"))

    page = render_fragment([fine, broken])

    assert re.findall(r'data-vpc-id="([^"]*)"', page)[:2] == ["vpc-9999", "vpc-0001"]


# -- the fleet and the widget's request ------------------------------------------------------------
def test_fleet_maps_draw_the_managed_vpcs_with_something_there() -> None:
    meshed_vpc = racks_mesh("vpc-a", 2, 1)
    opted_out = racks_mesh("vpc-b", 2, 1, second=1)
    empty = Topology("vpc-c", ("10.2.0.0/16",), (), (), (), ())
    seen = FleetObservation(
        topologies={t.vpc_id: t for t in (meshed_vpc, opted_out, empty)},
        vpc_tags={"vpc-a": {"Name": "plant"}, "vpc-b": {"keep-out": "true"}},
        calls={},
    )
    finding = Finding(FindingKind.CONFLICT, "rtb-x", "a route of a person's")
    ledger = FleetLedger(
        ledgers={}, open_findings={"vpc-a": (finding,)}, managed=frozenset(), pages=2
    )

    maps = fleet_maps(seen, ledger, managed=lambda tags: "keep-out" not in tags)

    assert [(m.topology.vpc_id, m.name, m.findings) for m in maps] == [
        ("vpc-a", "plant", (finding,))
    ]


def test_the_widget_request_and_its_page() -> None:
    assert WidgetRequest.model_validate({"describe": True}).describe is True
    request = WidgetRequest.model_validate({"widgetContext": {"widgetId": "widget-16", "x": 1}})
    assert request.widget_context is not None and request.widget_context.widget_id == "widget-16"
    assert WidgetPage("<p>x</p>").model_dump(mode="json") == "<p>x</p>"
