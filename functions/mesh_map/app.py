"""CloudWatch custom widget: the mesh map of every managed VPC, drawn from one read of the fleet
(the Region's six paginated Describes and the ledger's fleet index, as the sweep reads them)."""

from __future__ import annotations

from outpost_mesh.lambda_kit import logger, task
from outpost_mesh.mesh_map import WidgetPage, WidgetRequest, fleet_maps, render_fragment
from outpost_mesh.observe import observe_fleet
from outpost_mesh.service import ReconcileService

# What the dashboard shows for the widget's "describe" call (its documentation).
DESCRIPTION = """## outpost-mesh: mesh map
Each managed VPC's Outposts (columns), their subnets and the LGW routes between them (arrows),
read on every refresh: green reachable, red dashed broken (routed both ways, unreachable), orange
dotted held by deletion safety, grey routed one way only. VPCs with broken pairs come first; a
large fleet is cut, with a count (`outpost-mesh status` lists every VPC).

No parameters. Viewers need `lambda:InvokeFunction` on this function."""


@task(WidgetRequest, correlation_id_path="widgetContext.widgetId")
def handler(event: WidgetRequest, svc: ReconcileService) -> WidgetPage:
    if event.describe:
        return WidgetPage(DESCRIPTION)
    logger.append_keys(vpc_id="*")  # the map covers every managed VPC
    ledger = svc.store.fleet()
    seen = observe_fleet(svc.ec2, ledger.managed, svc.settings.opt_out_tag)
    maps = fleet_maps(seen, ledger, managed=svc.managed_by_tags, account_id=svc.account_id)
    page = render_fragment(maps)
    logger.info(
        "mesh map: %d VPC(s), %d bytes",
        len(maps),
        len(page),
        extra={"describe_calls": dict(seen.calls), "ledger_pages": ledger.pages},
    )
    return WidgetPage(page)
