#!/usr/bin/env python3
"""Check the layer `sam build` produced: what Lambda will load from /opt/python.

Fails when the built layer ships boto3/botocore (or their runtime-provided dependencies), lacks the
outpost_mesh package, Powertools or pydantic, is larger than a limit, holds an import of one of its
own packages that the build's trim left without its module (layers/outpost_mesh/Makefile), lacks
python3.13's checked-hash bytecode for a module, or when a handler does not import, or parse its
sample event, with only the built layer and the runtime's packages on its path. Warns when a pinned
version differs from the one installed in the venv the tests run with. Run after `sam build`, with
the venv's python3.13.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / ".aws-sam" / "build" / "OutpostMeshLayer" / "python"
REQUIREMENTS = ROOT / "layers" / "outpost_mesh" / "requirements.txt"
FUNCTIONS_DIR = ROOT / "functions"
EVENTS_DIR = ROOT / "events"
# The Lambda Python runtime provides these; a copy in the layer would shadow the runtime's.
FORBIDDEN = ("boto3", "botocore", "s3transfer", "awscrt", "jmespath")
REQUIRED = ("outpost_mesh", "aws_lambda_powertools", "pydantic", "pydantic_core")
# What /var/runtime holds (boto3 and its dependencies); linked from this venv for the probe.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
DEFAULT_MAX_MB = 10.0  # unzipped; ~9.9 MB with its bytecode, 4.9 MB of it pydantic-core
# Imports in the layer whose module the trim removed, and why nothing runs them.
KNOWN_DANGLING = {
    "aws_lambda_powertools.event_handler.openapi.compat": (
        "shared.functions.pydantic_to_dict: Logger(log_event=True) given a pydantic model as the "
        "event; Lambda hands handlers a dict"
    ),
    "pydantic.v1": "only for a pydantic-v1 style type (__get_validators__); none here",
    "pydantic.deprecated": (
        "BaseModel's v1-style methods (parse_obj, parse_raw, copy, ...); the code uses the v2 API"
    ),
    "pydantic.deprecated.json": "BaseModel.json(), v1-style; the code uses model_dump_json",
}

# Run in a fresh python3.13 with -S: Lambda's path only (task, layer, runtime), no site-packages.
_PROBE = r"""
import json, sys
task, layer, runtime, samples = sys.argv[1:5]
sys.path[:0] = [task, layer, runtime]
import app
from pydantic import BaseModel
from outpost_mesh.errors import MalformedInputError
from outpost_mesh.lambda_kit import parse_input
models = [
    v for v in vars(app).values()
    if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__.startswith("outpost_mesh.")
]
assert callable(app.handler), "no handler"
assert models, "imports no input model"
parsed = 0
for path in json.loads(samples):
    with open(path, encoding="utf-8") as sample:
        event = json.load(sample)
    for model in models:
        try:
            parse_input(event, model)
            parsed += 1
        except MalformedInputError:
            pass
assert parsed, f"no sample event parses with {[m.__name__ for m in models]}"
for model in models:  # the rejection path: ValidationError, the logged reason
    try:
        parse_input({"unexpected": [1]}, model)
    except MalformedInputError:
        pass
