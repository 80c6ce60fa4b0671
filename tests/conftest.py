"""Shared fixtures: one sandbox server per test session; and a guard: a test run writes no file
git would show."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from outpost_mesh_sandbox.aws.server import Sandbox


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The session's sandbox server (started once, stopped at the end)."""
    with Sandbox() as running:
        yield running


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, reset to an empty account for this test."""
    sandbox.control.reset()
    yield sandbox


@pytest.fixture
def ec2(sb: Sandbox) -> Any:
    """EC2 client signed with the pipeline's access key."""
    return sb.client("ec2", caller="pipeline")


@pytest.fixture
def scenario_ec2(sb: Sandbox) -> Any:
    """EC2 client signed with the scenario's access key (a person's calls)."""
    return sb.client("ec2", caller="scenario")


# -- a test run writes no file git would show ------------------------------------------------
# Every open for writing, rename and removal this process makes under the repository is noted
# (a Python audit hook: only this process's own calls, never a person's edits made meanwhile);
# at the session's end, any of them git does not ignore (a tracked file, or a new file git would
# list as untracked) fails the run. Reports go under reports/ (git-ignored). Subprocesses are not
# watched.
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_WRITES: set[str] = set()
_WATCH = {"on": False}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def _noted_write(event: str, args: tuple[Any, ...]) -> None:
    if event not in ("open", "os.rename", "os.remove") or not _WATCH["on"]:
        return
    try:
        if event == "open":
            path, mode, flags = args[0], args[1], args[2]
            writing = (
                any(c in mode for c in "wax+") if isinstance(mode, str) else flags & _WRITE_FLAGS
            )
            if not writing:
                return
        elif event == "os.rename":
            path, dir_fd = args[1], args[3]
        else:
            path, dir_fd = args[0], args[1]
        if isinstance(path, int) or (event != "open" and dir_fd is not None):
            return  # a descriptor, or a name relative to one (shutil.rmtree's): not ours to judge
        full = os.path.abspath(os.fsdecode(path))
        if full.startswith(_REPO + os.sep) and "__pycache__" not in full:
            _WRITES.add(os.path.relpath(full, _REPO))
    except Exception:  # an audit hook must never break the call it watches
        return


sys.addaudithook(_noted_write)


@pytest.fixture
def noted_writes() -> set[str]:
    """The repository paths this run wrote (for the guard's own test)."""
    return _WRITES


def pytest_sessionstart(session: pytest.Session) -> None:
    _WATCH["on"] = True


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _WATCH["on"] = False
    if not _WRITES or not os.path.exists(os.path.join(_REPO, ".git")):
        return
    paths = sorted(_WRITES)
    try:
        ignored = set(_git("check-ignore", "--stdin", "-z", stdin="\0".join(paths)))
        # Tracked files, and files git would list as untracked (a relative name the hook resolved
        # against the working directory may have been relative to a descriptor: only if it is
        # there).
        tracked = set(_git("--literal-pathspecs", "ls-files", "-z", "--", *paths))
    except (OSError, subprocess.SubprocessError):
        return  # no git: nothing to compare with
    written = sorted(
        path
        for path in set(paths) - ignored
        if path in tracked or os.path.isfile(os.path.join(_REPO, path))
    )
    if written:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        line = (
            f"this test run wrote {len(written)} file(s) git would show (tests write under "
            f"reports/, which is git-ignored): {', '.join(written[:10])}"
        )
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(line, red=True)
        else:
            sys.stderr.write(line + "\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _git(*args: str, stdin: str = "") -> list[str]:
    """A git command's NUL-separated output."""
    out = subprocess.run(
        ["git", "-C", _REPO, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    ).stdout
    return [path for path in out.split("\0") if path]
