"""``outpost-mesh events render --out DIR``: the events/ samples with a running sandbox's ids.

The samples in events/ carry made-up ids (one VPC; Outpost B's subnet, its route table and LGW,
meshing towards Outpost A's subnet: ``SAMPLE``). Rendered, each made-up id is replaced by the id of
the thing that plays its role in a VPC found through the endpoint (Describe calls only): the first
VPC, by Name tag then id, with Outpost subnets on two Outposts (or ``--vpc``). Outposts and subnets
are taken in the order of their subnets' Name tags (then ids): A is the first subnet's Outpost, B
the next Outpost. An id whose thing does not exist (the VPC not yet associated with B's LGW route
table; the association a ReplaceRouteTableAssociation would create) stays made up, and is named.

The tracked samples are never written over: ``--out`` inside events/ is refused.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outpost_mesh_cli.aws import AwsContext, CliError
from outpost_mesh_cli.command import parse_vpc_id

#: The made-up ids of events/*.json, by the role each plays.
SAMPLE = {
    "vpc": "vpc-0a1b2c3d4e5f60718",
    "account": "123456789012",
    "outpost_b": "arn:aws:outposts:us-east-1:123456789012:outpost/op-0f9e8d7c6b5a40312",
    "local_gateway_b": "lgw-0f9e8d7c6b5a40313",
    "lgw_route_table_b": "lgw-rtb-0f9e8d7c6b5a40314",
    "lgw_association_b": "lgw-vpc-assoc-0f9e8d7c6b5a40315",
    "subnet_a": "subnet-0c2d3e4f5a6b70819",
    "cidr_a": "10.0.1.0/24",
    "subnet_b": "subnet-0b1c2d3e4f5a60718",  # created in the legacy CreateSubnet sample
    "cidr_b": "10.0.2.0/24",
    "subnet_b2": "subnet-0a9b8c7d6e5f40321",  # created in the wrapped CreateSubnet sample
    "cidr_b2": "10.0.3.0/24",
    "availability_zone": "us-east-1a",
    "availability_zone_id": "use1-az1",
    "route_table_b": "rtb-0e4f5a6b7c8d90a1b",
    "route_table_association_b": "rtbassoc-0a1b2c3d4e5f60723",
    "route_table_other": "rtb-0d3e4f5a6b7c80910",  # where the replace sample moves subnet B
    "route_table_association_new": "rtbassoc-0f9e8d7c6b5a40324",  # made by that replace
}
SAMPLE_REGION = "us-east-1"
# The region as a token of its own (in ARNs and host names), not the start of an AZ's name.
_REGION = re.compile(re.escape(SAMPLE_REGION) + r"(?![a-z0-9])")
ENV_FILE = "env.json"  # in events/, not a sample


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    del common  # --output, --table and --stack mean nothing here
    events = sub.add_parser("events", help="the events/ samples", description="the events/ samples")
    actions = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    text = (
        "write the events/ samples with the ids of a VPC found through --endpoint-url (a running "
        "sandbox) into a folder of your choice, never over events/"
    )
    render = actions.add_parser("render", help=text, description=text)
    render.add_argument("--out", required=True, metavar="DIR", help="folder to write them to")
    render.add_argument(
        "--vpc",
        type=parse_vpc_id,
        metavar="ID",
        help="the VPC to take ids from (default: the first with two racks)",
    )
    render.add_argument("--endpoint-url", help="AWS endpoint, e.g. the sandbox's")
    render.add_argument("--region", help="AWS region (else AWS_REGION / the profile's)")
    render.add_argument("--profile", help="named AWS profile")
    render.set_defaults(func=cmd_render)


@dataclass(frozen=True)
class Rendered:
    ids: dict[str, str]  # role -> the real id found
    made_up: list[str]  # roles left with the sample's id
    region: str

    def text(self, sample: str) -> str:
        """``sample`` with every made-up id of a found role replaced, in one pass."""
        known = {SAMPLE[role]: real for role, real in self.ids.items()}
        literals = sorted(known, key=len, reverse=True)
        pattern = re.compile("|".join([*map(re.escape, literals), _REGION.pattern]))

        def one(match: re.Match[str]) -> str:
            return known.get(match.group(0), self.region)

        return pattern.sub(one, sample)


def _name(tags: Any, fallback: str) -> str:
    return next((t["Value"] for t in tags or [] if t.get("Key") == "Name"), "") or fallback


def _vpc_ids(ec2: Any) -> list[str]:
    vpcs = [v for page in ec2.get_paginator("describe_vpcs").paginate() for v in page["Vpcs"]]
    return [v["VpcId"] for v in sorted(vpcs, key=lambda v: (_name(v.get("Tags"), ""), v["VpcId"]))]


def find_ids(ec2: Any, vpc_id: str | None, region: str) -> Rendered:
    """The real id of every role in ``SAMPLE``, from the VPC given or the first that fits."""
    from outpost_mesh.domains import choose_domain
    from outpost_mesh.observe import observe_vpc

    for candidate in [vpc_id] if vpc_id else _vpc_ids(ec2):
        topology = observe_vpc(ec2, candidate)
        subnets = sorted(
            (s for s in topology.subnets if s.outpost_arn and s.cidr),
            key=lambda s: (s.name or "", s.subnet_id),
        )
        racks = list(dict.fromkeys(s.outpost_arn for s in subnets))
        if len(racks) >= 2:
            break
    else:
        where = f"VPC {vpc_id}" if vpc_id else "no VPC"
        raise CliError(f"{where} has Outpost subnets on two Outposts: nothing to render from")
    on_a = [s for s in subnets if s.outpost_arn == racks[0]]
    on_b = [s for s in subnets if s.outpost_arn == racks[1]]
    a, b, b2 = on_a[0], on_b[0], on_b[min(1, len(on_b) - 1)]
    ids = {
        "vpc": topology.vpc_id,
        "outpost_b": str(b.outpost_arn),
        "subnet_a": a.subnet_id,
        "cidr_a": str(a.cidr),
        "subnet_b": b.subnet_id,
        "cidr_b": str(b.cidr),
        "subnet_b2": b2.subnet_id,
        "cidr_b2": str(b2.cidr),
    }
    if topology.owner_id:
        ids["account"] = topology.owner_id
    raw = ec2.describe_subnets(SubnetIds=[b.subnet_id])["Subnets"][0]
    ids["availability_zone"] = raw["AvailabilityZone"]
    if raw.get("AvailabilityZoneId"):
        ids["availability_zone_id"] = raw["AvailabilityZoneId"]
    table = topology.effective_route_table(b.subnet_id)
    if table is not None:
        ids["route_table_b"] = table.route_table_id
        others = [t for t in topology.route_tables if t.route_table_id != table.route_table_id]
        others.sort(key=lambda t: (not t.main, t.route_table_id))  # the main table first
        if others:
            ids["route_table_other"] = others[0].route_table_id
    found = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [b.subnet_id]}]
    )["RouteTables"]
    for association in (a for t in found for a in t.get("Associations", [])):
        if association.get("SubnetId") == b.subnet_id:
            ids["route_table_association_b"] = association["RouteTableAssociationId"]
    domain = choose_domain(topology, str(b.outpost_arn)).table or next(
        (t for t in topology.lgw_route_tables if t.outpost_arn == b.outpost_arn), None
    )
    if domain is not None:
        ids["local_gateway_b"] = domain.local_gateway_id
        ids["lgw_route_table_b"] = domain.route_table_id
        association = topology.association_for(domain.route_table_id)
        if association is not None:
            ids["lgw_association_b"] = association.association_id
    return Rendered(ids, [role for role in SAMPLE if role not in ids], region)


def render(rendered: Rendered, samples: Path, out: Path) -> list[Path]:
    """Every sample of ``samples`` rendered into ``out`` (made if missing); what was written."""
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(samples.glob("*.json")):
        if path.name == ENV_FILE:
            continue
        text = rendered.text(path.read_text(encoding="utf-8"))
        json.loads(text)  # a replacement that broke a sample would fail here, not in a handler
        target = out / path.name
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def _refuse_tracked(out: Path, samples: Path) -> None:
    resolved, tracked = out.resolve(), samples.resolve()
    if resolved == tracked or tracked in resolved.parents:
        raise CliError(
            f"refusing to write into {samples}: those are the tracked samples (made-up ids); "
            "pass --out with a folder outside it"
        )


def cmd_render(args: argparse.Namespace) -> int:
    from outpost_mesh_sandbox.stack.template import TemplateError, find_root

    try:
        samples = find_root() / "events"
    except TemplateError as error:
        raise CliError(str(error)) from error
    out = Path(args.out)
    _refuse_tracked(out, samples)
    ctx = AwsContext(args.region, args.profile, args.endpoint_url, None)
    rendered = find_ids(ctx.client("ec2"), args.vpc, str(ctx.session.region_name))
    try:
        written = render(rendered, samples, out)
    except OSError as error:
        raise CliError(f"cannot write {out}: {error.strerror or error}") from error
    print(f"wrote {len(written)} samples to {out}")
    for role, real in rendered.ids.items():
        if real != SAMPLE[role]:
            print(f"  {role:<28} {SAMPLE[role]} -> {real}")
    for role in rendered.made_up:
        print(f"  {role:<28} {SAMPLE[role]} (left made up: nothing plays it yet)")
    return 0
