"""Reading a scenario file: YAML (no duplicate keys, timestamps kept as text), then validation.

Everything a user can get wrong is one :class:`~.errors.ScenarioError` line
``FILE: PATH: PROBLEM``: the YAML here, each value on its own in :mod:`.schema`, the rules between
values in :mod:`.rules`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from outpost_mesh_sandbox.scenario import rules, schema
from outpost_mesh_sandbox.scenario.errors import ScenarioError
from outpost_mesh_sandbox.scenario.model import Scenario

if TYPE_CHECKING:
    from yaml.nodes import MappingNode

__all__ = ["load_scenario", "parse_scenario"]


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and keeps timestamps as text (events carry them)."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key; the base class reports it
                break
            if duplicate:
                mark = key_node.start_mark
                raise _DuplicateKeyError(mark.line + 1, mark.column + 1, key)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Its own mapping constructor: SafeLoader's class-wide table is shared with every library in the
# process, and aws-sam-cli's yaml_parse replaces SafeLoader's mapping constructor with one that
# never calls construct_mapping (a test importing it made duplicate keys pass silently).
def _mapping(loader: _Loader, node: MappingNode) -> Iterator[dict[Any, Any]]:
    yield from loader.construct_yaml_map(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)


class _DuplicateKeyError(Exception):
    def __init__(self, line: int, column: int, key: object) -> None:
        super().__init__(line, column, key)
        self.line, self.column, self.key = line, column, key


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file; its name is the file's stem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(source, "", f"cannot read the file: {err}") from err
    try:
        doc = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except _DuplicateKeyError as err:
        where = f"line {err.line}, column {err.column}"
        raise ScenarioError(source, where, f"duplicate key {err.key!r}") from err
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = err.problem or "invalid YAML"
        context = f" ({err.context})" if err.context else ""
        raise ScenarioError(source, where, f"invalid YAML: {problem}{context}") from err
    except yaml.YAMLError as err:
        raise ScenarioError(source, "", f"invalid YAML: {err}") from err
    return parse_scenario(doc, source, Path(path).stem)


def parse_scenario(doc: object, source: str, name: str) -> Scenario:
    """Validate an already-parsed YAML document; ``source`` prefixes every error."""
    return rules.build(schema.read(doc, source), source, name)
