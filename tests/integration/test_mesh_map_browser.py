"""The mesh map in a real browser.

The dashboard's custom widget (MeshMapFunction, the real handler in the sandbox's stack) draws the
sandbox's blog scenario and its three-rack scenario, meshed through the CLI path and then broken
on purpose (an LGW route table's VPC association deleted by a person: the routes stay, the pairs
leaving that rack are unreachable). Headless Chromium -- Debian's ``chromium`` package, which
``make install`` installs; never a browser downloaded by Playwright or puppeteer -- loads each
page from a file and dumps the DOM it built; the test reads that DOM: every Outpost subnet and
every LGW route is there, the broken pairs are marked, a Name tag holding markup is text (no
script element). Pages and screenshots are kept under reports/mesh-map/ (git-ignored).

Without Chromium the tests fail, saying how to install it: they never skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from outpost_mesh.ledger import LedgerStore
from outpost_mesh.mesh_map import render_html, vpc_map
from outpost_mesh.model import Topology
from outpost_mesh.observe import FLEET_PAGE_SIZES, observe_vpc
from outpost_mesh.verify import reachability
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario.ids import IdMap
from outpost_mesh_sandbox.stack.pipeline import SandboxPipeline

from .support import reconcile, seeded

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports" / "mesh-map"
INSTALL = "apt-get update && apt-get install -y chromium (Debian's package; `make install` does it)"
BROWSER_SECONDS = 120
# A Name tag a person could write: shown as text, never run.
HOSTILE_NAME = "<script>document.title='owned'</script><b>rack b</b>"
# The EC2 actions of observe_fleet (one paginated Describe each for the whole Region).
FLEET_ACTIONS = {"".join(w.capitalize() for w in op.split("_")) for op in FLEET_PAGE_SIZES}


# -- the browser ----------------------------------------------------------------------------------
def find_chromium() -> str:
    """Chromium's path; without it the test fails with how to install it (never a skip)."""
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            f"chromium is not installed, so the mesh map cannot be checked in a browser: {INSTALL}",
            pytrace=False,
        )
    return found


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class DomReader(HTMLParser):
    """The elements of a dumped DOM in document order, each with its attributes and its text
    (its own and its descendants')."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


def browse(page: str, name: str) -> list[Element]:
    """``page`` loaded by headless Chromium from reports/mesh-map/NAME.html: the DOM it built
    (--dump-dom), and a screenshot (NAME.png) kept as the test's artifact."""
    chromium = find_chromium()
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"{name}.html"
    path.write_text(page, encoding="ascii")  # the page is ASCII: every other character a reference
    shot = REPORTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="outpost-mesh-chromium-") as profile:
        base = [
            chromium,
            "--headless",
            "--no-sandbox",  # root in a container: Chromium's own sandbox cannot start
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={profile}",
        ]
        dumped = subprocess.run(
            [*base, "--dump-dom", path.as_uri()],
            capture_output=True,
            text=True,
            timeout=BROWSER_SECONDS,
            check=False,
        )
        assert dumped.returncode == 0, dumped.stderr[-2000:]
        shown = subprocess.run(
            [*base, "--window-size=1700,1000", f"--screenshot={shot}", path.as_uri()],
            capture_output=True,
            text=True,
            timeout=BROWSER_SECONDS,
            check=False,
        )
        assert shown.returncode == 0, shown.stderr[-2000:]
    assert shot.stat().st_size > 0
    reader = DomReader()
    reader.feed(dumped.stdout)
    return reader.elements


# -- what the DOM must show -----------------------------------------------------------------------
def lgw_routes(topology: Topology) -> set[tuple[str, str]]:
    """(route table, destination) of every route targeting one of the VPC's LGWs."""
    gateways = {g.local_gateway_id for g in topology.lgw_route_tables}
    return {
        (table.route_table_id, route.destination)
        for table in topology.route_tables
        for route in table.routes
        if route.target in gateways
    }


