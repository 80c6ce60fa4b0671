"""What every Lambda handler shares: Powertools observability objects and the services.

Created once per container (module scope) and imported by the thin handlers in functions/.
"""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools import Logger, Metrics, Tracer

from outpost_mesh.workflow import Services, Settings

logger = Logger()
metrics = Metrics()
tracer = Tracer()


@cache
def services() -> Services:
    """One set of clients per container; tests and the sandbox runner may clear this cache."""
    return Services(Settings.from_env())
