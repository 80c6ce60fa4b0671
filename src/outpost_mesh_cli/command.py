"""What every subcommand shares: the reconcile service made from the common flags, the owner
id of this run, and output as a table for people or JSON for programs."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
from typing import Any

from outpost_mesh.notices import CLI_ACTOR_PREFIX
from outpost_mesh.service import ReconcileService
from outpost_mesh_cli.aws import AwsContext


def owner() -> str:
    """This run's id as a lease holder and ledger owner (the prefix marks a CLI run)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "unknown"
    return f"{CLI_ACTOR_PREFIX}{user}@{socket.gethostname()}:{os.getpid()}"


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.output == "json":
        print(json.dumps(data, indent=2, sort_keys=False))
    else:
        print(text)


def service(args: argparse.Namespace) -> tuple[AwsContext, ReconcileService]:
    """The AWS context of the common flags and the service over the deployment's settings."""
    ctx = AwsContext(args.region, args.profile, args.endpoint_url, args.table, args.stack)
    return ctx, ReconcileService(ctx.settings(), ctx)
