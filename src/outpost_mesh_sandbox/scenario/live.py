"""A scenario's account as it stands at one point of its steps, and AWS's rules for a new route
there (:mod:`.rules` walks the document and keeps one :class:`Live` up to date)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from outpost_mesh_sandbox.scenario.model import MAIN_PREFIX, SubnetSpec, lgw_outpost

__all__ = ["Live", "LiveSubnet"]

IPv4 = ipaddress.IPv4Network


@dataclass
class LiveSubnet:
    spec: SubnetSpec
    network: IPv4
    explicit_table: str | None
    seeded: bool
    ipv6: ipaddress.IPv6Network | None = None


@dataclass
class Live:
    """What exists at the current point of the steps."""

    vpc_networks: dict[str, tuple[IPv4, ...]] = field(default_factory=dict)  # VPC -> CIDR blocks
    vpc_ipv6: dict[str, ipaddress.IPv6Network] = field(default_factory=dict)  # VPC -> its /56
    # VPC -> its main route table now: main:VPC (the one AWS made) until set_main_route_table
    main_tables: dict[str, str] = field(default_factory=dict)
    intra_vpc: dict[str, bool] = field(default_factory=dict)  # Outpost -> has the update
    subnets: dict[str, LiveSubnet] = field(default_factory=dict)  # live ones, by name
    ever: set[str] = field(default_factory=set)  # every subnet name seen so far
    deleted: set[str] = field(default_factory=set)  # seeded subnets deleted by a step

    def main_table(self, vpc: str) -> str:
        return self.main_tables.get(vpc, f"{MAIN_PREFIX}{vpc}")

    def served_by(self, table: str, vpc: str) -> list[LiveSubnet]:
        """The live subnets whose effective route table (explicit, else the VPC's main one now)
        is ``table`` (of ``vpc``)."""
        return [
            s
            for s in self.subnets.values()
            if s.spec.vpc == vpc and (s.explicit_table or self.main_table(vpc)) == table
        ]

    def route_problem(
        self, vpc: str, table: str, dest: IPv4, target: str
    ) -> tuple[str, str] | None:
        """Why AWS refuses this route now, as (``destination`` or ``target``, problem), or None."""
        outpost = lgw_outpost(target)
        for block in self.vpc_networks[vpc]:
            if dest == block:
                return "destination", (
                    f"{dest} is VPC {vpc}'s CIDR block: that is the local route, "
                    "which cannot be replaced"
                )
            if dest.subnet_of(block):
                owners = [
                    s.spec.name
                    for s in self.subnets.values()
                    if s.spec.vpc == vpc and s.network == dest
                ]
                if not owners:
                    return "destination", (
                        f"{dest} is more specific than VPC {vpc}'s CIDR {block}: AWS requires it "
                        f"to be exactly the CIDR of a subnet of {vpc}, and no subnet has it "
                        "at this point"
                    )
                if outpost is not None and not self.intra_vpc[outpost]:
                    return "target", (
                        f"{outpost} has intra_vpc: false, so AWS rejects an LGW route more "
                        f"specific than the VPC CIDR (InvalidParameterValue) for {dest}"
                    )
        if outpost is not None:
            strangers = [
                s.spec.name for s in self.served_by(table, vpc) if s.spec.outpost != outpost
            ]
            if strangers:
                return "target", (
                    f"{table} serves {', '.join(sorted(strangers))}, not on {outpost}: AWS lets a "
                    f"route target {outpost}'s LGW only in a table of that Outpost's subnets"
                )
        return None
