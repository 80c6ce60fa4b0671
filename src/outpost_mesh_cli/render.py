"""Text renderings of plans, applied changes and reachability for people (``--output table``).

Things are named as AWS consoles name them: the ``Name`` tag where there is one, else the id; the
first time a thing is named its id stands beside the name (``vpc-0a1b... (app)``), after that the
name alone. Outposts are shown by their id (``op-...``), not their ARN.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from outpost_mesh.model import Finding, PairReachability, Plan, RouteChange

# The ids text output names: an Outpost's ARN, or an EC2 id (prefix, dash, hex), each perhaps
# followed by its name in brackets as the core writes a label (``lgw-rtb-0123 (dvr-prod)``).
_ID = re.compile(
    r"(arn:aws[a-z-]*:outposts:[a-z0-9-]+:[0-9]{12}:outpost/op-[0-9a-f]+"
    r"|\b(?:vpc|subnet|rtb|lgw-rtb|lgw-vpc-assoc|lgw)-[0-9a-f]+\b)"
    r"(?: \(([^()]*)\))?"
)


@dataclass
class Names:
    """Display names by id (VPCs, subnets, route tables, LGW route tables: Name tags; Outposts
    by ARN: their names); ``outposts`` maps a subnet to its Outpost's ARN."""

    by_id: Mapping[str, str]
    outposts: Mapping[str, str] = field(default_factory=dict)
    _shown: set[str] = field(default_factory=set)

    def __call__(self, resource_id: str) -> str:
        """The name, with the id beside it the first time; the id where there is no name."""
        shown = short_id(resource_id)
        name = self.by_id.get(resource_id)
        if not name:
            return shown
        if resource_id in self._shown:
            return name
        self._shown.add(resource_id)
        return f"{shown} ({name})"

    def full(self, resource_id: str) -> str:
        """The id and the name beside it, however often it was shown (summary lines)."""
        name = self.by_id.get(resource_id)
        return f"{short_id(resource_id)} ({name})" if name else short_id(resource_id)

    def text(self, words: str) -> str:
        """A sentence of the core (a reason, a finding) with its ids named."""

        def named(match: re.Match[str]) -> str:
            resource_id, label = match.group(1), match.group(2)
            known = self.by_id.get(resource_id)
            rest = f" ({label})" if label is not None and label != known else ""
            return self(resource_id) + rest

        return _ID.sub(named, words)

    def subnets(self, subnet_ids: Sequence[str]) -> str:
        return ", ".join(self(s) for s in subnet_ids)

    def outpost_of(self, subnet_id: str) -> str:
        arn = self.outposts.get(subnet_id)
        return self(arn) if arn else "?"

    def to_dict(self) -> dict[str, str]:
        """For JSON output: id (an Outpost's ARN) -> name."""
        return dict(sorted(self.by_id.items()))


def short_id(resource_id: str) -> str:
    """An Outpost's ARN as its id (``op-...``); any other id as it is."""
    return resource_id.rsplit("/", 1)[-1] if resource_id.startswith("arn:") else resource_id


