"""The benchmarked VPCs, written as scenario documents (the sandbox's public format).

A topology is R Outpost racks with n subnets each in one VPC (10.0.0.0/16, one /24 per subnet),
every subnet on its rack, and either one route table per rack shared by its n subnets
(``shared``) or one route table per subnet (``per-subnet``). The full mesh needs, per table,
one LGW route to every subnet of the other racks.

:class:`OneBigTable` is the lopsided VPC beside the grid: its route changes sit mostly in one
route table (the Plan task then gives them one lane at EC2's whole rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from outpost_mesh_sandbox.scenario import Scenario, parse_scenario

VPC = "mesh"
MAX_ROUTES_PER_TABLE = 1000  # AWS's ceiling for the routes-per-table quota (L-93826ACB)
DEFAULT_ROUTES_PER_TABLE = 50


def quota_for(need: int) -> int:
    """The routes-per-table quota a table of ``need`` LGW routes needs: AWS's default where that
    is enough, else raised to the next 50 (at most AWS's ceiling)."""
    if need <= DEFAULT_ROUTES_PER_TABLE:
        return DEFAULT_ROUTES_PER_TABLE
    return min(MAX_ROUTES_PER_TABLE, -(-need // 50) * 50)


def subnet_entry(rack: int, index: int, octet: int, table: str) -> dict[str, Any]:
    """Subnet ``index`` of rack ``rack``: 10.0.<octet>.0/24 on the rack, with ``table``."""
    return {
        "name": f"s-{rack}-{index}",
        "vpc": VPC,
        "cidr": f"10.0.{octet}.0/24",
        "outpost": f"rack-{rack}",
        "route_table": table,
    }


def scenario_document(
    label: str,
    *,
    racks: int,
    tables: list[str],
    subnets: list[dict[str, Any]],
    quota: int,
    steps: list[Any] | None = None,
    throttle: float | None = None,
) -> dict[str, Any]:
    """A benchmarked VPC as a scenario. ``quota`` is the account's routes-per-table quota and,
    by the scenario format's default, the stack's RoutesPerTableQuota."""
    doc: dict[str, Any] = {
        "description": f"benchmark: {label}",
        "vpcs": [{"name": VPC, "cidr": "10.0.0.0/16"}],
        "outposts": [{"name": f"rack-{r}"} for r in range(racks)],
        "route_tables": [{"name": t, "vpc": VPC} for t in tables],
        "subnets": subnets,
        "quotas": {"routes_per_table": quota},
        "steps": steps or [],
    }
    if throttle is not None:
        doc["throttle"] = {"time_scale": throttle}
    return doc


class Mesh(Protocol):
    """What the workflow section needs of a benchmarked VPC."""

    @property
    def label(self) -> str: ...

    @property
    def racks(self) -> int: ...

    @property
    def routes(self) -> int: ...

    def document(
        self, *, steps: list[Any] | None = None, throttle: float | None = None
    ) -> dict[str, Any]: ...

    def scenario(self, name: str = "bench") -> Scenario: ...


@dataclass(frozen=True)
class Topology:
    racks: int
    subnets_per_rack: int
    per_subnet_tables: bool

    @property
    def label(self) -> str:
        kind = "per-subnet" if self.per_subnet_tables else "shared"
        return f"{self.racks}x{self.subnets_per_rack} {kind}"

    @property
    def subnets(self) -> int:
        return self.racks * self.subnets_per_rack

    @property
    def tables(self) -> int:
        return self.subnets if self.per_subnet_tables else self.racks

    @property
    def routes_per_table(self) -> int:
        """LGW routes each table needs: one per subnet of the other racks."""
        return self.subnets - self.subnets_per_rack

    @property
    def routes(self) -> int:
        return self.tables * self.routes_per_table

    @property
    def quota(self) -> int:
        """The routes-per-table quota this mesh needs (AWS's default where that is enough)."""
        return quota_for(self.routes_per_table)

    def table_name(self, rack: int, index: int) -> str:
        return f"rt-{rack}-{index}" if self.per_subnet_tables else f"rt-{rack}"

    def subnet(self, rack: int, index: int) -> dict[str, Any]:
        return subnet_entry(rack, index, rack * 20 + index, self.table_name(rack, index))

    def document(
        self,
        *,
        seeded: bool = True,
        steps: list[Any] | None = None,
        throttle: float | None = None,
        extra_tables: int = 0,
    ) -> dict[str, Any]:
        """The scenario: subnets seeded (or left for ``steps``), ``extra_tables`` more empty
        per-rack tables for subnets a step creates, throttle emulation when given a scale."""
        if self.subnets_per_rack > 20 or self.racks * 20 > 256:
            raise ValueError("at most 20 subnets per rack and 12 racks fit the /16")
        tables = sorted(
            {self.table_name(r, i) for r in range(self.racks) for i in range(self.subnets_per_rack)}
        )
        tables += [f"rt-extra-{r}-{k}" for r in range(self.racks) for k in range(extra_tables)]
        subnets = (
            [self.subnet(r, i) for r in range(self.racks) for i in range(self.subnets_per_rack)]
            if seeded
            else []
        )
        return scenario_document(
            self.label,
            racks=self.racks,
            tables=tables,
            subnets=subnets,
            quota=self.quota,
            steps=steps,
            throttle=throttle,
        )

    def scenario(self, name: str = "bench", **kwargs: Any) -> Scenario:
        return parse_scenario(self.document(**kwargs), f"bench:{self.label}", name)


@dataclass(frozen=True)
class OneBigTable:
    """Two racks, lopsided: rack 0 has one subnet with a table of its own, rack 1 has ``big``
    subnets sharing one table. Rack 0's table needs a route to each of rack 1's subnets, rack 1's
    table one route (to rack 0's subnet): ``big`` + 1 routes, all but one in one table, whose
    routes-per-table quota is raised to hold them."""

    big: int = 150

    @property
    def label(self) -> str:
        return f"1+{self.big}, one big table"

    @property
    def racks(self) -> int:
        return 2

    @property
    def routes(self) -> int:
        return self.big + 1

    @property
    def quota(self) -> int:
        return quota_for(self.big)

    def document(
        self, *, steps: list[Any] | None = None, throttle: float | None = None
    ) -> dict[str, Any]:
        if self.big > 255:
            raise ValueError("at most 256 subnets fit the /16")
        subnets = [subnet_entry(0, 0, 0, "rt-0")]
        subnets += [subnet_entry(1, i, 1 + i, "rt-1") for i in range(self.big)]
        return scenario_document(
            self.label,
            racks=self.racks,
            tables=["rt-0", "rt-1"],
            subnets=subnets,
            quota=self.quota,
            steps=steps,
            throttle=throttle,
        )

    def scenario(self, name: str = "bench") -> Scenario:
        return parse_scenario(self.document(), f"bench:{self.label}", name)


GRID = (
    (2, 1),
    (2, 5),
    (4, 5),
    (4, 10),
    (10, 10),
    (10, 20),
)


def grid() -> list[Topology]:
    return [Topology(r, n, per) for r, n in GRID for per in (False, True)]
