"""The rules between a scenario file's parts, checked as the sandbox would meet them.

:mod:`.schema` has checked every value on its own; this module checks what depends on other parts
and builds the :class:`~.model.Scenario`. Validation follows the steps in order, as the sandbox
would see them: a subnet must exist (seeded, or created by an earlier step and not deleted since)
to be deleted, associated or named by a placeholder; a created subnet must not overlap a live one;
a route whose destination is more specific than a VPC CIDR must be exactly a live subnet's CIDR
(AWS's rule). What only the pipeline decides at run time (which routes it made) is not guessed.

Rules beyond the format's text, all AWS's or needed to keep the report unambiguous:

- names are unique per kind (VPCs, Outposts, route tables, subnets); a deleted subnet's name may
  be used again by a later ``create_subnet``;
- a VPC's CIDR blocks do not overlap; a subnet lies inside one of them and overlaps no live subnet;
- ``main:VPC`` names a main route table in steps only (``create_subnet``,
  ``associate_route_table``, ``add_route``, ``delete_route``) and in ``{{route_table:main:VPC}}``;
  seeded subnets omit ``route_table`` to use the main table; seeded routes live in custom tables;
- ``quiet`` given both beside the step's kind and inside its fields must agree;
- a network interface (``eni`` target) is created at seeding in a seeded subnet of the VPC that no
  step deletes (AWS refuses to delete a subnet holding an interface);
- AWS (as the sandbox plays it) refuses some LGW routes, so neither a seed nor an ``add_route``
  step may ask for one: more specific than the VPC CIDR on a rack with ``intra_vpc: false``, or in
  a table that serves, at that point, a subnet that is not on the LGW's Outpost;
- a subnet's ``ipv6_cidr`` is a /64 inside its VPC's ``ipv6_cidr`` (which it needs) and overlaps
  no live subnet's; ``associate_vpc_cidr`` adds an IPv4 block that overlaps none of the VPC's,
  within AWS's 5 blocks; ``set_main_route_table`` names a custom table of the VPC, which then
  serves every subnet without an explicit association;
- Outposts, LGW route tables and associations: :mod:`.lgw`;
- several accounts: ``account`` (on VPCs and Outposts; omitted: the first account) and
  ``shared_with`` name accounts of ``accounts`` (unique names), and only when it is given;
  an Outpost is not shared with its own account; a VPC's account puts a subnet on an Outpost,
  associates with its LGW route tables and routes to its LGW only if it owns the Outpost or has
  it shared (AWS refuses it otherwise). Route tables and subnets are their VPC's account's; names
  stay unique across accounts.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Mapping
from typing import NoReturn

from outpost_mesh_sandbox.scenario import schema
from outpost_mesh_sandbox.scenario.errors import ScenarioError, join, suggest
from outpost_mesh_sandbox.scenario.lgw import LgwRules
from outpost_mesh_sandbox.scenario.live import Live, LiveSubnet
from outpost_mesh_sandbox.scenario.model import (
    DEFAULT_ROUTES_PER_TABLE,
    MAIN_PREFIX,
    MAX_VPC_CIDR_BLOCKS,
    SIMPLE_TARGETS,
    AddRouteStep,
    AdvanceClockStep,
    AnswerStep,
    AssociateLgwRouteTableStep,
    AssociateRouteTableStep,
    AssociateVpcCidrStep,
    CallStep,
    CreateSubnetStep,
    DeleteRouteStep,
    DeleteSubnetStep,
    DisassociateLgwRouteTableStep,
    DisassociateRouteTableStep,
    EventStep,
    FailStep,
    LgwAssociationSpec,
    OutpostSpec,
    Quotas,
    ReleaseStep,
    RouteSpec,
    RouteTableSpec,
    Scenario,
    SetMainRouteTableStep,
    SettingsSpec,
    Step,
    SubnetSpec,
    SweepStep,
    TagStep,
    ThrottleSpec,
    TogetherStep,
    UntagStep,
    VpcSpec,
    lgw_outpost,
)
from outpost_mesh_sandbox.scenario.placeholders import check_event

__all__ = ["build"]

IPv4 = ipaddress.IPv4Network
IPv6 = ipaddress.IPv6Network


# Steps that change the account around the subnets: LGW associations, tags, blocks, main table.
_ACCOUNT_ARGS = (
    schema.LgwAssociationArgs,
    schema.TagArgs,
    schema.UntagArgs,
    schema.AssociateVpcCidrArgs,
    schema.SetMainRouteTableArgs,
)


def build(file: schema.ScenarioFile, source: str, name: str) -> Scenario:
    """The scenario a valid-typed document describes, or its first broken rule."""
    return _Rules(source).scenario(file, name)


class _Rules:
    def __init__(self, source: str) -> None:
        self.source = source
        self.vpcs: dict[str, VpcSpec] = {}
        self.lgw = LgwRules(self.fail)
        self.outposts = self.lgw.outposts
        self.tables: dict[str, RouteTableSpec] = {}
        self.state = Live()
        self.eni_uses: list[tuple[str, str]] = []  # (vpc, path of the target)
        self.accounts: dict[str, int] = {}  # account name -> its place in `accounts`

    def fail(self, path: str, problem: str) -> NoReturn:
        raise ScenarioError(self.source, path, problem)

    def unique(self, name: str, seen: Mapping[str, object], path: str, what: str) -> None:
        if name in seen:
            self.fail(path, f"duplicate {what} name {name!r}")

    def ref(self, name: str, path: str, known: Mapping[str, object], what: str) -> str:
        if name not in known:
            listing = ", ".join(sorted(known)) or "none defined"
            self.fail(path, f"unknown {what} {name!r}{suggest(name, known)}; known: {listing}")
        return name

    # -- the document --

    def scenario(self, file: schema.ScenarioFile, name: str) -> Scenario:
        # one line for a report's header, however the YAML folded it
        description = " ".join((file.description or "").split())
        limit = file.quotas.routes_per_table if file.quotas is not None else None
        quotas = Quotas(DEFAULT_ROUTES_PER_TABLE if limit is None else limit)
        for i, entry in enumerate(file.accounts or []):
            self.unique(entry.name, self.accounts, f"accounts[{i}].name", "account")
            self.accounts[entry.name] = i
        vpcs = tuple(self.vpc(item, f"vpcs[{i}]") for i, item in enumerate(file.vpcs))
        outposts = tuple(
            self.outpost(item, f"outposts[{i}]") for i, item in enumerate(file.outposts or [])
        )
        associations = tuple(
            self.lgw_association(item.vpc, item.lgw_route_table, f"lgw_associations[{i}]")
            for i, item in enumerate(file.lgw_associations or [])
        )
        table_items = file.route_tables or []
        for i, item in enumerate(table_items):  # names first: subnets refer to them
            self.table_header(item, f"route_tables[{i}]")
        subnets = tuple(
            self.seeded_subnet(item, f"subnets[{i}]") for i, item in enumerate(file.subnets or [])
        )
        tables = tuple(
            self.table_routes(item, f"route_tables[{i}]", quotas)
            for i, item in enumerate(table_items)
        )
        steps = tuple(self.step(item, f"steps[{i}]") for i, item in enumerate(file.steps or []))
        self.check_eni_hosts(subnets)
        throttle = None
        if file.throttle is not None:
            scale = file.throttle.time_scale
            throttle = ThrottleSpec(1.0 if scale is None else float(scale))
        settings = self.settings(file.settings, limit)
        return Scenario(
            name,
            description,
            vpcs,
            outposts,
            tables,
            subnets,
            quotas,
            steps,
            throttle,
            associations,
            settings,
            tuple(self.accounts),
        )

    @staticmethod
    def settings(entry: schema.SettingsEntry | None, routes_per_table: int | None) -> SettingsSpec:
        """The given settings; RoutesPerTableQuota defaults to ``quotas.routes_per_table``."""
        given = entry.model_dump(exclude_none=True) if entry is not None else {}
        if routes_per_table is not None:
            given.setdefault("routes_per_table_quota", routes_per_table)
        return SettingsSpec(**given)

    def vpc(self, entry: schema.VpcEntry, path: str) -> VpcSpec:
        self.unique(entry.name, self.vpcs, join(path, "name"), "VPC")
        networks = [IPv4(entry.cidr)]
        extra_path = join(path, "secondary_cidrs")
        for i, item in enumerate(entry.secondary_cidrs or []):
            network = IPv4(item)
            for other in networks:
                if network.overlaps(other):
                    self.fail(f"{extra_path}[{i}]", f"{network} overlaps the VPC's {other}")
            networks.append(network)
        spec = VpcSpec(
            entry.name,
            entry.cidr,
            tuple(str(n) for n in networks[1:]),
            entry.ipv6_cidr,
            tuple((entry.tags or {}).items()),
            self.account(entry.account, join(path, "account")),
        )
        self.vpcs[entry.name] = spec
        self.state.vpc_networks[entry.name] = tuple(networks)
        if entry.ipv6_cidr is not None:
            self.state.vpc_ipv6[entry.name] = IPv6(entry.ipv6_cidr)
        return spec

    def outpost(self, entry: schema.OutpostEntry, path: str) -> OutpostSpec:
        owner = self.account(entry.account, join(path, "account"))
        shared: list[str] = []
        for i, name in enumerate(entry.shared_with or []):
            item_path = f"{join(path, 'shared_with')}[{i}]"
            if self.account(name, item_path) == owner:
                self.fail(item_path, f"Outpost {entry.name} is account {owner}'s own")
            if name in shared:
                self.fail(item_path, f"account {name!r} is listed twice")
            shared.append(name)
        spec = dataclasses.replace(
            self.lgw.outpost(entry, path), account=owner, shared_with=tuple(shared)
        )
        self.outposts[spec.name] = spec
        self.state.intra_vpc[spec.name] = spec.intra_vpc
        return spec

    def account(self, name: str | None, path: str) -> str | None:
        """An ``account`` (or ``shared_with``) name, checked; omitted: the first account. None
        when the scenario lists no accounts (and then none may be named)."""
        if not self.accounts:
            if name is not None:
                self.fail(path, "names an account, but the scenario has no `accounts` list")
            return None
        if name is None:
            return next(iter(self.accounts))
        return self.ref(name, path, self.accounts, "account")

    def sees(self, vpc: str, outpost: str, path: str, what: str) -> None:
        """AWS refuses ``what`` on an Outpost the VPC's account neither owns nor has shared
        with it (RAM; docs/aws-facts.md, "Accounts and sharing")."""
        spec, account = self.outposts[outpost], self.vpcs[vpc].account
        if not spec.seen_by(account):
            self.fail(
                path,
                f"Outpost {outpost} is account {spec.account}'s and not shared with account "
                f"{account} (VPC {vpc}'s): AWS refuses {what} (list {account} in its "
                "shared_with)",
            )

    def lgw_association(self, vpc: str, table: str, path: str) -> LgwAssociationSpec:
        self.ref(vpc, join(path, "vpc"), self.vpcs, "VPC")
        table_path = join(path, "lgw_route_table")
        self.sees(vpc, self.lgw.table_ref(table, table_path), table_path, "the association")
        return self.lgw.associate(vpc, table, path)

    def table_header(self, entry: schema.RouteTableEntry, path: str) -> None:
        self.unique(entry.name, self.tables, join(path, "name"), "route table")
        vpc = self.ref(entry.vpc, join(path, "vpc"), self.vpcs, "VPC")
        tags = tuple((entry.tags or {}).items())
        self.tables[entry.name] = RouteTableSpec(entry.name, vpc, tags=tags)

    def table_routes(
        self, entry: schema.RouteTableEntry, path: str, quotas: Quotas
    ) -> RouteTableSpec:
        header = self.tables[entry.name]
        routes_path = join(path, "routes")
        items = entry.routes or []
        if len(items) > quotas.routes_per_table:
            self.fail(
                routes_path,
                f"{len(items)} routes exceed quotas.routes_per_table ({quotas.routes_per_table})",
            )
        routes: list[RouteSpec] = []
        seen: dict[IPv4, int] = {}
        for i, item in enumerate(items):
            item_path = f"{routes_path}[{i}]"
            dest = IPv4(item.destination)
            if dest in seen:
                self.fail(
                    join(item_path, "destination"),
                    f"duplicate destination {dest} (also in routes[{seen[dest]}])",
                )
            seen[dest] = i
            target = self.target(item.target, join(item_path, "target"), header.vpc)
            self.check_route(header.vpc, header.name, dest, target, item_path)
            outpost = lgw_outpost(target)
            if outpost is not None:
                self.lgw.implied_by_route(header.vpc, outpost, join(item_path, "target"))
            routes.append(RouteSpec(str(dest), target))
        spec = RouteTableSpec(header.name, header.vpc, tuple(routes), header.tags)
        self.tables[spec.name] = spec
        return spec

    def target(self, text: str, path: str, vpc: str) -> str:
        outpost = lgw_outpost(text)
        if outpost is not None:
            if outpost not in self.outposts:
                listing = ", ".join(sorted(self.outposts)) or "none defined"
                self.fail(
                    path,
                    f"unknown Outpost {outpost!r} in target {text!r}"
                    f"{suggest(outpost, self.outposts)}; known: {listing}",
                )
            self.sees(vpc, outpost, path, "a route to its local gateway")
            return text
        if text not in SIMPLE_TARGETS:
            self.fail(
                path,
                f"unknown target {text!r}{suggest(text, SIMPLE_TARGETS)}; "
                "expected lgw:OUTPOST, eni or igw",
            )
        if text == "eni":
            self.eni_uses.append((vpc, path))
        return text

    def check_route(self, vpc: str, table: str, dest: IPv4, target: str, path: str) -> None:
        """AWS's rules for a new route at this point; ``path`` is the route's mapping."""
        found = self.state.route_problem(vpc, table, dest, target)
        if found is not None:
            self.fail(join(path, found[0]), found[1])

    def route_table_ref(self, name: str, path: str, *, allow_main: bool) -> tuple[str, str]:
        """(table name as written, its VPC)."""
        if name.startswith(MAIN_PREFIX):
            vpc = name[len(MAIN_PREFIX) :]
            if not allow_main:
                self.fail(
                    path,
                    f"{name!r}: main:VPC is only for steps; omit route_table to use the "
                    "VPC's main route table",
                )
            if vpc not in self.vpcs:
                self.fail(path, f"unknown VPC {vpc!r} in {name!r}{suggest(vpc, self.vpcs)}")
            return name, vpc
        if name not in self.tables:
            listing = ", ".join([*sorted(self.tables), *(f"main:{v}" for v in self.vpcs)])
            self.fail(
                path, f"unknown route table {name!r}{suggest(name, self.tables)}; known: {listing}"
            )
        return name, self.tables[name].vpc

    def subnet(
        self,
        entry: schema.SubnetEntry | schema.CreateSubnetArgs,
        path: str,
        *,
        allow_main: bool,
        seeded: bool,
    ) -> SubnetSpec:
        name = entry.name
        if name in self.state.subnets:
            self.fail(join(path, "name"), f"duplicate subnet name {name!r}")
        vpc = self.ref(entry.vpc, join(path, "vpc"), self.vpcs, "VPC")
        cidr_path = join(path, "cidr")
        network = IPv4(entry.cidr)
        if not any(network.subnet_of(block) for block in self.state.vpc_networks[vpc]):
            blocks = ", ".join(str(b) for b in self.state.vpc_networks[vpc])
            self.fail(cidr_path, f"{network} is not inside VPC {vpc}'s CIDR blocks ({blocks})")
        for other in self.state.subnets.values():
            if other.spec.vpc == vpc and other.network.overlaps(network):
                self.fail(
                    cidr_path, f"{network} overlaps subnet {other.spec.name} ({other.network})"
                )
        outpost = None
        if entry.outpost is not None:
            outpost_path = join(path, "outpost")
            outpost = self.ref(entry.outpost, outpost_path, self.outposts, "Outpost")
            self.sees(vpc, outpost, outpost_path, "the subnet (CreateSubnet)")
        table = None
        if entry.route_table is not None:
            table_path = join(path, "route_table")
            table, table_vpc = self.route_table_ref(
                entry.route_table, table_path, allow_main=allow_main
            )
            if table_vpc != vpc:
                self.fail(table_path, f"route table {table} belongs to VPC {table_vpc}, not {vpc}")
        ipv6 = self.subnet_ipv6(entry.ipv6_cidr, vpc, join(path, "ipv6_cidr"))
        tags = tuple((entry.tags or {}).items())
        spec = SubnetSpec(name, vpc, str(network), outpost, table, entry.ipv6_cidr, tags)
        self.state.subnets[name] = LiveSubnet(spec, network, table, seeded, ipv6)
        self.state.ever.add(name)
        return spec

    def subnet_ipv6(self, text: str | None, vpc: str, path: str) -> IPv6 | None:
        """AWS's rules for a subnet's IPv6 block: a /64 of the VPC's block, overlapping none."""
        if text is None:
            return None
        block = self.state.vpc_ipv6.get(vpc)
        if block is None:
            self.fail(path, f"VPC {vpc} has no ipv6_cidr: a subnet's IPv6 block is one of its /64s")
        network = IPv6(text)
        if not network.subnet_of(block):
            self.fail(path, f"{network} is not inside VPC {vpc}'s ipv6_cidr {block}")
        for other in self.state.subnets.values():
            if other.spec.vpc == vpc and other.ipv6 is not None and other.ipv6.overlaps(network):
                self.fail(path, f"{network} is subnet {other.spec.name}'s IPv6 block too")
        return network

    def seeded_subnet(self, entry: schema.SubnetEntry, path: str) -> SubnetSpec:
        return self.subnet(entry, path, allow_main=False, seeded=True)

    def live_subnet(self, name: str, path: str) -> LiveSubnet:
        if name not in self.state.subnets:
            why = "was deleted by an earlier step" if name in self.state.ever else "does not exist"
            listing = ", ".join(sorted(self.state.subnets)) or "none"
            self.fail(path, f"subnet {name!r} {why} at this point; live subnets: {listing}")
        return self.state.subnets[name]

    def check_eni_hosts(self, subnets: tuple[SubnetSpec, ...]) -> None:
        for vpc, path in self.eni_uses:
            hosts = [s for s in subnets if s.vpc == vpc and s.name not in self.state.deleted]
            if not hosts:
                self.fail(
                    path,
                    f"target eni needs a subnet of VPC {vpc} among `subnets` that no step "
                    "deletes: its network interface is created there at seeding",
                )

    # -- steps --

    def step(self, entry: schema.InnerStepEntry, path: str) -> Step:
        kind = entry.kind
        kind_path = join(path, kind)
        args = entry.args()
        quiet = bool(entry.quiet) if "quiet" in entry.model_fields_set else False
        if isinstance(args, schema.Args) and args.quiet is not None:
            if "quiet" in entry.model_fields_set and args.quiet != quiet:
                self.fail(join(kind_path, "quiet"), "quiet is given twice with different values")
            quiet = args.quiet
        if kind == "together":
            inner: list[CallStep] = []
            for i, item in enumerate(args):
                step = self.step(item, f"{kind_path}[{i}]")
                assert not isinstance(
                    step,
                    SweepStep
                    | FailStep
                    | TogetherStep
                    | EventStep
                    | ReleaseStep
                    | AdvanceClockStep
                    | AnswerStep,
                )
                inner.append(step)
            return TogetherStep(tuple(inner), quiet)
        if kind == "event":
            check_event(args, kind_path, self.known_names, self.fail)
            return EventStep(args, quiet)
        if kind == "sweep":
            return SweepStep(quiet)
        if isinstance(args, schema.FailArgs):
            return FailStep(args.api, args.error, args.times, quiet)
        if isinstance(args, schema.ReleaseArgs):
            outpost = self.ref(args.outpost, join(kind_path, "outpost"), self.outposts, "Outpost")
            return ReleaseStep(outpost, quiet)
        if isinstance(args, schema.AdvanceClockArgs):
            return AdvanceClockStep(args.seconds, quiet)
        if isinstance(args, schema.ApproveArgs | schema.RejectArgs):
            vpc = self.ref(args.vpc, join(kind_path, "vpc"), self.vpcs, "VPC")
            reason = args.reason if isinstance(args, schema.RejectArgs) else ""
            return AnswerStep(vpc, isinstance(args, schema.ApproveArgs), reason, quiet)
        if isinstance(args, _ACCOUNT_ARGS):
            return self.account_step(args, kind_path, quiet)
        return self.call_step(args, kind_path, quiet)

    def call_step(self, args: schema.Args, path: str, quiet: bool) -> Step:
        state = self.state
        if isinstance(args, schema.CreateSubnetArgs):
            spec = self.subnet(args, path, allow_main=True, seeded=False)
            return CreateSubnetStep(
                spec.name, spec.vpc, spec.cidr, spec.outpost, spec.route_table, quiet
            )
        if isinstance(args, schema.DeleteSubnetArgs):
            live = self.live_subnet(args.name, join(path, "name"))
            del state.subnets[live.spec.name]
            if live.seeded:
                state.deleted.add(live.spec.name)
            return DeleteSubnetStep(live.spec.name, quiet)
        if isinstance(args, schema.AssociateRouteTableArgs):
            live = self.live_subnet(args.subnet, join(path, "subnet"))
            table_path = join(path, "route_table")
            table, vpc = self.route_table_ref(args.route_table, table_path, allow_main=True)
            if vpc != live.spec.vpc:
                self.fail(
                    table_path,
                    f"route table {table} belongs to VPC {vpc}, but subnet {live.spec.name} "
                    f"is in VPC {live.spec.vpc}",
                )
            live.explicit_table = table
            return AssociateRouteTableStep(live.spec.name, table, quiet)
        if isinstance(args, schema.DisassociateRouteTableArgs):
            subnet_path = join(path, "subnet")
            live = self.live_subnet(args.subnet, subnet_path)
            if live.explicit_table is None:
                self.fail(
                    subnet_path,
                    f"subnet {live.spec.name} has no explicit route table association at this "
                    "point (it already uses the main table)",
                )
            live.explicit_table = None
            return DisassociateRouteTableStep(live.spec.name, quiet)
        assert isinstance(args, schema.AddRouteArgs | schema.DeleteRouteArgs)
        table_path = join(path, "route_table")
        table, vpc = self.route_table_ref(args.route_table, table_path, allow_main=True)
        dest = IPv4(args.destination)
        if isinstance(args, schema.DeleteRouteArgs):
            if dest in self.state.vpc_networks[vpc]:
                self.fail(
                    join(path, "destination"), f"{dest} is VPC {vpc}'s local route: AWS keeps it"
                )
            return DeleteRouteStep(table, str(dest), quiet)
        target = self.target(args.target, join(path, "target"), vpc)
        self.check_route(vpc, table, dest, target, path)
        return AddRouteStep(table, str(dest), target, quiet)

    def account_step(self, args: schema.Args, path: str, quiet: bool) -> Step:
        """The steps that change LGW associations, tags, VPC blocks and the main table."""
        if isinstance(args, schema.LgwAssociationArgs):
            vpc = self.ref(args.vpc, join(path, "vpc"), self.vpcs, "VPC")
            if isinstance(args, schema.AssociateLgwRouteTableArgs):
                self.lgw_association(vpc, args.lgw_route_table, path)
                return AssociateLgwRouteTableStep(vpc, args.lgw_route_table, quiet)
            self.lgw.disassociate(vpc, args.lgw_route_table, path)
            return DisassociateLgwRouteTableStep(vpc, args.lgw_route_table, quiet)
        if isinstance(args, schema.TagArgs | schema.UntagArgs):
            kind, name = args.resource
            self.tagged(kind, name, join(path, kind))
            if isinstance(args, schema.TagArgs):
                # a value may name a resource's id, as in events: {{vpc:app}}
                check_event(args.tags, join(path, "tags"), self.known_names, self.fail)
                return TagStep(kind, name, tuple(args.tags.items()), quiet)
            return UntagStep(kind, name, tuple(args.keys), quiet)
        if isinstance(args, schema.AssociateVpcCidrArgs):
            vpc = self.ref(args.vpc, join(path, "vpc"), self.vpcs, "VPC")
            self.add_vpc_block(vpc, IPv4(args.cidr), join(path, "cidr"))
            return AssociateVpcCidrStep(vpc, args.cidr, quiet)
        assert isinstance(args, schema.SetMainRouteTableArgs)
        vpc = self.ref(args.vpc, join(path, "vpc"), self.vpcs, "VPC")
        table_path = join(path, "route_table")
        table, table_vpc = self.route_table_ref(args.route_table, table_path, allow_main=True)
        if table_vpc != vpc:
            self.fail(table_path, f"route table {table} belongs to VPC {table_vpc}, not {vpc}")
        self.state.main_tables[vpc] = table
        return SetMainRouteTableStep(vpc, table, quiet)

    def tagged(self, kind: str, name: str, path: str) -> None:
        """The resource a ``tag`` / ``untag`` step names exists at this point."""
        if kind == "vpc":
            self.ref(name, path, self.vpcs, "VPC")
        elif kind == "subnet":
            self.live_subnet(name, path)
        elif kind == "route_table":
            self.route_table_ref(name, path, allow_main=True)
        else:
            self.lgw.table_ref(name, path)

    def add_vpc_block(self, vpc: str, network: IPv4, path: str) -> None:
        blocks = self.state.vpc_networks[vpc]
        for other in blocks:
            if network.overlaps(other):
                self.fail(path, f"{network} overlaps VPC {vpc}'s {other}")
        if len(blocks) >= MAX_VPC_CIDR_BLOCKS:
            self.fail(
                path,
                f"VPC {vpc} has {len(blocks)} CIDR blocks at this point, AWS's default quota "
                f"is {MAX_VPC_CIDR_BLOCKS}",
            )
        self.state.vpc_networks[vpc] = (*blocks, network)

    def known_names(self, kind: str) -> Iterable[str]:
        """The names a ``{{kind:NAME}}`` placeholder may use at this point of the steps."""
        if kind == "vpc":
            return self.vpcs
        if kind == "outpost":
            return self.outposts
        if kind == "subnet":
            return self.state.ever
        return [*self.tables, *(f"{MAIN_PREFIX}{v}" for v in self.vpcs)]
