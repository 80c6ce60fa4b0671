"""AWS's size limits where moto does not enforce them as AWS does (docs/aws-facts.md, "Size
limits").

* **SNS Publish** refuses a message over 262,144 bytes, counting its UTF-8 bytes and every part of
  its message attributes (name, type, value). moto counts the message's characters only (and
  words its refusal "An error occurred (InvalidParameter) ..."). :func:`publish_size_checked`
  counts as AWS does and answers ``InvalidParameter`` "Invalid parameter: Message too long".
* **Step Functions** ends an execution whose task result or state exceeds 256 KiB with
  ``States.DataLimitExceeded``, a terminal error that ``States.ALL`` does not catch (nor retry).
  moto checks the sizes already (``StateTaskLambda._verify_size_quota`` on a Lambda's invocation
  response, ``State._verify_size_quota`` on a state's output; moto.stepfunctions.parser.quotas,
  which counts a few bytes of the response's metadata too and allows strictly less than 256 KiB:
  ASSUMED close enough, the project stays far below) but its ``States.ALL`` matches every error:
  :func:`terminal_not_caught_by_all` leaves that one error to explicit names only.
* **DynamoDB** refuses an item over 400 KB: moto does (``LimitedSizeDict``, ItemSizeTooLarge /
  ItemSizeToUpdateTooLarge, "Item size has exceeded the maximum allowed size"), at 405,000 bytes
  by its own count, a little stricter than AWS's 400 KB (409,600 bytes): not patched.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from moto.sns.exceptions import InvalidParameterValue
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)

# SNS Publish: "at most 256 KB (262,144 bytes)" (docs/aws-facts.md, "Size limits"); "All parts of
# the message attribute, including name, type, and value, are included in the message size
# restriction" (SNS API reference, MessageAttributeValue).
SNS_MESSAGE_BYTES = 262_144
# The error SNS answers (code InvalidParameter, moto's SNS InvalidParameterValue class): the text
# is AWS's "Invalid parameter: Message too long" (the words moto's own refusal ends with).
SNS_TOO_LONG = "Invalid parameter: Message too long"

# Step Functions: States.DataLimitExceeded "can't be caught by the States.ALL error type"
# (docs/aws-facts.md, "Size limits"; Step Functions developer guide, "Error names"). ASSUMPTION:
# a Retrier or Catcher naming it explicitly matches it (AWS documents only States.ALL; moto's
# name comparison is kept for explicit names).
TERMINAL = StatesErrorName(typ=StatesErrorNameType.StatesStatesDataLimitExceeded)
STATES_ALL = StatesErrorName(typ=StatesErrorNameType.StatesALL)


def _attribute_bytes(name: str, attribute: Mapping[str, Any]) -> int:
    """One parsed message attribute (moto's ``{"Type": ..., "Value": ...}``) as SNS counts it."""
    value = str(attribute.get("Value", ""))
    data_type = str(attribute.get("Type", ""))
    if data_type.startswith("Binary"):
        try:  # moto keeps a binary value base64-encoded: SNS counts its bytes
            size = len(base64.b64decode(value, validate=True))
        except binascii.Error:
            size = len(value.encode("utf-8"))
    else:
        size = len(value.encode("utf-8"))
    return len(name.encode("utf-8")) + len(data_type.encode("utf-8")) + size


def message_bytes(message: str, attributes: Mapping[str, Mapping[str, Any]] | None) -> int:
    """What SNS counts against its message limit: the message and its attributes, UTF-8."""
    return len(message.encode("utf-8")) + sum(
        _attribute_bytes(name, value) for name, value in (attributes or {}).items()
    )


def publish_size_checked(original: Callable[..., Any]) -> Callable[..., Any]:
    """SNSBackend.publish that refuses a topic message over SNS_MESSAGE_BYTES as AWS counts."""

    def publish(self: Any, message: str, arn: str | None = None, **kwargs: Any) -> Any:
        # An SMS (phone_number) has its own limit, which moto checks.
        attributes = kwargs.get("message_attributes")
        too_long = message_bytes(message, attributes) > SNS_MESSAGE_BYTES
        if kwargs.get("phone_number") is None and too_long:
            raise InvalidParameterValue(SNS_TOO_LONG)
        return original(self, message, arn, **kwargs)

    return publish


def terminal_not_caught_by_all(original: Callable[..., Any]) -> Callable[..., Any]:
    """ErrorEqualsDecl._eval_body whose States.ALL does not match States.DataLimitExceeded."""

    def _eval_body(self: Any, env: Any) -> None:
        if env.stack and env.stack[-1] == TERMINAL:
            env.stack.pop()
            named = [n for n in self.error_names if n != STATES_ALL]
            env.stack.append(TERMINAL in named)
            return
        original(self, env)

    return _eval_body
