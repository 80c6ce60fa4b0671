"""Placeholders in a scenario's raw events: ``{{vpc:NAME}}``, ``{{subnet:NAME}}``,
``{{route_table:NAME}}`` (``main:VPC`` too), ``{{outpost:NAME}}``, ``{{account}}``, ``{{region}}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn, Protocol

from outpost_mesh_sandbox.scenario.errors import ScenarioError, join, suggest, type_name

__all__ = [
    "PLACEHOLDER",
    "PLACEHOLDER_KINDS",
    "PLACEHOLDER_WORDS",
    "PlaceholderIds",
    "check_event",
    "parse_placeholder",
    "substitute_placeholders",
]

PLACEHOLDER_KINDS = ("vpc", "subnet", "route_table", "outpost")
PLACEHOLDER_WORDS = ("account", "region")
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")


class PlaceholderIds(Protocol):
    """What :func:`substitute_placeholders` needs (:class:`.ids.IdMap` is one).

    ``placeholder_value(kind, name)`` returns the sandbox's value, ``kind`` one of
    ``vpc``, ``subnet``, ``route_table``, ``outpost`` (name given) or ``account``, ``region`` (name
    None), and raises KeyError for an unknown name.
    """

    def placeholder_value(self, kind: str, name: str | None) -> str: ...


def parse_placeholder(inner: str) -> tuple[str, str | None]:
    """``vpc:app`` -> (vpc, app); ``account`` -> (account, None). Raises ValueError."""
    if inner in PLACEHOLDER_WORDS:
        return inner, None
    kind, sep, name = inner.partition(":")
    if not sep or kind not in PLACEHOLDER_KINDS:
        known = ", ".join(
            [*(f"{{{{{k}:NAME}}}}" for k in PLACEHOLDER_KINDS)]
            + [f"{{{{{w}}}}}" for w in PLACEHOLDER_WORDS]
        )
        raise ValueError(f"unknown placeholder {{{{{inner}}}}} (known: {known})")
    if not name or re.search(r"\s", name):
        raise ValueError(f"placeholder {{{{{inner}}}}} needs a name without whitespace")
    return kind, name


def _walk_strings(obj: object, path: str, visit: Callable[[str, str], str]) -> object:
    """Rebuild ``obj`` with ``visit(text, path)`` applied to every string, keys included."""
    if isinstance(obj, str):
        return visit(obj, path)
    if isinstance(obj, Mapping):
        rebuilt: dict[object, object] = {}
        for key, value in obj.items():
            where = f"{path}.{key}"
            new_key = visit(key, where) if isinstance(key, str) else key
            rebuilt[new_key] = _walk_strings(value, where, visit)
        return rebuilt
    if isinstance(obj, list | tuple):
        return [_walk_strings(item, f"{path}[{i}]", visit) for i, item in enumerate(obj)]
    return obj


def substitute_placeholders(
    obj: object, ids: PlaceholderIds, *, source: str = "event", path: str = "event"
) -> Any:
    """Replace ``{{vpc:NAME}}``, ``{{subnet:NAME}}``, ``{{route_table:NAME}}`` (``main:VPC`` too),
    ``{{outpost:NAME}}`` (the Outpost ARN), ``{{account}}`` and ``{{region}}`` in every string of
    ``obj``, recursively (dict keys too); a new object is returned. Unknown placeholders or names
    raise :class:`ScenarioError` (``source``/``path`` say where, for the runner's error line).
    """

    def replace(text: str, where: str) -> str:
        def one(match: re.Match[str]) -> str:
            try:
                kind, name = parse_placeholder(match.group(1))
                return ids.placeholder_value(kind, name)
            except ValueError as err:
                raise ScenarioError(source, where, str(err)) from err
            except KeyError as err:
                raise ScenarioError(
                    source, where, f"{match.group(0)}: the sandbox has no {err.args[0]}"
                ) from err

        return PLACEHOLDER.sub(one, text)

    return _walk_strings(obj, path, replace)


def check_event(
    value: object,
    path: str,
    names: Callable[[str], Iterable[str]],
    fail: Callable[[str, str], NoReturn],
) -> None:
    """A scenario's raw event is JSON-shaped, and each placeholder in it names something that
    exists (``names(kind)``: the names known at this point); ``fail(path, problem)`` otherwise."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                fail(join(path, str(key)), "event keys must be strings")
            _check_text(key, join(path, key), names, fail)
            check_event(item, join(path, key), names, fail)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_event(item, f"{path}[{i}]", names, fail)
    elif isinstance(value, str):
        _check_text(value, path, names, fail)
    elif value is not None and not isinstance(value, bool | int | float):
        fail(path, f"event values must be JSON values, got {type_name(value)}")


def _check_text(
    text: str,
    path: str,
    names: Callable[[str], Iterable[str]],
    fail: Callable[[str, str], NoReturn],
) -> None:
    for match in PLACEHOLDER.finditer(text):
        try:
            kind, name = parse_placeholder(match.group(1))
        except ValueError as err:
            fail(path, str(err))
        if name is None:
            continue
        known = list(names(kind))
        if name not in known:
            fail(
                path,
                f"{match.group(0)} names no {kind.replace('_', ' ')} that exists at this "
                f"point{suggest(name, known)}",
            )