def counted(number: int, noun: str) -> str:
    """``1 route``, ``2 routes`` (``0 routes``)."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _listed(parts: Iterable[str]) -> str:
    items = list(parts)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def plan_summary(plan: Plan) -> str:
    """``create 2 associations and 2 routes, delete 1 route; 1 finding``."""
    c = plan.counts()
    parts = []
    for verb, assocs, routes in (
        ("create", c["associations_to_create"], c["routes_to_create"]),
        ("delete", c["associations_to_delete"], c["routes_to_delete"]),
    ):
        things = [counted(n, noun) for n, noun in ((assocs, "association"), (routes, "route")) if n]
        if things:
            parts.append(f"{verb} {_listed(things)}")
    if c["routes_held"]:
        parts.append(f"hold {counted(c['routes_held'], 'route deletion')}")
    return f"{', '.join(parts) or 'no changes'}; {counted(c['findings'], 'finding')}"


def plan_text(plan: Plan, names: Names) -> str:
    lines = [f"Plan for {names(plan.vpc_id)}: {plan_summary(plan)}"]
    lines.extend(domain_lines(plan, names))
    for a in plan.associations_to_create:
        lines.append(
            f"  + associate with LGW route table {names(a.lgw_route_table_id)} on "
            f"{names(a.outpost_arn)}  # {names.text(a.reason)}"
        )
    for a in plan.associations_to_delete:
        lines.append(
            f"  - disassociate {a.association_id} from LGW route table "
            f"{names(a.lgw_route_table_id)}  # {names.text(a.reason)}"
        )
    for r in plan.routes_to_create:
        lines.append(f"  + route {_route(r, names)}  # {_route_reason(r, names)}")
    for r in plan.routes_to_delete:
        lines.append(f"  - route {_route(r, names)}  # {names.text(r.reason)}")
    for r in plan.routes_held:
        lines.append(f"  ~ held: route {_route(r, names)}  # deletion safety (--force applies it)")
    lines.extend(impact_lines(plan, names))
    lines.extend(findings_lines(plan.findings, names))
    if not plan.has_changes:
        lines.append("  No changes: the VPC is in its desired state.")
    return "\n".join(lines)


def impact_lines(plan: Plan, names: Names) -> list[str]:
    """On-premises impact (BGP, direct VPC routing): per Outpost, the subnet prefixes its LGW
    starts or stops advertising when the plan is applied (``Plan.bgp_impact``)."""
    lines = []
    for ad in plan.bgp_impact:
        if ad.advertised:
            lines.append(
                f"  on-premises: {names(ad.outpost_arn)} starts advertising "
                f"{', '.join(ad.advertised)} over BGP"
            )
        if ad.withdrawn:
            lines.append(
                f"  on-premises: {names(ad.outpost_arn)} stops advertising "
                f"{', '.join(ad.withdrawn)} over BGP"
            )
    return lines


def _route(r: RouteChange, names: Names) -> str:
    return f"{names(r.route_table_id)} {r.destination} -> {r.local_gateway_id}"


def _route_reason(r: RouteChange, names: Names) -> str:
    """Why a route is made: which subnets it lets reach which (the core's reason, with names and
    the verb agreeing with its subject)."""
    if not (r.source_subnet_ids and r.destination_subnet_id):
        return names.text(r.reason)
    sources = r.source_subnet_ids
    verb = "reaches" if len(sources) == 1 else "reach"
    return (
        f"{names.subnets(sources)} on {names.outpost_of(sources[0])} {verb} "
        f"{names(r.destination_subnet_id)} on {names.outpost_of(r.destination_subnet_id)}"
    )


def domain_lines(plan: Plan, names: Names) -> list[str]:
    """Per Outpost, the routing domain (LGW route table) the VPC uses there, or why none."""
    lines = []
    for d in plan.routing_domains:
        used = names(d.table.route_table_id) if d.table else f"none ({d.kind})"
        lines.append(
            f"  = routing domain on {names(d.outpost_arn)}: {used}  # {names.text(d.reason)}"
        )
    return lines


def findings_lines(findings: Iterable[Finding], names: Names) -> list[str]:
    return [f"  ! {f.kind} {names.text(f.subject)}: {names.text(f.message)}" for f in findings]


def applied_summary(plans: Sequence[Plan], names: Names, *, remove: bool) -> str:
    """What a run did: ``created 12 routes, 2 associations in vpc-... (app); 0 failed``."""
    vpc = names.full(plans[0].vpc_id) if plans else "the VPC"
    made = [
        (sum(len(p.routes_to_create) for p in plans), "route"),
        (sum(len(p.associations_to_create) for p in plans), "association"),
    ]
    taken = [
        (sum(len(p.routes_to_delete) for p in plans), "route"),
        (sum(len(p.associations_to_delete) for p in plans), "association"),
    ]
    parts = []
    for verb, things in (("created", made), ("removed" if remove else "deleted", taken)):
        listed = [counted(n, noun) for n, noun in things if n]
        if listed:
            parts.append(f"{verb} {', '.join(listed)}")
    done = ", ".join(parts) if parts else "nothing to change"
    return f"{done} {'from' if remove else 'in'} {vpc}; 0 failed"


def applied_dict(plans: Sequence[Plan]) -> dict[str, Any]:
    """The changes a run applied (JSON output)."""
    return {
        "associations_created": [c.to_dict() for p in plans for c in p.associations_to_create],
        "associations_deleted": [c.to_dict() for p in plans for c in p.associations_to_delete],
        "routes_created": [c.to_dict() for p in plans for c in p.routes_to_create],
        "routes_deleted": [c.to_dict() for p in plans for c in p.routes_to_delete],
        "failed": 0,
    }


def reachability_text(
    pairs: Iterable[PairReachability],
    names: Names,
    expected: AbstractSet[tuple[str, str]] | None = None,
    routed: AbstractSet[tuple[str, str]] | None = None,
) -> str:
    """Each ordered pair of Outpost subnets on two Outposts; pairs the mesh leaves out are
    marked ``(not meshed)``, expected pairs whose routes are not all in place yet ``(routes not
    in place yet)``: neither counts as broken."""
    rows = list(pairs)
    if not rows:
        return "No pair of Outpost subnets on different Outposts in this VPC."
    lines = []
    for p in rows:
        mark = "reachable  " if p.reachable else "UNREACHABLE"
        meshed = expected is None or p.key in expected
        want = "" if meshed else " (not meshed)"
        if meshed and routed is not None and p.key not in routed and not p.reachable:
            want = " (routes not in place yet)"
        lines.append(
            f"  {names(p.source_subnet_id)} -> {names(p.destination_subnet_id)}: "
            f"{mark}{want}  # {names.text(p.reason)}"
        )
    ok = sum(1 for p in rows if p.reachable)
    head = f"Reachability: {ok} of {counted(len(rows), 'pair')} reachable"
    if expected is not None:
        reached = sum(1 for p in rows if p.key in expected and p.reachable)
        head += f"; the mesh joins {len(expected)}, {reached} of them reachable"
    return "\n".join([head, *lines])


def broken_text(broken: Sequence[PairReachability], names: Names) -> str:
    """The verify/apply problem line: which expected pairs, routed both ways, are unreachable."""
    shown = "; ".join(
        f"{names(p.source_subnet_id)} -> {names(p.destination_subnet_id)} ({names.text(p.reason)})"
        for p in broken[:3]
    )
    more = f"; {len(broken) - 3} more (--output json lists them)" if len(broken) > 3 else ""
    return (
        f"{counted(len(broken), 'pair')} the mesh joins, with its routes in place both ways, "
        f"{'is' if len(broken) == 1 else 'are'} not reachable: {shown}{more}"
    )
