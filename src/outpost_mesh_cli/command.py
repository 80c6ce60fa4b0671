"""What every subcommand shares: the exit codes, the reconcile service made from the common flags,
the owner id of this run, the names AWS gives what a VPC holds, checks of values before any call,
and output as a table for people or JSON for programs (one line on stderr for what went wrong)."""

from __future__ import annotations

import argparse
import errno
import getpass
import json
import math
import os
import re
import socket
import sys
from collections.abc import Callable
from enum import IntEnum
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from outpost_mesh.errors import from_client_error
from outpost_mesh.model import Topology
from outpost_mesh.notices import CLI_ACTOR_PREFIX
from outpost_mesh.service import ReconcileService
from outpost_mesh_cli.aws import AwsContext, CliError
from outpost_mesh_cli.render import Names

PROG = "outpost-mesh"
T = TypeVar("T")


class ExitCode(IntEnum):
    """The CLI's exit codes (README, "The CLI", and ``outpost-mesh --help`` list them)."""

    DONE = 0  # done, or the VPC is in its desired state
    PROBLEM = 1  # a reconcile or verify found a problem: the stderr line says which
    BAD_INPUT = 2  # bad input or environment (the stderr line says what)
    BUSY = 3  # another actor holds the VPC's lease: retry later
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


EXIT_CODES_HELP = """exit codes:
  0    done: the command did what it says (apply, remove: the VPC is in its desired state)
  1    a reconcile or verify found a problem, named on stderr: a pair expected reachable is
       not, a failed change was rolled back, deletion safety held deletions
  2    bad input or environment (an unknown VPC, no credentials, an endpoint that is not AWS)
  3    busy: another actor (the workflow, another CLI run) holds the VPC; retry later
  130  interrupted (Ctrl-C)
A closed stdout (| head) is not an error: the rest of the output is dropped and the exit code is
the command's."""


class BusyError(CliError):
    """Another actor holds the VPC's lease (the workflow or another CLI run): retry later."""


# -- values checked before any call ------------------------------------------------------------
# EC2 resource ids: the type's prefix, a dash, then 8 hex digits (ids made before 2016) or 17
# ("longer resource IDs", EC2 User Guide, "Resource IDs").
VPC_ID = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
# An Outpost's ARN (Outposts API Reference, "Outpost"): arn:PARTITION:outposts:REGION:ACCOUNT:
# outpost/op-<hex digits>.
OUTPOST_ARN = re.compile(r"^arn:aws[a-z-]*:outposts:[a-z0-9-]+:[0-9]{12}:outpost/op-[0-9a-f]+$")
MAX_PORT = 65535


def parse_vpc_id(value: str) -> str:
    """An argparse type: a VPC id as EC2 writes them (``--vpc subnet-123`` fails here)."""
    return _matching(VPC_ID, value, "a VPC id (vpc- and 8 or 17 hex digits, e.g. vpc-0a1b2c3d)")


def parse_outpost_arn(value: str) -> str:
    """An argparse type: an Outpost's ARN, as findings and ``status --output json`` show it."""
    return _matching(
        OUTPOST_ARN, value, "an Outpost ARN (arn:aws:outposts:REGION:ACCOUNT:outpost/op-...)"
    )


def parse_count(value: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    number = _parsed(value, int, "a whole number")
    if number < 0:
        raise argparse.ArgumentTypeError(f"{number} is below 0")
    return number


def parse_port(value: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    port = parse_count(value)
    if port > MAX_PORT:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0 for a free one, up to 65535)")
    return port


def parse_seconds(value: str) -> float:
    """An argparse type: a finite number of seconds above 0 (``--timeout 0`` would never wait)."""
    seconds = _parsed(value, float, "a number of seconds")
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"{value} is not a number of seconds above 0")
    return seconds


def _matching(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not {what}")
    return value


def _parsed(value: str, kind: Callable[[str], T], what: str) -> T:
    try:
        return kind(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not {what}") from None


def check_port_free(host: str, port: int) -> None:
    """Refuse, in one line, an address another program listens on (the server's own refusal is
    two lines and a bare exit). Port 0 asks for a free one: nothing to check."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise CliError(f"cannot listen on {host!r}: {error.strerror or error}") from error
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As the server binds: reusing an address in TIME_WAIT, not one in use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CliError(
                    f"port {port} on {host} is in use by another program: pick another "
                    "--port, or --port 0 for a free one"
                ) from error
            raise CliError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


# -- one run -------------------------------------------------------------------------------------
def owner() -> str:
    """This run's id as a lease holder and ledger owner (the prefix marks a CLI run)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "unknown"
    return f"{CLI_ACTOR_PREFIX}{user}@{socket.gethostname()}:{os.getpid()}"


def service(args: argparse.Namespace) -> tuple[AwsContext, ReconcileService]:
    """The AWS context of the common flags and the service over the deployment's settings."""
    ctx = AwsContext(args.region, args.profile, args.endpoint_url, args.table, args.stack)
    return ctx, ReconcileService(ctx.settings(), ctx)


def read_names(ctx: AwsContext, svc: ReconcileService, topology: Topology) -> Names:
    """The Name tags of the VPC and its route tables (two Describes), its subnets' and LGW route
    tables' (read with the topology) and the Outposts' names (the Outposts API, where there is
    one)."""
    names: dict[str, str] = {}
    try:
        vpcs = svc.ec2.describe_vpcs(VpcIds=[topology.vpc_id])["Vpcs"]
        pages = svc.ec2.get_paginator("describe_route_tables").paginate(
            Filters=[{"Name": "vpc-id", "Values": [topology.vpc_id]}]
        )
        tagged = [(v["VpcId"], v.get("Tags")) for v in vpcs]
        for page in pages:
            tagged += [(t["RouteTableId"], t.get("Tags")) for t in page["RouteTables"]]
    except ClientError as error:
        raise from_client_error(error, subject=topology.vpc_id) from error
    for resource_id, tags in tagged:
        name = next((t.get("Value") for t in tags or [] if t.get("Key") == "Name"), None)
        if name:
            names[resource_id] = name
    names.update({s.subnet_id: s.name for s in topology.subnets if s.name})
    names.update({t.route_table_id: t.name for t in topology.lgw_route_tables if t.name})
    names.update(ctx.outpost_names())
    return Names(names, {s.subnet_id: s.outpost_arn for s in topology.subnets if s.outpost_arn})


# -- output --------------------------------------------------------------------------------------
def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """The command's result on stdout. A reader that went away (``| head``) is not an error: the
    rest is dropped, the command goes on and exits with its own code."""
    out = json.dumps(data, indent=2, sort_keys=False) if args.output == "json" else text
    try:
        print(out, flush=True)
    except BrokenPipeError:
        drop_stdout()


def drop_stdout() -> None:
    """Send what is left for stdout to /dev/null, so nothing (not even the flush at exit)
    writes to the closed pipe again (Python's documented recipe, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # no file descriptor behind sys.stdout
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stdout for the rest of the run


def fail(message: str) -> None:
    """What went wrong, as one line on stderr (whatever the message holds: a server's HTML, a
    multi-line AWS message), cut to a length a terminal shows."""
    line = " ".join(str(message).split())
    if len(line) > MAX_ERROR_CHARS:
        line = line[: MAX_ERROR_CHARS - 3] + "..."
    print(f"{PROG}: error: {line}", file=sys.stderr, flush=True)


MAX_ERROR_CHARS = 400
