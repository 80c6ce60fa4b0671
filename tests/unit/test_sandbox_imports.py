"""No import cycles in the project's packages, and the sandbox's folders in dependency order.

The graph is read from the source with ``ast``: every ``import`` and ``from ... import`` of a
project module, at module level or inside a function (a function-level import still runs, later).
Imports under ``if TYPE_CHECKING:`` are left out: they never run. Importing ``a.b.c`` also runs
the ``__init__`` of ``a`` and ``a.b``, so those count too, except the packages the importer sits
in (they are already being imported when it runs).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "outpost_mesh": ROOT / "layers" / "outpost_mesh" / "outpost_mesh",
    "outpost_mesh_cli": ROOT / "src" / "outpost_mesh_cli",
    "outpost_mesh_sandbox": ROOT / "src" / "outpost_mesh_sandbox",
}
#: The sandbox's layers, lowest first: a module may import its own layer and the ones before.
SANDBOX_LAYERS = ("aws", "stack", "scenario", "demo")


def module_files(package: str) -> dict[str, Path]:
    base = PACKAGES[package]
    found = {}
    for path in sorted(base.rglob("*.py")):
        parts = [package, *path.relative_to(base).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def project_modules() -> dict[str, Path]:
    return {name: path for package in PACKAGES for name, path in module_files(package).items()}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:`` (their ``else`` runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imported_modules(module: str, modules: dict[str, Path]) -> set[str]:
    """The project modules ``module`` runs an import of (with the packages that brings in)."""
    tree = ast.parse(modules[module].read_text(encoding="utf-8"))
    is_package = modules[module].name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
    found: set[str] = set()
    for target in targets:
        if target not in modules:
            continue
        found.add(target)
        parts = target.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            inside = module == parent or module.startswith(parent + ".")
            if parent in modules and not inside:
                found.add(parent)
    found.discard(module)
    return found


def import_graph(package: str) -> dict[str, set[str]]:
    modules = project_modules()
    names = module_files(package)
    return {name: {t for t in imported_modules(name, modules) if t in names} for name in names}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (``[a, b, ..., a]``), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycle(package: str) -> None:
    graph = import_graph(package)
    assert len(graph) > 5, f"{package}: no modules found"
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle in {package}: {' -> '.join(cycle or [])}"


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in SANDBOX_LAYERS:
        return None
    return SANDBOX_LAYERS.index(parts[1])


def test_the_sandbox_folders_are_its_dependency_order() -> None:
    """aws < stack < scenario < demo: nothing imports a layer above its own."""
    graph = import_graph("outpost_mesh_sandbox")
    assert {m.split(".")[1] for m in graph if m.count(".")} == set(SANDBOX_LAYERS)
    upward = [
        f"{module} imports {target}"
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if (low := layer_of(module)) is not None
        and (high := layer_of(target)) is not None
        and high > low
    ]
    assert upward == []
    top = [m for m in graph if m.count(".") == 0]
    assert top == ["outpost_mesh_sandbox"] and graph["outpost_mesh_sandbox"] == set()


def test_the_sandbox_control_client_needs_only_the_standard_library() -> None:
    """Other processes drive a sandbox with SandboxControl, without moto installed."""
    modules = module_files("outpost_mesh_sandbox")
    for name in ("outpost_mesh_sandbox.aws.control", "outpost_mesh_sandbox.aws.identities"):
        tree = ast.parse(modules[name].read_text(encoding="utf-8"))
        roots = {
            alias.name.split(".")[0]
            for node in _runtime_nodes(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in _runtime_nodes(tree)
            if isinstance(node, ast.ImportFrom) and not node.level
        }
        third_party = roots - set(sys.stdlib_module_names) - {"outpost_mesh_sandbox"}
        assert third_party == set(), name
