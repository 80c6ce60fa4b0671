"""The rules of a scenario's Outposts, their LGW route tables and the VPCs' associations with them.

:mod:`.rules` walks the document and hands this module the ``outposts``, ``lgw_associations`` and
the steps that (dis)associate a VPC; it keeps which VPC is associated with which table at each
point of the steps, as far as the scenario itself knows (what the pipeline associates is only
known at run time). The rules, AWS's (docs/aws-facts.md, "Several LGW route tables per Outpost"):

- table names are unique across the scenario (a table without a name is the default one, named
  after its Outpost); ``lgw_mode`` and ``lgw_route_tables`` are not given together;
- a first-generation rack has at most one active table (VIF-group associated), a
  second-generation rack at most 10;
- a VPC is associated with at most one LGW route table per Outpost: neither ``lgw_associations``
  nor an ``associate_lgw_route_table`` step may add a second one where the scenario already made
  one; a seeded ``lgw:OUTPOST`` route implies an association with the Outpost's first
  ``available`` table unless the VPC is associated with one of its tables already;
- only an ``available`` table can be associated with a VPC (the sandbox answers
  ``IncorrectState`` otherwise, an assumption of its own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from outpost_mesh_sandbox.scenario import schema
from outpost_mesh_sandbox.scenario.errors import join, suggest
from outpost_mesh_sandbox.scenario.model import (
    DEFAULT_LGW_MODE,
    DEFAULT_LGW_TABLE_STATE,
    MAX_ACTIVE_TABLES,
    LgwAssociationSpec,
    LgwRouteTableSpec,
    OutpostSpec,
)

__all__ = ["LgwRules"]


class LgwRules:
    """Outposts, their tables, and the scenario's own associations at the current point."""

    def __init__(self, fail: Callable[[str, str], NoReturn]) -> None:
        self.fail = fail
        self.outposts: dict[str, OutpostSpec] = {}
        self.tables: dict[str, str] = {}  # table name -> its Outpost
        self.states: dict[str, str] = {}  # table name -> its state
        self.associated: dict[tuple[str, str], str] = {}  # (vpc, outpost) -> table name

    def outpost(self, entry: schema.OutpostEntry, path: str) -> OutpostSpec:
        if entry.name in self.outposts:
            self.fail(join(path, "name"), f"duplicate Outpost name {entry.name!r}")
        generation = entry.generation or 1
        intra = True if entry.intra_vpc is None else entry.intra_vpc
        if entry.lgw_route_tables is None:  # the default table, named after the Outpost
            mode = entry.lgw_mode or DEFAULT_LGW_MODE
            self._name_table(entry.name, entry.name, join(path, "name"))
            spec = OutpostSpec(entry.name, mode, intra, generation)
            self.states[entry.name] = spec.tables[0].state
        else:
            tables_path = join(path, "lgw_route_tables")
            if entry.lgw_mode is not None:
                self.fail(
                    join(path, "lgw_mode"),
                    "give lgw_mode or lgw_route_tables, not both (each table has its own mode)",
                )
            tables = tuple(
                self._table(item, entry.name, f"{tables_path}[{i}]")
                for i, item in enumerate(entry.lgw_route_tables)
            )
            active = [t.name for t in tables if t.active]
            limit = MAX_ACTIVE_TABLES[generation]
            if len(active) > limit:
                self.fail(
                    tables_path,
                    f"a generation {generation} rack has at most {limit} active LGW route "
                    f"table{'s' if limit > 1 else ''} (associated with a VIF group), got "
                    f"{len(active)}: {', '.join(active)}",
                )
            spec = OutpostSpec(entry.name, tables[0].mode, intra, generation, tables)
        self.outposts[entry.name] = spec
        return spec

    def _table(
        self, entry: schema.LgwRouteTableEntry, outpost: str, path: str
    ) -> LgwRouteTableSpec:
        self._name_table(entry.name, outpost, join(path, "name"))
        state = entry.state or DEFAULT_LGW_TABLE_STATE
        self.states[entry.name] = state
        return LgwRouteTableSpec(
            entry.name,
            entry.mode or DEFAULT_LGW_MODE,
            True if entry.active is None else entry.active,
            state,
            tuple((entry.tags or {}).items()),
        )

    def _name_table(self, name: str, outpost: str, path: str) -> None:
        if name in self.tables:
            other = self.tables[name]
            self.fail(
                path,
                f"duplicate LGW route table name {name!r} (also a table of Outpost {other}; "
                "an Outpost's default table is named after it)",
            )
        self.tables[name] = outpost

    def table_ref(self, name: str, path: str) -> str:
        """An LGW route table's name, checked; returns its Outpost."""
        if name not in self.tables:
            listing = ", ".join(sorted(self.tables)) or "none defined"
            self.fail(
                path,
                f"unknown LGW route table {name!r}{suggest(name, self.tables)}; known: {listing}",
            )
        return self.tables[name]

    def associate(self, vpc: str, table: str, path: str) -> LgwAssociationSpec:
        """A person's association (``lgw_associations`` or a step) of a known VPC; ``path`` is
        its mapping."""
        table_path = join(path, "lgw_route_table")
        outpost = self.table_ref(table, table_path)
        if self.states[table] != DEFAULT_LGW_TABLE_STATE:
            self.fail(
                table_path,
                f"LGW route table {table} is {self.states[table]}: AWS associates a VPC only "
                f"with an {DEFAULT_LGW_TABLE_STATE} table",
            )
        held = self.associated.get((vpc, outpost))
        if held is not None:
            self.fail(
                table_path,
                f"VPC {vpc} is associated with {held} of Outpost {outpost} at this point; AWS "
                "associates a VPC with one LGW route table (routing domain) per Outpost",
            )
        self.associated[(vpc, outpost)] = table
        return LgwAssociationSpec(vpc, table)

    def disassociate(self, vpc: str, table: str, path: str) -> None:
        """A person's disassociation of a known VPC: of the scenario's association or of one the
        pipeline made (only known at run time)."""
        outpost = self.table_ref(table, join(path, "lgw_route_table"))
        if self.associated.get((vpc, outpost)) == table:
            del self.associated[(vpc, outpost)]

    def implied_by_route(self, vpc: str, outpost: str, path: str) -> None:
        """A seeded ``lgw:OUTPOST`` route (``path``: its target): the VPC is associated with one
        of the Outpost's tables (the first available one unless ``lgw_associations`` chose)."""
        if (vpc, outpost) in self.associated:
            return
        tables = self.outposts[outpost].tables
        available = [t.name for t in tables if t.state == DEFAULT_LGW_TABLE_STATE]
        if not available:
            self.fail(
                path,
                f"a seeded route to {outpost}'s LGW needs VPC {vpc} associated with one of its "
                f"LGW route tables, and none is {DEFAULT_LGW_TABLE_STATE}",
            )
        self.associated[(vpc, outpost)] = available[0]
