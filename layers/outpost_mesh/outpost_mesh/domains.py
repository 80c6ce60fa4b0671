"""Which routing domain (LGW route table) a VPC uses on each Outpost (pure).

An Outpost has one local gateway but may have several LGW route tables; with its VIF group a table
is a routing domain, and "VPCs are exclusively associated with one LGW routing domain per Outpost"
(docs/aws-facts.md, "Several LGW route tables per Outpost (routing domains)"). The rule, per
Outpost and VPC:

1. A live association of the VPC with one of the Outpost's tables decides (a person's or ours):
   that table is used if it is usable (available, direct-vpc-routing, VIF-group associated); a
   CoIP table is ``coip-mode``; anything else (pending, deleting, no VIF group) is
   ``no-routing-domain``. No other table of that Outpost is ever associated.
2. No association: the one usable table.
3. Several usable tables: the one tagged ``outpost-mesh:routing-domain`` with the VPC's id, else
   the one tagged ``*``; two equal matches, or none, is ``ambiguous-routing-domain``.
4. No usable table: ``coip-mode`` when the Outpost's active tables (available, VIF-group
   associated) are all CoIP, else ``no-routing-domain``.
"""

from __future__ import annotations

from outpost_mesh.model import (
    AVAILABLE,
    DIRECT_VPC_ROUTING,
    DomainChoice,
    FindingKind,
    LocalGatewayRouteTable,
    Topology,
    TopologyIndex,
    VpcAssociation,
)

ANY_VPC = "*"  # the routing-domain tag's value that picks a table for every VPC


def routing_domain(index: TopologyIndex, outpost_arn: str) -> DomainChoice:
    """``choose_domain`` for the index's VPC, worked out once per Outpost and index."""
    choice = index.domains.get(outpost_arn)
    if choice is None:
        choice = index.domains[outpost_arn] = choose_domain(index.topology, outpost_arn)
    return choice


def _why_unusable(table: LocalGatewayRouteTable) -> str:
    if table.state != AVAILABLE:
        return f"is {table.state}"
    if not table.active:
        return "has no VIF group (it carries no traffic)"
    return f"is in {table.mode} mode"


def choose_domain(topology: Topology, outpost_arn: str) -> DomainChoice:
    """The routing domain of ``topology``'s VPC on ``outpost_arn``, or why there is none."""
    vpc = topology.vpc_id
    tables = [t for t in topology.lgw_route_tables if t.outpost_arn == outpost_arn]
    if not tables:
        return DomainChoice(
            outpost_arn,
            None,
            f"no LGW route table of Outpost {outpost_arn} is visible to this account (is it "
            "shared with it?); its subnets are left out",
            FindingKind.NO_ROUTING_DOMAIN,
        )
    gateways = {t.local_gateway_id for t in tables}
    by_id = {t.route_table_id: t for t in tables}
    association = next(
        (
            a
            for a in topology.associations
            if a.live and (a.lgw_route_table_id in by_id or a.local_gateway_id in gateways)
        ),
        None,
    )
    if association is not None:
        return _decided_by(vpc, outpost_arn, by_id.get(association.lgw_route_table_id), association)

    usable = [t for t in tables if t.usable]
    if len(usable) == 1:
        return DomainChoice(outpost_arn, usable[0], f"{usable[0].label}: the one usable domain")
    if usable:
        for value, words in ((vpc, f"tagged for {vpc}"), (ANY_VPC, "tagged for every VPC")):
            tagged = [t for t in usable if t.domain_tag == value]
            if len(tagged) == 1:
                return DomainChoice(outpost_arn, tagged[0], f"{tagged[0].label}: {words}")
            if tagged:
                return _ambiguous(vpc, outpost_arn, tagged, f"are all {words}")
        return _ambiguous(vpc, outpost_arn, usable, "are usable and none is tagged")

    active = [t for t in tables if t.active and t.state == AVAILABLE]
    if active and all(t.mode != DIRECT_VPC_ROUTING for t in active):
        names = ", ".join(t.label for t in active)
        return DomainChoice(
            outpost_arn,
            None,
            f"the active LGW route table(s) of Outpost {outpost_arn} ({names}) are in "
            f"{active[0].mode} mode; intra-VPC routing needs direct-vpc-routing, so its subnets "
            "are left out",
            FindingKind.COIP_MODE,
        )
    states = "; ".join(f"{t.label} {_why_unusable(t)}" for t in sorted(tables))
    return DomainChoice(
        outpost_arn,
        None,
        f"Outpost {outpost_arn} has no usable routing domain for {vpc} ({states}); its subnets "
        "are left out until one is available, direct-vpc-routing and associated with a VIF group",
        FindingKind.NO_ROUTING_DOMAIN,
    )


def _decided_by(
    vpc: str, outpost_arn: str, table: LocalGatewayRouteTable | None, association: VpcAssociation
) -> DomainChoice:
    """Rule 1: the VPC is (becoming) associated with one of the Outpost's tables already."""
    held = f"{vpc} is associated with {table.label if table else association.lgw_route_table_id}"
    if table is not None and table.usable:
        return DomainChoice(
            outpost_arn,
            table,
            f"{table.label}: {vpc} is associated with it",
            association=association,
        )
    if table is not None and table.mode != DIRECT_VPC_ROUTING:
        return DomainChoice(
            outpost_arn,
            None,
            f"{held}, a {table.mode} routing domain of Outpost {outpost_arn}; a VPC is in one "
            "routing domain per Outpost and intra-VPC routing needs direct-vpc-routing, so its "
            "subnets there are left out",
            FindingKind.COIP_MODE,
            association,
        )
    why = _why_unusable(table) if table is not None else "is not visible to this account"
    return DomainChoice(
        outpost_arn,
        None,
        f"{held} of Outpost {outpost_arn}, which {why}; a VPC is in one routing domain per "
        "Outpost, so its subnets there are left out until that table is usable",
        FindingKind.NO_ROUTING_DOMAIN,
        association,
    )


def _ambiguous(
    vpc: str, outpost_arn: str, tables: list[LocalGatewayRouteTable], words: str
) -> DomainChoice:
    names = ", ".join(t.label for t in sorted(tables))
    return DomainChoice(
        outpost_arn,
        None,
        f"Outpost {outpost_arn} has several routing domains {vpc} could use ({names}), which "
        f"{words}; tag the one to use with outpost-mesh:routing-domain={vpc} (or * for every "
        "VPC); until then its subnets are left out",
        FindingKind.AMBIGUOUS_ROUTING_DOMAIN,
    )
