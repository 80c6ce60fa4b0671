"""Who calls the sandbox.

The sandbox tells callers apart by the access key id in each request's SigV4 ``Authorization``
header (moto accepts any key). The scenario runner and seeding act as a person would; the pipeline
(handlers, CLI under test) acts as the deployed stack would. The demo report counts only the
pipeline's EC2 calls.
"""

from __future__ import annotations

SCENARIO_ACCESS_KEY = "AKIAOMSCENARIO000001"
PIPELINE_ACCESS_KEY = "AKIAOMPIPELINE000001"
SECRET_KEY = "outpost-mesh-sandbox-secret"
SANDBOX_ACCOUNT = "123456789012"
SANDBOX_REGION = "us-east-1"
