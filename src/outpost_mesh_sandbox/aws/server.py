"""The sandbox: a moto server with Outposts, in-process in a thread, for any boto3 client.

>>> with Sandbox() as sb:                                  # doctest: +SKIP
...     rack = sb.control.seed_outpost("rack-a")
...     ec2 = sb.client("ec2")                             # the pipeline's access key
...     ec2.describe_local_gateways()["LocalGateways"]

Other processes reach it with ``AWS_ENDPOINT_URL=sb.endpoint_url`` (and the access keys of
:mod:`outpost_mesh_sandbox.aws.identities`); they drive it with
:class:`outpost_mesh_sandbox.aws.control.SandboxControl`.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from outpost_mesh_sandbox.aws import patches
from outpost_mesh_sandbox.aws.control import CALLER_KEYS, SandboxControl
from outpost_mesh_sandbox.aws.identities import SANDBOX_ACCOUNT, SANDBOX_REGION, SECRET_KEY
from outpost_mesh_sandbox.aws.middleware import SandboxApp

#: Clients made by :meth:`Sandbox.client` do not retry, so an injected fault is seen exactly as
#: many times as it was injected. Pass ``config=`` to choose otherwise.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


class Sandbox:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.region: str = SANDBOX_REGION
        self.account_id: str = SANDBOX_ACCOUNT
        self.app: SandboxApp | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._endpoint_url: str | None = None
        self._control: SandboxControl | None = None
        self._previous_moto_port: str | None = None
        self._session_lock = threading.Lock()
        self._session: boto3.session.Session | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):  # type: ignore[misc]
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        patches.install()
        self.app = SandboxApp(
            DomainDispatcherApplication(create_backend_app), self.account_id, self.region
        )
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=QuietHandler
        )
        port = int(self._server.server_port)
        self.port = port
        # moto's Step Functions engine calls back into "the" moto server at localhost:MOTO_PORT.
        self._previous_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(port)
        url_host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        self._endpoint_url = f"http://{url_host}:{port}"
        self._control = SandboxControl(self._endpoint_url)
        self.app.reset()  # an empty account, Step Functions execution on
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"sandbox:{port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        if os.environ.get("MOTO_PORT") == str(self.port):
            if self._previous_moto_port is None:
                os.environ.pop("MOTO_PORT", None)
            else:
                os.environ["MOTO_PORT"] = self._previous_moto_port

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- access ----------------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("the sandbox is not started")
        return self._endpoint_url

    @property
    def control(self) -> SandboxControl:
        if self._control is None:
            raise RuntimeError("the sandbox is not started")
        return self._control

    def reset(self) -> None:
        """Back to an empty account (in-process shortcut for ``control.reset()``)."""
        if self.app is None:
            raise RuntimeError("the sandbox is not started")
        self.app.reset()

    def client(self, service: str, caller: str = "pipeline", **kwargs: Any) -> Any:
        """A boto3 client at the sandbox, signed with the caller's access key.

        ``caller`` is ``"pipeline"`` or ``"scenario"`` (or a raw access key id). Extra keyword
        arguments go to ``boto3.client`` (e.g. ``config=``).
        """
        access_key = CALLER_KEYS.get(caller)
        if access_key is None:
            if caller.startswith("AKIA") and len(caller) == 20:
                access_key = caller
            else:
                raise ValueError(f"caller must be one of {sorted(CALLER_KEYS)}, got {caller!r}")
        options: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": self.region,
            "aws_access_key_id": access_key,
            "aws_secret_access_key": SECRET_KEY,
            "config": NO_RETRIES,
        }
        options.update(kwargs)
        with self._session_lock:
            if self._session is None:
                self._session = boto3.session.Session()
            session: Any = self._session
            return session.client(service, **options)
