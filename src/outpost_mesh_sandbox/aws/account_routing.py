"""Which account's moto backends answer a request.

moto keeps one set of backends per account and picks it per request: the ``x-moto-account-id``
header first, else the account of an access key its IAM issued, else its default account
(``moto.core.responses.BaseResponse.get_current_account``). The sandbox names the account for:

* a key of :func:`outpost_mesh_sandbox.aws.identities.access_key` (a person, a stack, the runner
  acting in one account): that key's account;
* moto's Step Functions engine invoking a Lambda function: it signs every call with one fixed key
  (``ENGINE_ACCESS_KEY``, ``moto/stepfunctions/parser/asl/utils/boto_client.py``), which would
  run the default account's function of that name (moto's Lambda ignores the account in a
  function ARN). AWS Step Functions invokes the function the ARN names, as the state machine's
  role in the state machine's account: the function ARN's account answers.
"""

from __future__ import annotations

import re
import urllib.parse

from outpost_mesh_sandbox.aws.identities import account_of_key

#: The access key moto's Step Functions engine signs its service calls with.
ENGINE_ACCESS_KEY = "ak"
_FUNCTION_ARN = re.compile(r"arn:aws[\w-]*:lambda:[\w-]+:(\d{12}):function:")
HEADER = "HTTP_X_MOTO_ACCOUNT_ID"


def serving_account(caller: str, service: str, path: str) -> str | None:
    """The account that answers (None: moto's own rule)."""
    if service == "lambda" and caller == ENGINE_ACCESS_KEY:
        found = _FUNCTION_ARN.search(urllib.parse.unquote(path))
        return found.group(1) if found else None
    return account_of_key(caller)
