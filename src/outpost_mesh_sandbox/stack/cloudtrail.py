"""CloudTrail-via-EventBridge events for the API calls the sandbox recorded.

moto emits no CloudTrail events. The demo runner turns the scenario caller's recorded EC2 calls
into the events EventBridge would deliver (``detail-type: AWS API Call via CloudTrail``), in the
shapes docs/aws-facts.md ("Events") gives, and as thin as AWS makes them:

- CreateSubnet (legacy lowercase): requestParameters ``{vpcId, cidrBlock, availabilityZone,
  outpostArn?, ipv6CidrBlock?, tagSpecificationSet?}``, responseElements ``{requestId, subnet:
  {subnetId, subnetArn, vpcId, cidrBlock, outpostArn?, state, ...}}``;
- DeleteSubnet: ``{subnetId}`` / ``{requestId, _return: true}``: no VPC id;
- AssociateRouteTable: ``{routeTableId, subnetId}`` / ``{requestId, associationId,
  associationState}``;
- ReplaceRouteTableAssociation: ``{associationId, routeTableId}`` / ``{requestId,
  newAssociationId, associationState}``;
- DisassociateRouteTable: ``{associationId}`` / ``{requestId, _return: true}``;
- CreateRoute (legacy): ``{routeTableId, destinationCidrBlock, <target>Id}`` / ``{requestId,
  _return: true}``; DeleteRoute: ``{routeTableId, destinationCidrBlock}`` / the same;
- CreateTags / DeleteTags (legacy): ``{resourcesSet: {items: [{resourceId}]}, tagSet: {items:
  [{key, value?}]}}`` / ``{requestId, _return: true}``;
- Create/DeleteLocalGatewayRouteTableVpcAssociation, newer actions, wrapped (docs/aws-facts.md,
  "Events": "probably wrapped (unverified)"): ``{<Action>Request: {PascalCase fields}}`` /
  ``{<Action>Response: {xmlns, requestId, camelCase fields}}``;
- any other action (AssociateVpcCidrBlock, ...): flat lowerCamelCase request keys and the XML
  answer's elements.

A failed call gives an event with ``errorCode`` and ``errorMessage`` and ``responseElements:
null`` (CloudTrail logs failures too; the rules filter them out). Read-only calls give none:
EventBridge does not receive read-only management events as "AWS API Call via CloudTrail".
"""

from __future__ import annotations

import re
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from outpost_mesh.model import ROUTE_TARGET_KEYS
from outpost_mesh_sandbox.aws.calls import is_mutating
from outpost_mesh_sandbox.aws.control import ApiCall, SandboxControl

__all__ = [
    "EVENT_VERSION",
    "CallCursor",
    "cloudtrail_event",
    "events_for_calls",
    "iso_time",
    "scheduled_event",
]

EVENT_VERSION = "1.09"
DETAIL_TYPE = "AWS API Call via CloudTrail"
SOURCE_IP = "198.51.100.10"  # documentation range (RFC 5737): the person's workstation
USER_AGENT = "aws-cli/2.15.0 Python/3.11 (outpost-mesh sandbox scenario)"
USER_NAME = "scenario-person"

# CloudTrail writes numbers and booleans of the XML answer as JSON numbers and booleans.
_INT_FIELDS = frozenset({"availableIpAddressCount"})
# CreateRoute's request keys CloudTrail copies besides the table and the IPv4 destination: the
# route's target (one of the model's ROUTE_TARGET_KEYS) and the other kinds of destination.
_CREATE_ROUTE_KEYS = (*ROUTE_TARGET_KEYS, "DestinationIpv6CidrBlock", "DestinationPrefixListId")
_INDEXED = re.compile(r"^(.*?)\.(\d+)(?:\.(.*))?$")
# Newer actions CloudTrail logs wrapped, and the wrapper's parts (docs/aws-facts.md, "Events").
_WRAPPED = frozenset(
    {
        "CreateLocalGatewayRouteTableVpcAssociation",
        "DeleteLocalGatewayRouteTableVpcAssociation",
    }
)
_QUERY_KEYS = ("Action", "Version")
_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"


