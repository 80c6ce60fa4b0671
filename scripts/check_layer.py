#!/usr/bin/env python3
"""Check the layer `sam build` produced: what Lambda will load from /opt/python.

Fails when the built layer ships boto3/botocore (or their runtime-provided dependencies), lacks
the outpost_mesh package, Powertools or pydantic, or is larger than a limit; warns when a pinned
version differs from the one installed in the venv the tests run with. Run after `sam build`.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
import zipfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / ".aws-sam" / "build" / "OutpostMeshLayer" / "python"
REQUIREMENTS = ROOT / "layers" / "outpost_mesh" / "requirements.txt"
# The Lambda Python runtime provides these; a copy in the layer would shadow the runtime's.
FORBIDDEN = ("boto3", "botocore", "s3transfer", "awscrt")
REQUIRED = ("outpost_mesh", "aws_lambda_powertools", "pydantic", "pydantic_core")
DEFAULT_MAX_MB = 20.0  # unzipped; today ~13 MB (Powertools ~4.4, pydantic-core ~5.1)


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


def check(layer: Path, max_mb: float) -> tuple[list[str], list[str]]:
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
        f"no {'/'.join(FORBIDDEN)}" * (not any("ships" in e for e in errors))
    )
    return errors, warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=Path, default=LAYER_DIR)
    parser.add_argument("--max-mb", type=float, default=DEFAULT_MAX_MB)
    args = parser.parse_args(argv)
    errors, warnings = check(args.layer, args.max_mb)
    for warning in warnings:
        print(f"WARNING {warning}", file=sys.stderr)
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
