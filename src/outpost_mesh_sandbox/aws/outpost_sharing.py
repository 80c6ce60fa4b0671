"""Outposts shared with other accounts through AWS RAM: what a consumer account sees and may do.

AWS (docs/aws-facts.md, "Accounts and sharing" and "Several LGW route tables per Outpost (routing
domains)"): an Outpost shared with an account lets it create Outpost subnets in its own VPCs;
sharing an LGW route table "lets multiple accounts create VPC associations to a local gateway";
DescribeLocalGatewayRouteTables in the consumer lists the table with the owner's ``OwnerId``; the
owner sees (and may delete) consumers' associations.

The owner's resources stay in the owner's :class:`~outpost_mesh_sandbox.aws.outposts.OutpostState`;
a consumer's state records which Outposts are shared into it (``shared_in``: Outpost ARN -> owner
account). A consumer's VPC association with a shared table is kept with the table (the owner's
state), owned by the consumer (its ``OwnerId``). What each account sees (:func:`visible`):

* the owner: everything of its Outposts, every association with its tables (consumers' too);
* a consumer: the shared Outposts, their local gateways, LGW route tables, VIF groups and VIF-group
  associations as the owner sees them (OwnerId = owner, the owner's tags:
  :data:`ASSUMED_CONSUMER_SEES_OWNER_VIEW`), and only its own VPC associations with them;
* any other account: nothing of it.

Calls on what an account cannot see fail as for an id that does not exist
(:data:`NOT_SHARED_CODES`).
"""

from __future__ import annotations

from typing import Any

from outpost_mesh_sandbox.aws import errors
from outpost_mesh_sandbox.aws.outposts import Outpost, OutpostState, sandbox_backend, state_of

# ASSUMPTION (docs/aws-facts.md, "Accounts and sharing", named assumptions): a consumer sees a
# shared LGW route table's tags and its VIF-group associations as the owner does; AWS documents
# neither. The core's routing-domain rule then applies unchanged in a consumer account; were AWS to
# hide the VIF-group associations, a consumer would find `no-routing-domain` and make no call.
ASSUMED_CONSUMER_SEES_OWNER_VIEW = True

# ASSUMPTION (docs/aws-facts.md, "Accounts and sharing"): an account an Outpost is not shared with
# is answered as if its resources did not exist, with the codes EC2 uses for an unknown id.
NOT_SHARED_CODES = {
    "CreateSubnet": errors.ASSUMED_BAD_OUTPOST_ARN,
    "CreateLocalGatewayRouteTableVpcAssociation": errors.LGW_ROUTE_TABLE_NOT_FOUND,
    "CreateRoute": errors.ASSUMED_LGW_NOT_FOUND,
}


def _outpost(owner: Any, outpost_name: str) -> Outpost:
    found = state_of(owner).outposts.get(outpost_name)
    if found is None:
        raise ValueError(f"no Outpost named {outpost_name!r} in account {owner.account_id}")
    return found


def share_outpost(
    owner: Any, outpost_name: str, consumer_account: str, *, shared: bool = True
) -> None:
    """RAM: share (``shared=False``: stop sharing) the owner's Outpost and its LGW route tables
    with ``consumer_account`` in the same Region."""
    if consumer_account == owner.account_id:
        raise ValueError(f"Outpost {outpost_name!r} is account {consumer_account}'s own")
    outpost = _outpost(owner, outpost_name)
    consumer = state_of(sandbox_backend(consumer_account, owner.region_name))
    with consumer.lock:
        if shared:
            consumer.shared_in[outpost.arn] = owner.account_id
        else:
            consumer.shared_in.pop(outpost.arn, None)


def _owner_states(backend: Any) -> list[tuple[OutpostState, set[str]]]:
    """Each owner account's state with the local gateways it shares with ``backend``'s account."""
    mine = state_of(backend)
    with mine.lock:
        shares = dict(mine.shared_in)
    by_owner: dict[str, set[str]] = {}
    for arn, owner in shares.items():
        by_owner.setdefault(owner, set()).add(arn)
    found = []
    for owner, arns in sorted(by_owner.items()):
        state = state_of(sandbox_backend(owner, backend.region_name))
        gateways = {o.local_gateway_id for o in state.outposts.values() if o.arn in arns}
        found.append((state, gateways))
    return found


def visible(backend: Any, collection: str) -> dict[str, Any]:
    """Id -> item of an OutpostState collection (``local_gateways``, ``route_tables``,
    ``vif_groups``, ``vif_associations``, ``associations``) as ``backend``'s account sees it."""
    items: dict[str, Any] = dict(getattr(state_of(backend), collection))
    for state, gateways in _owner_states(backend):
        for item_id, item in getattr(state, collection).items():
            if item.local_gateway_id not in gateways:
                continue
            if collection == "associations" and item.owner_id != backend.account_id:
                continue  # another consumer's association: not this account's to see
            items[item_id] = item
    return items


def outpost_by_arn(backend: Any, arn: str) -> Outpost | None:
    """The account's own Outpost, or one shared with it."""
    own = state_of(backend).outpost_by_arn(arn)
    if own is not None:
        return own
    for state, _ in _owner_states(backend):
        found = state.outpost_by_arn(arn)
        if found is not None and arn in state_of(backend).shared_in:
            return found
    return None


def home_of_gateway(backend: Any, lgw_id: str) -> tuple[OutpostState, Outpost] | None:
    """Where a local gateway ``backend``'s account can see is kept, and its Outpost."""
    own = state_of(backend)
    outpost = own.outpost_of_lgw(lgw_id)
    if outpost is not None and lgw_id in own.local_gateways:
        return own, outpost
    for state, gateways in _owner_states(backend):
        outpost = state.outpost_of_lgw(lgw_id) if lgw_id in gateways else None
        if outpost is not None:
            return state, outpost
    return None


def home_of_table(backend: Any, table_id: str) -> OutpostState | None:
    """Where an LGW route table ``backend``'s account can see is kept."""
    own = state_of(backend)
    if table_id in own.route_tables:
        return own
    for state, gateways in _owner_states(backend):
        table = state.route_tables.get(table_id)
        if table is not None and table.local_gateway_id in gateways:
            return state
    return None


def home_of_association(backend: Any, association_id: str) -> OutpostState | None:
    """Where a VPC association ``backend``'s account can see is kept."""
    own = state_of(backend)
    if association_id in own.associations:
        return own
    if association_id not in visible(backend, "associations"):
        return None
    return next(s for s, _ in _owner_states(backend) if association_id in s.associations)
