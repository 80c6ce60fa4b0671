"""A test run writes no file git would show: the guard at the end of tests/conftest.py notes this
process's writes under the repository and fails the session on any git does not ignore. These
tests raise the audit events themselves (``sys.audit``): no file is touched."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_write_rename_or_removal_under_the_repository_is_noted(noted_writes: set[str]) -> None:
    written = ["docs/never-written.md", "docs/never-renamed.md", "docs/never-removed.md"]
    try:
        sys.audit("open", str(ROOT / written[0]), "w", os.O_WRONLY)
        sys.audit("os.rename", str(ROOT / "x.tmp"), str(ROOT / written[1]), None, None)
        sys.audit("os.remove", str(ROOT / written[2]), None)
        assert set(written) <= noted_writes
    finally:
        noted_writes.difference_update(written)


def test_reads_and_writes_elsewhere_are_not_noted(noted_writes: set[str], tmp_path: Path) -> None:
    before = set(noted_writes)
    sys.audit("open", str(ROOT / "README.md"), "r", os.O_RDONLY)
    sys.audit("open", str(ROOT / "README.md"), None, os.O_RDONLY)
    sys.audit("open", str(tmp_path / "report.md"), "w", os.O_WRONLY)
    assert noted_writes == before