def assert_drawn(dom: list[Element], topologies: list[Topology]) -> dict[tuple[str, str], Element]:
    """Every VPC has its section, every Outpost subnet its box and every LGW route an arrow (or
    a line under the picture), and nothing else is drawn; returns the arrows by (from, to)."""
    sections = [e.attrs["data-vpc-id"] for e in dom if "om-vpc" in e.classes]
    assert sorted(sections) == sorted(t.vpc_id for t in topologies)
    boxes = {e.attrs["data-subnet-id"] for e in dom if "om-subnet" in e.classes}
    wanted = {s.subnet_id for t in topologies for s in t.subnets if s.on_outpost}
    assert boxes == wanted
    arrows = [e for e in dom if "om-route" in e.classes]
    shown = {
        (e.attrs["data-route-table"], e.attrs["data-destination"])
        for e in dom
        if "data-route-table" in e.attrs
    }
    routes = set().union(*(lgw_routes(t) for t in topologies))
    assert routes and shown == routes
    for arrow in arrows:
        assert arrow.tag == "path" and arrow.attrs["d"].startswith("M"), arrow
    return {(e.attrs["data-source"], e.attrs["data-target"]): e for e in arrows}


def assert_marked_broken(arrow: Element) -> None:
    assert arrow.attrs["data-state"] == "broken"
    assert "om-broken" in arrow.classes
    assert arrow.attrs["stroke"] == "#c00000" and arrow.attrs["stroke-dasharray"]


def broken_listed(dom: list[Element]) -> set[tuple[str, str]]:
    """The pairs listed under "Broken pairs" (the only list items naming a pair)."""
    items = [e for e in dom if e.tag == "li" and "data-source" in e.attrs]
    return {(e.attrs["data-source"], e.attrs["data-target"]) for e in items}


# -- the sandbox ---------------------------------------------------------------------------------
@pytest.fixture
def pipeline(sb: Sandbox) -> Iterator[SandboxPipeline]:
    """The stack of template.yaml in the sandbox, MeshMapFunction with it."""
    with SandboxPipeline(sb) as deployed:
        yield deployed


def widget(sb: Sandbox, pipeline: SandboxPipeline) -> tuple[str, dict[str, int]]:
    """The custom widget's call (events/mesh_map.json) to the stack's MeshMapFunction: its page,
    and the calls it made to AWS ("ec2:Action" / "dynamodb:Action": count)."""
    mark = max((c.seq for c in sb.control.calls()), default=0)
    event = json.loads((ROOT / "events" / "mesh_map.json").read_text(encoding="utf-8"))
    done = pipeline.seam.invoke("MeshMapFunction", event)
    assert done.ok, f"{done.error_type}: {done.error_message}"
    calls: dict[str, int] = {}
    for call in sb.control.calls(since=mark):
        if call.caller != "scenario":
            key = f"{call.service}:{call.action}"
            calls[key] = calls.get(key, 0) + 1
    assert isinstance(done.payload, str)
    return done.payload, calls


def disassociate(sb: Sandbox, vpc_id: str, lgw_route_table_id: str) -> None:
    """A person deletes the VPC's association with an LGW route table (routes stay)."""
    person = sb.client("ec2", caller="scenario")
    found = person.describe_local_gateway_route_table_vpc_associations(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "local-gateway-route-table-id", "Values": [lgw_route_table_id]},
        ]
    )["LocalGatewayRouteTableVpcAssociations"]
    (association,) = [a for a in found if a["State"] == "associated"]
    person.delete_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableVpcAssociationId=association["LocalGatewayRouteTableVpcAssociationId"]
    )


def second_vpc(sb: Sandbox, ids: IdMap) -> str:
    """Another VPC over the blog's racks, one subnet on each in a table of its own."""
    person = sb.client("ec2", caller="scenario")
    vpc = person.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    for index, rack in enumerate(("rack-a", "rack-b")):
        subnet = person.create_subnet(
            VpcId=vpc,
            CidrBlock=f"10.8.{index}.0/24",
            OutpostArn=ids.outpost(rack).outpost_arn,
            AvailabilityZone=ids.subnet_availability_zone(rack),
            TagSpecifications=[
                {"ResourceType": "subnet", "Tags": [{"Key": "Name", "Value": f"batch-{rack}"}]}
            ],
        )["Subnet"]["SubnetId"]
        table = person.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        person.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return vpc


