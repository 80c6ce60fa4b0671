"""Subcommands that live in their own modules (demo, status, graph), registered here."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the optional subcommands to the ``outpost-mesh`` parser."""
    from outpost_mesh_cli import demo_cmd, status_cmd

    demo_cmd.register(sub, common)
    status_cmd.register(sub, common)
