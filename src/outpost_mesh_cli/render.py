"""Text renderings of plans and reachability for people (``--output table``)."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from outpost_mesh.model import Finding, PairReachability, Plan


def plan_text(plan: Plan) -> str:
    c = plan.counts()
    lines = [
        f"Plan for {plan.vpc_id}: {c['associations_to_create']} association(s) to create, "
        f"{c['associations_to_delete']} to delete, {c['routes_to_create']} route(s) to create, "
        f"{c['routes_to_delete']} to delete, {c['routes_held']} held, {c['findings']} finding(s)"
    ]
    lines.extend(domain_lines(plan))
    for a in plan.associations_to_create:
        lines.append(
            f"  + associate {a.vpc_id} with LGW route table {a.lgw_route_table_id} "
            f"({a.outpost_arn})  # {a.reason}"
        )
    for a in plan.associations_to_delete:
        lines.append(
            f"  - disassociate {a.association_id} ({a.vpc_id} / {a.lgw_route_table_id})  "
            f"# {a.reason}"
        )
    for r in plan.routes_to_create:
        lines.append(
            f"  + route {r.route_table_id} {r.destination} -> {r.local_gateway_id}  # {r.reason}"
        )
    for r in plan.routes_to_delete:
        lines.append(
            f"  - route {r.route_table_id} {r.destination} -> {r.local_gateway_id}  # {r.reason}"
        )
    for r in plan.routes_held:
        lines.append(
            f"  ~ held: route {r.route_table_id} {r.destination} -> {r.local_gateway_id}  "
            "# deletion safety (--force applies it)"
        )
    lines.extend(findings_lines(plan.findings))
    if not plan.has_changes:
        lines.append("  No changes: the VPC is in its desired state.")
    return "\n".join(lines)


def domain_lines(plan: Plan) -> list[str]:
    """Per Outpost, the routing domain (LGW route table) the VPC uses there, or why none."""
    lines = []
    for d in plan.routing_domains:
        used = d.table.label if d.table else f"none ({d.kind})"
        lines.append(f"  = routing domain on {d.outpost_arn}: {used}  # {d.reason}")
    return lines


def findings_lines(findings: Iterable[Finding]) -> list[str]:
    return [f"  ! {f.kind} {f.subject}: {f.message}" for f in findings]


def reachability_text(
    pairs: Iterable[PairReachability],
    expected: AbstractSet[tuple[str, str]] | None = None,
    routed: AbstractSet[tuple[str, str]] | None = None,
) -> str:
    rows = list(pairs)
    if not rows:
        return "No pair of Outpost subnets on different Outposts in this VPC."
    lines = []
    for p in rows:
        mark = "reachable  " if p.reachable else "UNREACHABLE"
        key = (p.source_subnet_id, p.destination_subnet_id)
        meshed = expected is None or key in expected
        want = "" if meshed else " (not meshed)"
        if meshed and routed is not None and key not in routed and not p.reachable:
            want = " (routes not in place yet)"
        lines.append(
            f"  {p.source_subnet_id} -> {p.destination_subnet_id}: {mark}{want}  # {p.reason}"
        )
    ok = sum(1 for p in rows if p.reachable)
    return "\n".join([f"Reachability: {ok}/{len(rows)} pair(s) reachable", *lines])
