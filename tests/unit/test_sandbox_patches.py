"""The sandbox's changes to third-party objects: one registry, each explained, installed once."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from outpost_mesh_sandbox.aws import patches

SANDBOX = Path(__file__).resolve().parents[2] / "src" / "outpost_mesh_sandbox"
#: The registry, and the module whose code sets the one patched attribute of ``sys``.
ALLOWED = {SANDBOX / "aws" / "patches.py", SANDBOX / "aws" / "lambda_service.py"}


def test_every_patch_says_why_and_which_aws_behaviour_it_stands_for() -> None:
    labels = [p.label for p in patches.PATCHES]
    assert len(labels) == len(set(labels)), "one entry per patched attribute"
    for patch in patches.PATCHES:
        assert len(patch.why) > 20, patch.label
        assert len(patch.aws) > 20, patch.label
        owner = getattr(patch.target, "__module__", None) or patch.target.__name__
        assert not owner.startswith("outpost_mesh"), f"{patch.label}: not a third-party object"


def test_install_applies_every_patch_once() -> None:
    patches.install()
    first = {p.label: vars(p.target).get(p.name) for p in patches.PATCHES if p.target is not sys}
    patches.install()  # a second call changes nothing (no wrapper of a wrapper)
    second = {p.label: vars(p.target).get(p.name) for p in patches.PATCHES if p.target is not sys}
    assert first == second
    assert patches.installed()
    for patch in patches.PATCHES:
        if patch.target is sys:
            continue
        assert patch.name in vars(patch.target), patch.label
        if callable(first[patch.label]):
            assert first[patch.label] is not patches.original(patch.label), patch.label


def _third_party_names(tree: ast.Module) -> set[str]:
    """Names a module binds to third-party modules or their objects (and to ``sys``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith("outpost_mesh"):
                    names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and not node.level:
            module = node.module or ""
            if module != "__future__" and not module.startswith("outpost_mesh"):
                names.update(alias.asname or alias.name for alias in node.names)
    return names


def test_nothing_outside_the_registry_patches_a_third_party_object() -> None:
    """No ``Thing.attr = ...`` or ``setattr(Thing, ...)`` on an imported third-party name."""
    found = []
    for path in sorted(SANDBOX.rglob("*.py")):
        if path in ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        foreign = _third_party_names(tree)
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("setattr", "delattr")
                and node.args
            ):
                targets = [ast.Attribute(value=node.args[0], attr="?", ctx=ast.Store())]
            for target in targets:
                root = target
                while isinstance(root, ast.Attribute):
                    root = root.value
                named = isinstance(target, ast.Attribute) and isinstance(root, ast.Name)
                if named and root.id in foreign:  # type: ignore[union-attr]
                    found.append(f"{path.relative_to(SANDBOX)}:{node.lineno} {root.id}")
    assert found == []
