"""Sessions and clients for the CLI, with the AWS CLI's habits.

``--region``, ``--profile`` and ``--endpoint-url`` mean what they mean to the AWS CLI, and
``AWS_ENDPOINT_URL`` is honoured (botocore reads it itself). The region is looked up as the AWS
CLI v2 and the SDKs do: ``--region``, then ``AWS_REGION``, then ``AWS_DEFAULT_REGION``, then the
profile's (botocore itself reads only the last two). Against a local endpoint (the sandbox) with
no credentials configured, the sandbox's own fake credentials are used, so the sandbox works on a
machine that has never seen AWS.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from outpost_mesh.errors import OutpostMeshError
from outpost_mesh.settings import DEFAULT_TABLE, Settings

DEFAULT_STACK = "outpost-mesh"
SANDBOX_TABLE = DEFAULT_TABLE  # the ledger table a local endpoint (the sandbox) has
SANDBOX_REGION = "us-east-1"
# Fake keys for a local endpoint (the sandbox tells callers apart by access key id: this is the
# pipeline's, see outpost_mesh_sandbox.aws.identities).
LOCAL_ACCESS_KEY = "AKIAOMPIPELINE000001"
LOCAL_SECRET_KEY = "outpost-mesh-sandbox-secret"

CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})


class CliError(OutpostMeshError):
    """A problem with the command line or its environment: one line, non-zero exit."""


def _is_local(endpoint: str | None) -> bool:
    if not endpoint:
        return False
    host = urlparse(endpoint).hostname or ""
    return host in ("localhost", "127.0.0.1", "0.0.0.0", "::1", "host.docker.internal") or (
        host.startswith("127.")
    )


def _check_endpoint(endpoint: str) -> None:
    """An endpoint URL botocore can use: http(s)://host[:port] (else one clear line, not a
    traceback from urllib or a misleading "no credentials")."""
    try:
        parsed = urlparse(endpoint)
        parsed.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as error:
        raise CliError(f"invalid endpoint URL {endpoint!r}: {error}") from error
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise CliError(f"invalid endpoint URL {endpoint!r}: expected http(s)://HOST[:PORT]")


@dataclass
class AwsContext:
    region: str | None
    profile: str | None
    endpoint_url: str | None
    table: str | None
    # --stack as given (None: not given, the default stack name is used)
    stack_given: str | None = None

    def __post_init__(self) -> None:
        self.stack = self.stack_given or DEFAULT_STACK
        self.endpoint_url = self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        if self.endpoint_url is not None:
            _check_endpoint(self.endpoint_url)
        self.table = self.table or os.environ.get("OUTPOST_MESH_TABLE") or None
        # AWS_REGION before botocore's AWS_DEFAULT_REGION and the profile's, as the AWS CLI v2
        # and the SDKs' shared settings take it (AWS SDKs and Tools Reference, "AWS Region").
        self.region = self.region or os.environ.get("AWS_REGION") or None
        local = _is_local(self.endpoint_url)
        try:
            session = boto3.Session(profile_name=self.profile, region_name=self.region)
            credentials = session.get_credentials()
        except BotoCoreError as error:  # an unknown profile, a config file botocore cannot read
            raise CliError(str(error)) from error
        if credentials is None:
            if not local:
                where = f"for {self.endpoint_url}" if self.endpoint_url else "for AWS"
                hint = "" if self.endpoint_url else ", or pass --endpoint-url for the sandbox"
                raise CliError(
                    f"no AWS credentials found {where}: configure a profile (aws configure) "
                    f"or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY{hint}"
                )
            session = boto3.Session(
                aws_access_key_id=LOCAL_ACCESS_KEY,
                aws_secret_access_key=LOCAL_SECRET_KEY,
                region_name=session.region_name or SANDBOX_REGION,
            )
        if session.region_name is None:
            if not local:
                raise CliError("no AWS region: pass --region or set AWS_REGION / a profile region")
            session = boto3.Session(
                botocore_session=session._session,  # same credentials
                region_name=SANDBOX_REGION,
            )
        self.session = session
        self.local = local
        if local:
            self._check_reachable()

    def _check_reachable(self) -> None:
        parsed = urlparse(self.endpoint_url or "")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with socket.create_connection((parsed.hostname or "127.0.0.1", port), timeout=3):
                pass
        except OSError as error:
            raise CliError(
                f"cannot reach {self.endpoint_url}: {error.strerror or error} "
                "(is `outpost-mesh sandbox up` running?)"
            ) from error

    def client(self, service: str) -> Any:
        return self.session.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            config=CLIENT_CONFIG,
        )

    def outpost_names(self) -> dict[str, str]:
        """Outpost ARN -> its name (outposts:ListOutposts), for text output; empty where the
        Outposts API does not answer (the sandbox has none: docs/aws-facts.md, "Tools on this
        kind of machine"; a role without the permission): the Outposts' ids are shown then."""
        if self.local:
            return {}
        names: dict[str, str] = {}
        try:
            for page in self.client("outposts").get_paginator("list_outposts").paginate():
                for outpost in page.get("Outposts", []):
                    if outpost.get("OutpostArn") and outpost.get("Name"):
                        names[outpost["OutpostArn"]] = outpost["Name"]
        except (ClientError, BotoCoreError):
            return {}
        return names

    def table_name(self) -> str:
        """``--table``, else OUTPOST_MESH_TABLE, else the sandbox's or the deployed stack's."""
        if self.table:
            return self.table
        if _is_local(self.endpoint_url):
            return SANDBOX_TABLE
        try:
            found = self.client("cloudformation").describe_stack_resource(
                StackName=self.stack, LogicalResourceId="LedgerTable"
            )
        except ClientError as error:
            raise CliError(
                f"no ledger table given and stack {self.stack!r} not found "
                f"({error.response['Error'].get('Message', error)}); pass --table or --stack"
            ) from error
        return str(found["StackResourceDetail"]["PhysicalResourceId"])

    def settings(self) -> Settings:
        """The deployment's settings: the stack's parameter values and its topic, so the CLI
        applies the rules the stack's functions apply (opt-out tag, thresholds, quarantine);
        template.yaml's defaults against the sandbox or where the stack cannot be read."""
        table = self.table_name()
        if _is_local(self.endpoint_url):
            return Settings(table=table)
        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=self.stack)["Stacks"]
        except (ClientError, BotoCoreError):
            return Settings(table=table)  # --table without a readable stack: the defaults
        stack = stacks[0] if stacks else {}
        parameters = {
            p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters") or []
        }
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
        return Settings.from_stack(
            parameters,
            table=table,
            topic_arn=outputs.get("NotificationTopicArn", ""),
            state_machine_arn=outputs.get("StateMachineArn", ""),
        )