def iso_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _strip(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_value(element: ET.Element) -> Any:
    """An EC2 XML element as CloudTrail writes it: sets as {"items": [...]}, empty sets {}."""
    children = list(element)
    name = _strip(element.tag)
    if not children:
        text = (element.text or "").strip()
        if name.endswith("Set"):
            return {}
        if text in ("true", "false"):
            return text == "true"
        if name in _INT_FIELDS and text.isdigit():
            return int(text)
        return text
    if all(_strip(c.tag) == "item" for c in children):
        return {"items": [_xml_value(c) for c in children]}
    return {_strip(c.tag): _xml_value(c) for c in children}


def _response(call: ApiCall) -> tuple[ET.Element | None, str]:
    """The parsed response body and its request id (AWS-like when moto wrote a placeholder)."""
    request_id = ""
    root: ET.Element | None = None
    if call.response:
        try:
            root = ET.fromstring(call.response)
        except ET.ParseError:
            root = None
    if root is not None:
        for element in root.iter():
            if _strip(element.tag) in ("requestId", "RequestID") and element.text:
                request_id = element.text.strip()
                break
    if not request_id or request_id == "request-id":
        request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"outpost-mesh-sandbox-call-{call.seq}"))
    return root, request_id


def _child(root: ET.Element | None, name: str) -> ET.Element | None:
    if root is None:
        return None
    for element in root:
        if _strip(element.tag) == name:
            return element
    return None


def _text(root: ET.Element | None, name: str) -> str | None:
    element = _child(root, name)
    return None if element is None or element.text is None else element.text.strip()


def _tag_specifications(params: dict[str, Any]) -> dict[str, Any] | None:
    """``TagSpecification.N.ResourceType`` / ``.Tag.M.Key|Value`` as CloudTrail's set shape."""
    specs: dict[int, dict[str, Any]] = {}
    for key, value in params.items():
        match = re.match(r"^TagSpecification\.(\d+)\.(ResourceType|Tag\.(\d+)\.(Key|Value))$", key)
        if match is None:
            continue
        spec = specs.setdefault(int(match.group(1)), {"resourceType": "", "tags": {}})
        if match.group(2) == "ResourceType":
            spec["resourceType"] = value
        else:
            tag = spec["tags"].setdefault(int(match.group(3)), {})
            tag[match.group(4).lower()] = value
    if not specs:
        return None
    items = [
        {
            "resourceType": spec["resourceType"],
            "tags": [spec["tags"][i] for i in sorted(spec["tags"])],
        }
        for _, spec in sorted(specs.items())
    ]
    return {"items": items}


def _pick(params: dict[str, Any], *names: str) -> dict[str, Any]:
    return {_lower_first(n): params[n] for n in names if n in params}


def _tagging_request(params: dict[str, Any]) -> dict[str, Any]:
    """CreateTags / DeleteTags: ``ResourceId.N`` and ``Tag.N.Key|Value`` as CloudTrail's sets."""
    resources = [
        {"resourceId": params[k]}
        for k in sorted((k for k in params if k.startswith("ResourceId.")), key=_index)
    ]
    tags: dict[int, dict[str, Any]] = {}
    for key, value in params.items():
        match = re.match(r"^Tag\.(\d+)\.(Key|Value)$", key)
        if match is not None:
            tags.setdefault(int(match.group(1)), {})[match.group(2).lower()] = value
    return {
        "resourcesSet": {"items": resources},
        "tagSet": {"items": [tags[i] for i in sorted(tags)]},
    }


def _index(key: str) -> int:
    return int(key.split(".")[1])