# -- the tests -----------------------------------------------------------------------------------
def test_blog_in_chromium_every_subnet_and_route_drawn_the_broken_pair_marked(
    sb: Sandbox, pipeline: SandboxPipeline
) -> None:
    ids = seeded(sb, "blog")
    app, batch = ids.vpc_id("app"), second_vpc(sb, ids)
    a, b = ids.subnet_id("subnet-a"), ids.subnet_id("subnet-b")
    person = sb.client("ec2", caller="scenario")
    person.create_tags(Resources=[b], Tags=[{"Key": "Name", "Value": HOSTILE_NAME}])
    ec2 = sb.client("ec2", caller="pipeline")
    store = LedgerStore(sb.client("dynamodb"), pipeline.table_name)
    for vpc in (app, batch):
        meshed = reconcile(ec2, store, vpc).reachability
        assert meshed and all(p.reachable for p in meshed)
    # rack-a's LGW route table leaves the VPC: a's route to b stays but leads nowhere
    disassociate(sb, app, ids.outpost("rack-a").local_gateway_route_table_id)
    topology = observe_vpc(ec2, app)
    assert {p.key: p.reachable for p in reachability(topology)} == {(a, b): False, (b, a): True}
    assert len(lgw_routes(topology)) == 2  # both routes are still there: the pair is broken

    page, calls = widget(sb, pipeline)

    # the fleet read once: one page of each of observe_fleet's Describes for both VPCs, and the
    # ledger's two Queries (the MANAGED partition, the fleet index); nothing else, nothing written
    assert calls == {**{f"ec2:{action}": 1 for action in FLEET_ACTIONS}, "dynamodb:Query": 2}
    dom = browse(page, "blog")
    arrows = assert_drawn(dom, [topology, observe_vpc(ec2, batch)])
    assert_marked_broken(arrows[(a, b)])
    assert arrows[(b, a)].attrs["data-state"] == "ok"
    assert {k for k, e in arrows.items() if e.attrs["data-state"] == "broken"} == {(a, b)}
    assert broken_listed(dom) == {(a, b)}
    assert next(e.attrs["data-vpc-id"] for e in dom if "om-vpc" in e.classes) == app  # worst first
    # the Name tag's markup is text: no script element, the tag shown as written
    assert not [e for e in dom if e.tag in ("script", "iframe", "img", "link")]
    (box,) = [e for e in dom if e.attrs.get("data-subnet-id") == b]
    assert HOSTILE_NAME in box.text
    assert "<b>" not in {e.tag for e in dom}


def test_three_racks_in_chromium_widget_and_page(sb: Sandbox, pipeline: SandboxPipeline) -> None:
    ids = seeded(sb, "three-racks")
    plant = ids.vpc_id("plant")
    ec2 = sb.client("ec2", caller="pipeline")
    store = LedgerStore(sb.client("dynamodb"), pipeline.table_name)
    meshed = reconcile(ec2, store, plant).reachability
    assert len(meshed) == 16 and all(p.reachable for p in meshed)  # 5 x 4, less 2 x 2 on one rack
    on_racks = [s for s in observe_vpc(ec2, plant).subnets if s.on_outpost]
    # rack-c's LGW route table leaves the VPC: c1's routes to the four others lead nowhere
    disassociate(sb, plant, ids.outpost("rack-c").local_gateway_route_table_id)
    topology = observe_vpc(ec2, plant)
    c1 = ids.subnet_id("subnet-c1")
    unreachable = {p.key for p in reachability(topology) if not p.reachable}
    assert unreachable == {(c1, s.subnet_id) for s in on_racks if s.subnet_id != c1}

    page, _ = widget(sb, pipeline)
    document = render_html([vpc_map(topology)])  # what `outpost-mesh graph --format html` writes

    for name, html in (("three-racks", page), ("three-racks-document", document)):
        dom = browse(html, name)
        arrows = assert_drawn(dom, [topology])
        for pair in unreachable:
            assert_marked_broken(arrows[pair])
        assert {k for k, e in arrows.items() if e.attrs["data-state"] == "broken"} == unreachable
        assert {k for k, e in arrows.items() if e.attrs["data-state"] == "ok"} == (
            set(arrows) - unreachable
        )
        assert broken_listed(dom) == unreachable
        # rack-a's two subnets share rt-a: one route per sibling, an arrow from each subnet
        rt_a = ids.route_table_id("rt-a")
        from_rt_a = {k[0] for k, e in arrows.items() if e.attrs["data-route-table"] == rt_a}
        assert from_rt_a == {ids.subnet_id("subnet-a1"), ids.subnet_id("subnet-a2")}
        assert len([e for e in dom if "om-outpost" in e.classes]) == 3
    titles = [e.text for e in dom if e.tag == "title"]
    assert titles[0] == "outpost-mesh: mesh map"


def test_without_chromium_the_browser_test_fails_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on it
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        find_chromium()
