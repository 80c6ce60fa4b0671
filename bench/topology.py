"""The benchmarked VPCs, written as scenario documents (the sandbox's public format).

A topology is R Outpost racks with n subnets each in one VPC (10.0.0.0/16, one /24 per subnet),
every subnet on its rack, and either one route table per rack shared by its n subnets
(``shared``) or one route table per subnet (``per-subnet``). The full mesh needs, per table,
one LGW route to every subnet of the other racks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from outpost_mesh_sandbox.scenario import Scenario, parse_scenario

VPC = "mesh"
MAX_ROUTES_PER_TABLE = 1000  # AWS's ceiling for the routes-per-table quota (L-93826ACB)
DEFAULT_ROUTES_PER_TABLE = 50


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
        need = self.routes_per_table
        return (
            DEFAULT_ROUTES_PER_TABLE
            if need <= DEFAULT_ROUTES_PER_TABLE
            else min(MAX_ROUTES_PER_TABLE, ((need + 49) // 50) * 50)
        )

    def table_name(self, rack: int, index: int) -> str:
        return f"rt-{rack}-{index}" if self.per_subnet_tables else f"rt-{rack}"

    def subnet(self, rack: int, index: int) -> dict[str, Any]:
        return {
            "name": f"s-{rack}-{index}",
            "vpc": VPC,
            "cidr": f"10.0.{rack * 20 + index}.0/24",
            "outpost": f"rack-{rack}",
            "route_table": self.table_name(rack, index),
        }

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
        doc: dict[str, Any] = {
            "description": f"benchmark: {self.label}",
            "vpcs": [{"name": VPC, "cidr": "10.0.0.0/16"}],
            "outposts": [{"name": f"rack-{r}"} for r in range(self.racks)],
            "route_tables": [{"name": t, "vpc": VPC} for t in tables],
            "subnets": (
                [self.subnet(r, i) for r in range(self.racks) for i in range(self.subnets_per_rack)]
                if seeded
                else []
            ),
            "quotas": {"routes_per_table": self.quota},
            "steps": steps or [],
        }
        if throttle is not None:
            doc["throttle"] = {"time_scale": throttle}
        return doc

    def scenario(self, name: str = "bench", **kwargs: Any) -> Scenario:
        return parse_scenario(self.document(**kwargs), f"bench:{self.label}", name)


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