def _generic_request(params: dict[str, Any]) -> dict[str, Any]:
    """Best effort for actions the table above does not list: flat keys, lowerCamelCase."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in ("Action", "Version"):
            continue
        out[".".join(_lower_first(p) for p in key.split("."))] = value
    return out


def _shapes(call: ApiCall) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str]:
    """(requestParameters, responseElements, requestID) of one call."""
    params = call.params
    root, request_id = _response(call)
    ok = call.ok
    done: dict[str, Any] = {"requestId": request_id, "_return": True}
    action = call.action
    request: dict[str, Any] | None
    response: dict[str, Any] | None
    if action == "CreateSubnet":
        request = _pick(
            params, "VpcId", "CidrBlock", "AvailabilityZone", "OutpostArn", "Ipv6CidrBlock"
        )
        tags = _tag_specifications(params)
        if tags:
            request["tagSpecificationSet"] = tags
        subnet = _child(root, "subnet")
        response = {"requestId": request_id}
        if subnet is not None:
            response["subnet"] = _xml_value(subnet)
    elif action == "DeleteSubnet":
        request, response = _pick(params, "SubnetId"), done
    elif action == "AssociateRouteTable":
        request = _pick(params, "RouteTableId", "SubnetId", "GatewayId")
        response = {"requestId": request_id, "associationId": _text(root, "associationId")}
        state = _child(root, "associationState")
        if state is not None:
            response["associationState"] = _xml_value(state)
    elif action == "ReplaceRouteTableAssociation":
        request = _pick(params, "AssociationId", "RouteTableId")
        response = {"requestId": request_id, "newAssociationId": _text(root, "newAssociationId")}
        state = _child(root, "associationState")
        if state is not None:
            response["associationState"] = _xml_value(state)
    elif action == "DisassociateRouteTable":
        request, response = _pick(params, "AssociationId"), done
    elif action == "CreateRoute":
        request = _pick(params, "RouteTableId", "DestinationCidrBlock", *_CREATE_ROUTE_KEYS)
        response = done
    elif action == "DeleteRoute":
        request = _pick(params, "RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock")
        response = done
    elif action in ("CreateTags", "DeleteTags"):
        request, response = _tagging_request(params), done
    elif action in _WRAPPED:
        request = {f"{action}Request": {k: v for k, v in params.items() if k not in _QUERY_KEYS}}
        body: dict[str, Any] = {"xmlns": _NAMESPACE, "requestId": request_id}
        if root is not None:
            body.update(
                {_strip(e.tag): _xml_value(e) for e in root if _strip(e.tag) != "requestId"}
            )
        response = {f"{action}Response": body}
    else:
        request = _generic_request(params)
        response = {"requestId": request_id}
        if root is not None:
            for element in root:
                if _strip(element.tag) != "requestId":
                    response[_strip(element.tag)] = _xml_value(element)
    return request, (response if ok else None), request_id


def cloudtrail_event(call: ApiCall, account: str, region: str = "") -> dict[str, Any]:
    """The EventBridge event of one recorded EC2 call, success or failure."""
    region = call.region or region
    when = iso_time(call.time)
    request, response, request_id = _shapes(call)
    detail: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAOMSCENARIOPERSON1",
            "arn": f"arn:aws:iam::{account}:user/{USER_NAME}",
            "accountId": account,
            "accessKeyId": call.caller,
            "userName": USER_NAME,
        },
        "eventTime": when,
        "eventSource": "ec2.amazonaws.com",
        "eventName": call.action,
        "awsRegion": region,
        "sourceIPAddress": SOURCE_IP,
        "userAgent": USER_AGENT,
    }
    if not call.ok:
        detail["errorCode"] = call.error_code or "Client.UnknownError"
        detail["errorMessage"] = call.error_message
    detail.update(
        {
            "requestParameters": request,
            "responseElements": response,
            "requestID": request_id,
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
    )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": "aws.ec2",
        "account": account,
        "time": when,
        "region": region,
        "resources": [],
        "detail": detail,
    }


class CallCursor:
    """Reads the sandbox's call log onwards from where it stood when made (or last read): the
    calls made since, which a trail turns into events."""

    def __init__(self, control: SandboxControl) -> None:
        self.control = control
        calls = control.calls()
        self.position = calls[-1].seq if calls else 0

    def take(self) -> list[ApiCall]:
        calls = self.control.calls(since=self.position)
        if calls:
            self.position = calls[-1].seq
        return calls


def events_for_calls(
    calls: Iterable[ApiCall], account: str, region: str, caller: str
) -> list[dict[str, Any]]:
    """Events of ``caller``'s mutating EC2 calls, in call order (read-only calls emit none)."""
    return [
        cloudtrail_event(call, account, region)
        for call in sorted(calls, key=lambda c: c.seq)
        if call.service == "ec2" and call.caller == caller and is_mutating(call.action)
    ]


def scheduled_event(
    account: str, region: str, rule_arn: str, epoch: float | None = None
) -> dict[str, Any]:
    """The event an EventBridge schedule delivers to its target."""
    when = iso_time(time.time() if epoch is None else epoch)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": when,
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
