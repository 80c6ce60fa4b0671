#!/usr/bin/env python3
"""docs/mesh-map.png: the dashboard's mesh map of a sandbox VPC, as headless Chromium draws it.

``make mesh-map-image`` runs this. In an in-process sandbox it seeds scenarios/three-racks.yaml,
meshes the VPC through the CLI's path (the same rules as the workflow), then makes one pair
broken the way an operator meets it (a person deletes rack-c's VPC association: the routes stay,
the traffic has nowhere to go) and leaves one change waiting for approval, renders the page
``outpost-mesh graph --format html`` writes (``outpost_mesh.mesh_map``) and has Debian's
``chromium`` screenshot it. The README shows the result. Offline; needs chromium on PATH
(``make install`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from outpost_mesh.apply import Applier
from outpost_mesh.approval import ApprovalPolicy, gate, request
from outpost_mesh.ledger import LedgerStore, create_table
from outpost_mesh.mesh_map import render_html, vpc_map
from outpost_mesh.model import ApprovalStatus
from outpost_mesh.observe import observe_vpc
from outpost_mesh.reconcile import reconcile_vpc
from outpost_mesh.service import ReconcileService
from outpost_mesh.settings import Settings
from outpost_mesh_sandbox.aws.server import Sandbox
from outpost_mesh_sandbox.scenario import load_scenario
from outpost_mesh_sandbox.scenario.seed import seed_and_run_steps

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "mesh-map.png"
TABLE = "outpost-mesh-ledger"
WINDOW = "1280,900"


def page() -> str:
    with Sandbox() as sb:
        ids = seed_and_run_steps(
            load_scenario(ROOT / "scenarios" / "three-racks.yaml"),
            sb.client("ec2", caller="scenario"),
            sb.control,
        )
        ec2 = sb.client("ec2", caller="pipeline")
        create_table(sb.client("dynamodb"), TABLE)
        store = LedgerStore(sb.client("dynamodb"), TABLE)
        svc = ReconcileService(Settings(table=TABLE), ec2=ec2, store=store)
        vpc = ids.vpc_id("plant")
        reconcile_vpc(
            svc,
            vpc,
            owner="cli:docs",
            applier_factory=lambda: Applier(ec2, store, "cli:docs", sleep=lambda _s: None),
        )
        person = sb.client("ec2", caller="scenario")
        lgw_rtb = ids.outpost("rack-c").local_gateway_route_table_id
        (association,) = [
            a
            for a in person.describe_local_gateway_route_table_vpc_associations(
                Filters=[{"Name": "vpc-id", "Values": [vpc]}]
            )["LocalGatewayRouteTableVpcAssociations"]
            if a["LocalGatewayRouteTableId"] == lgw_rtb and a["State"] == "associated"
        ]
        person.delete_local_gateway_route_table_vpc_association(
            LocalGatewayRouteTableVpcAssociationId=association[
                "LocalGatewayRouteTableVpcAssociationId"
            ]
        )
        # a fourth subnet on rack-a, whose routes wait for approval (ApprovalMode all)
        zone = person.describe_subnets(SubnetIds=[ids.subnet_id("subnet-a1")])["Subnets"][0]
        new = person.create_subnet(
            VpcId=vpc,
            CidrBlock="10.20.4.0/24",
            OutpostArn=ids.outpost("rack-a").outpost_arn,
            AvailabilityZone=zone["AvailabilityZone"],
        )["Subnet"]["SubnetId"]
        person.associate_route_table(RouteTableId=ids.route_table_id("rt-a"), SubnetId=new)
        person.create_tags(Resources=[new], Tags=[{"Key": "Name", "Value": "subnet-a4"}])
        topology = observe_vpc(ec2, vpc)
        plan = svc.plan_topology(topology, store.load(vpc), frozenset())
        waiting = gate(plan, topology, ApprovalPolicy("all"), None, "sweep-docs").waiting
        assert waiting is not None
        approval = request("sweep-docs", waiting)
        shown = vpc_map(
            topology,
            name="plant",
            approval=replace(approval, status=ApprovalStatus.WAITING),
            findings=store.open_findings(vpc),
        )
        return render_html([shown])


def main() -> int:
    chromium = shutil.which("chromium")
    if chromium is None:
        print("mesh-map-image: chromium is not installed (make install does it)", file=sys.stderr)
        return 1
    html = page()
    with tempfile.TemporaryDirectory(prefix="outpost-mesh-docs-") as work:
        path = Path(work) / "mesh-map.html"
        path.write_text(html, encoding="ascii")
        shot = Path(work) / "mesh-map.png"
        done = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",  # root in a container: Chromium's own sandbox cannot start
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                f"--user-data-dir={work}/profile",
                f"--window-size={WINDOW}",
                f"--screenshot={shot}",
                path.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0 or not shot.is_file():
            print(f"mesh-map-image: chromium failed: {done.stderr[-500:]}", file=sys.stderr)
            return 1
        shutil.copyfile(shot, OUT)
    print(f"mesh-map-image: {OUT.relative_to(ROOT)} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