print(json.dumps({"parsed": parsed}))
"""


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def zipped_size(path: Path) -> int:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in sorted(path.rglob("*")):
            if item.is_file():
                archive.write(item, item.relative_to(path.parent))
    return len(buffer.getvalue())


def pins(requirements: Path) -> dict[str, str]:
    found = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;#]+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def _module_exists(layer: Path, module: str) -> bool:
    base = layer.joinpath(*module.split("."))
    return (
        base.with_suffix(".py").is_file()
        or (base / "__init__.py").is_file()
        or any(base.parent.glob(f"{base.name}.*.so"))
    )


def _type_checking_only(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def dangling_imports(layer: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Modules of ``packages`` imported anywhere in their code (function bodies too, not under
    TYPE_CHECKING) but absent from the layer: {missing module: importing modules}."""
    missing: dict[str, set[str]] = {}
    for path in sorted(p for top in packages for p in (layer / top).rglob("*.py")):
        parts = list(path.relative_to(layer).with_suffix("").parts)
        package = parts[:-1]  # what a relative import starts from, for a module or an __init__
        module = ".".join(package if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                targets = [".".join([*base, *([node.module] if node.module else [])])]
            else:
                continue
            for target in targets:
                if target.split(".")[0] in packages and not _module_exists(layer, target):
                    missing.setdefault(target, set()).add(module)
    return missing


def link_packages(into: Path, names: tuple[str, ...] = RUNTIME_PACKAGES) -> Path:
    """A directory of these packages as installed in this venv (by default boto3 and its
    dependencies, as the Lambda runtime has them in /var/runtime), linked, not copied."""
    into.mkdir(parents=True, exist_ok=True)
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{name} is not installed in this venv")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (into / source.name).symlink_to(source)
    return into


def lambda_env(function: str) -> dict[str, str]:
    """The environment a function of the stack gets (the parts its imports read); nothing else
    of this process's (no AWS credentials, no PYTHONPATH) and no bytecode written."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "POWERTOOLS_SERVICE_NAME": "outpost-mesh",
        "POWERTOOLS_METRICS_NAMESPACE": "OutpostMesh",
        "LEDGER_TABLE": "outpost-mesh-ledger",
    }


def bytecode_problems(layer: Path) -> list[str]:
    """Modules of the layer that Lambda would compile at every cold start (/opt is read-only):
    no .pyc of this interpreter (run with python3.13, the runtime's), or one that is not
    hash-checked (layers/outpost_mesh/Makefile compiles with checked-hash) or does not match its
    source."""
    tag = sys.implementation.cache_tag
    problems: dict[str, list[str]] = {}
    for source in sorted(layer.rglob("*.py")):
        name = str(source.relative_to(layer))
        cached = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        if not cached.is_file():
            problems.setdefault(f"no {tag} .pyc", []).append(name)
            continue
        header = cached.read_bytes()[:16]
        flags = int.from_bytes(header[4:8], "little")
        if header[:4] != importlib.util.MAGIC_NUMBER or flags != 0b11:
            problems.setdefault(
                "a .pyc that is not checked-hash bytecode of this Python", []
            ).append(name)
        elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
            problems.setdefault("a .pyc that does not match its source", []).append(name)
    return [
        f"{len(names)} module(s) with {what}: {', '.join(names[:3])}"
        + (" ..." if len(names) > 3 else "")
        for what, names in problems.items()
    ]


def samples_of(function: str) -> list[Path]:
    return sorted([*EVENTS_DIR.glob(f"{function}.json"), *EVENTS_DIR.glob(f"{function}_*.json")])


def handler_failures(layer: Path) -> dict[str, str]:
    """Import each functions/<name>/app.py and parse its sample events, Lambda-like."""
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="outpost-mesh-layer-check-") as tmp:
        runtime = link_packages(Path(tmp) / "runtime")
        for task in sorted(p for p in FUNCTIONS_DIR.iterdir() if (p / "app.py").is_file()):
            samples = json.dumps([str(p) for p in samples_of(task.name)])
            paths = [str(task), str(layer), str(runtime)]
            done = subprocess.run(
                [sys.executable, "-B", "-S", "-c", _PROBE, *paths, samples],
                capture_output=True,
                text=True,
                env=lambda_env(task.name),
                cwd=task,
                timeout=120,
                check=False,
            )
            if done.returncode != 0:
                failures[task.name] = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    return failures


def check(layer: Path, max_mb: float, handlers: bool = True) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    if not layer.is_dir():
        return [f"{layer} not found: run `sam build` first"], warnings
    names = {p.name.lower() for p in layer.iterdir()}
    for name in FORBIDDEN:
        shipped = sorted(n for n in names if n == name or n.startswith(f"{name}-"))
        if shipped:
            errors.append(f"layer ships {', '.join(shipped)}: the Lambda runtime provides {name}")
    for name in REQUIRED:
        if name not in names:
            errors.append(f"layer lacks {name}")
    if (layer / "aws_xray_sdk").exists():
        warnings.append("layer ships aws_xray_sdk: check it brought no botocore")
    size = tree_size(layer)
    if size > max_mb * 1e6:
        errors.append(f"layer is {size / 1e6:.1f} MB unzipped, over the {max_mb} MB limit")
    errors += bytecode_problems(layer)
    shipped_packages = tuple(
        sorted(p.name for p in layer.iterdir() if (p / "__init__.py").is_file())
    )
    for module, importers in sorted(dangling_imports(layer, shipped_packages).items()):
        if module not in KNOWN_DANGLING:
            errors.append(
                f"{', '.join(sorted(importers)[:3])} import {module}, which the layer lacks "
                "(trimmed by layers/outpost_mesh/Makefile?)"
            )
    if handlers and not errors:
        for function, failure in handler_failures(layer).items():
            errors.append(f"functions/{function}/app.py against the built layer: {failure}")
    for package, pinned in pins(REQUIREMENTS).items():
        try:
            installed = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
        if installed != pinned:
            warnings.append(
                f"{package}: layer pins {pinned}, the test venv has {installed}: "
                "tests do not run the deployed version"
            )
    print(
        f"layer {layer.relative_to(ROOT) if layer.is_relative_to(ROOT) else layer}: "
        f"{size / 1e6:.1f} MB unzipped, {zipped_size(layer) / 1e6:.1f} MB zipped, "
        f"no {'/'.join(FORBIDDEN)}"
        * (not any("ships" in e for e in errors))
        + (", every handler imports and parses its samples" if handlers and not errors else "")
    )
    return errors, warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=Path, default=LAYER_DIR)
    parser.add_argument("--max-mb", type=float, default=DEFAULT_MAX_MB)
    parser.add_argument(
        "--no-handlers", action="store_true", help="skip importing the handlers against the layer"
    )
    args = parser.parse_args(argv)
    if sys.version_info[:2] != (3, 13):
        print(
            "ERROR run with python3.13 (the layer's pydantic-core and bytecode are built for it)",
            file=sys.stderr,
        )
        return 1
    errors, warnings = check(args.layer, args.max_mb, handlers=not args.no_handlers)
    for warning in warnings:
        print(f"WARNING {warning}", file=sys.stderr)
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
