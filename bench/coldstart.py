"""Cold start: each handler's import time in a Lambda-like interpreter, and the layer's size.

Lambda-like: python3.13 without site-packages (``-S``), nothing compiled ahead (``-B`` and fresh
copies without ``__pycache__``, as the issue's target defines it; then again with the layer as
built, with the bytecode it ships), a fresh process per import, and on ``sys.path`` only what
Lambda puts there, in its order: the function's code (/var/task), the
built layer (/opt/python), then the runtime's own boto3/botocore (/var/runtime; linked from the
venv, with their bytecode as a runtime ships them). The X-Ray SDK is not in the layer; its cost is
the same import with aws-xray-sdk (and wrapt) added to the path, so that Powertools' Tracer loads
it.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / ".aws-sam" / "build" / "OutpostMeshLayer" / "python"
FUNCTIONS_DIR = ROOT / "functions"
XRAY_PACKAGES = ("aws_xray_sdk", "wrapt")


def _layer_check() -> Any:
    """scripts/check_layer.py, whose Lambda-like environment (the runtime's packages, the
    functions' environment) the imports here are measured in."""
    path = ROOT / "scripts" / "check_layer.py"
    spec = importlib.util.spec_from_file_location("check_layer", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LAYER_CHECK = _layer_check()
XRAY_PROBE = "apply_routes"  # the handler imported with and without the X-Ray SDK

_IMPORT = r"""
import json, sys, time
task, *paths = sys.argv[1:]
sys.path[:0] = [task, *paths]
start = time.perf_counter()
import app
took = time.perf_counter() - start
print(json.dumps({"seconds": took, "xray": "aws_xray_sdk" in sys.modules}))
"""


@dataclass(frozen=True)
class ImportTime:
    function: str
    ms: float  # median
    runs: int
    pyc_ms: float = 0.0  # median with the layer as built: its shipped bytecode, nothing written


@dataclass(frozen=True)
class ColdStart:
    python: str
    imports: tuple[ImportTime, ...]
    xray_probe: str
    xray_with_ms: float
    xray_without_ms: float
    layer_bytes: int
    layer_zip_bytes: int
    layer_parts: tuple[tuple[str, int], ...]  # biggest top-level entries
    compiled_layer_bytes: int = 0  # the layer as built, with its .pyc files

    @property
    def xray_ms(self) -> float:
        return self.xray_with_ms - self.xray_without_ms


def python313() -> str:
    """The Lambda runtime's interpreter: python3.13 (this one if it is; else pyenv's or PATH's)."""
    if sys.version_info[:2] == (3, 13):
        return sys.executable
    candidates = [shutil.which("python3.13") or ""]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
        candidates.insert(0, f"{root.stdout.strip()}/versions/3.13.0/bin/python3.13")
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    return sys.executable


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def zipped_size(path: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in sorted(path.rglob("*")):
            if item.is_file():
                archive.write(item, item.relative_to(path.parent))
    return len(buffer.getvalue())


def _import_ms(python: str, task: Path, paths: list[Path], env: dict[str, str]) -> float:
    out = subprocess.run(
        [python, "-B", "-S", "-c", _IMPORT, str(task), *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
        cwd=task,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"importing {task.name}/app.py failed: {out.stderr.strip()[-800:]}")
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"]) * 1000


def measure(runs: int = 3) -> ColdStart:
    if not (LAYER_DIR / "outpost_mesh").is_dir():
        raise RuntimeError(f"{LAYER_DIR} has no built layer: run `make build` (sam build) first")
    python = python313()
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="outpost-mesh-coldstart-") as tmp:
        base = Path(tmp)
        layer = base / "opt" / "python"
        shutil.copytree(LAYER_DIR, layer, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        runtime = LAYER_CHECK.link_packages(base / "var" / "runtime")
        xray = LAYER_CHECK.link_packages(base / "xray", XRAY_PACKAGES)
        imports = []
        tasks: dict[str, Path] = {}
        for function in sorted(p for p in FUNCTIONS_DIR.iterdir() if (p / "app.py").is_file()):
            task = base / "var" / "task" / function.name
            task.mkdir(parents=True)
            shutil.copy2(function / "app.py", task / "app.py")
            tasks[function.name] = task
            env = LAYER_CHECK.lambda_env(function.name)
            times = [_import_ms(python, task, [layer, runtime], env) for _ in range(runs)]
            imports.append(ImportTime(function.name, statistics.median(times), runs))
        probe = tasks[XRAY_PROBE]
        env = LAYER_CHECK.lambda_env(XRAY_PROBE)
        without = [_import_ms(python, probe, [layer, runtime], env) for _ in range(runs)]
        with_xray = [_import_ms(python, probe, [layer, runtime, xray], env) for _ in range(runs)]
        # The layer as built, with the bytecode layers/outpost_mesh/Makefile compiles into it
        # (what Lambda loads from /opt: read-only, so nothing more is ever cached there).
        shutil.rmtree(layer)
        shutil.copytree(LAYER_DIR, layer)
        compiled = []
        for item in imports:
            env = LAYER_CHECK.lambda_env(item.function)
            times = [
                _import_ms(python, tasks[item.function], [layer, runtime], env) for _ in range(runs)
            ]
            compiled.append(ImportTime(item.function, item.ms, item.runs, statistics.median(times)))
        imports = compiled
        compiled_bytes = tree_size(layer)
    parts = sorted(
        ((p.name, tree_size(p) if p.is_dir() else p.stat().st_size) for p in LAYER_DIR.iterdir()),
        key=lambda item: -item[1],
    )
    return ColdStart(
        python=f"{python} ({version})",
        imports=tuple(imports),
        xray_probe=XRAY_PROBE,
        xray_with_ms=statistics.median(with_xray),
        xray_without_ms=statistics.median(without),
        layer_bytes=tree_size(LAYER_DIR),
        layer_zip_bytes=zipped_size(LAYER_DIR),
        layer_parts=tuple(parts[:4]),
        compiled_layer_bytes=compiled_bytes,
    )
