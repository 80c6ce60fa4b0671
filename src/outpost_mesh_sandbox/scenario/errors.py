"""How a scenario file's mistakes read: one line ``FILE: PATH: PROBLEM``.

PATH is where in the document the problem is (``subnets[2].cidr``,
``steps[0].create_subnet.vpc``, ``steps[3].together[1].add_route.target``); YAML syntax errors and
duplicate keys use ``line N, column M``, since they have no document path yet.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["ScenarioError", "join", "suggest", "type_name"]


class ScenarioError(Exception):
    """A scenario file a user got wrong: ``str(err)`` is one line ``FILE: PATH: PROBLEM``."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = " ".join(problem.split())
        # A key may hold a line break or a control character (YAML allows it): shown escaped.
        where = f"{_one_line(path)}: " if path else ""
        super().__init__(f"{_one_line(source)}: {where}{self.problem}")


def _one_line(text: str) -> str:
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def join(path: str, key: str) -> str:
    """``path.key`` (``key`` alone at the top of the document)."""
    return f"{path}.{key}" if path else key


def type_name(value: object) -> str:
    """A YAML value's type as a user reads it: ``a string``, ``a mapping``, ``nothing (null)``."""
    if value is None:
        return "nothing (null)"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names.update({list: "a list", dict: "a mapping"})
    return names.get(type(value), type(value).__name__)


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a close choice, else nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
