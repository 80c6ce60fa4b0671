"""Attribute values <-> plain Python, on boto3's TypeSerializer/TypeDeserializer (as Powertools'
DynamoDB persistence layer does): what the record codecs in ``items`` are written with.

Reading is per attribute, with the defaults older items need; TypeDeserializer's ``Decimal``
comes back as ``int`` (the ledger stores whole numbers only).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

Item = dict[str, Any]
"""An item (or a key, or expression attribute values) in the low-level client's shape."""


@functools.cache
def _types() -> tuple[TypeSerializer, TypeDeserializer]:
    """boto3's (de)serializers, imported on first use: importing ``boto3.dynamodb`` imports the
    whole ``boto3`` package (~200 ms), which a handler's import should not pay for; the client
    it talks to makes boto3 needed only once the handler runs."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def encode(values: Mapping[str, str | int | bytes | tuple[str, ...]]) -> Item:
    """Plain values (str, int, bytes, a tuple of str) as attribute values, names kept."""
    serializer = _types()[0]
    return {name: serializer.serialize(value) for name, value in values.items()}


def key(pk: str, sk: str) -> Item:
    return encode({"pk": pk, "sk": sk})


def stored_key(item: Mapping[str, Any]) -> Item:
    """The key of an item read from the table, exactly as stored."""
    return {"pk": item["pk"], "sk": item["sk"]}


def _value(item: Mapping[str, Any], name: str) -> Any:
    return _types()[1].deserialize(item[name])


def text(item: Mapping[str, Any], name: str, default: str | None = None) -> str:
    """A string attribute; ``default`` when the item lacks it (KeyError when no default)."""
    if default is not None and name not in item:
        return default
    value = _value(item, name)
    if not isinstance(value, str):
        raise TypeError(f"ledger attribute {name} is not a string: {item[name]!r}")
    return value


def optional_text(item: Mapping[str, Any], name: str) -> str | None:
    return text(item, name) if name in item else None


def number(item: Mapping[str, Any], name: str, default: int | None = None) -> int:
    """An integer attribute (TypeDeserializer gives ``Decimal``); ``default`` when the item lacks
    it (KeyError when no default)."""
    if default is not None and name not in item:
        return default
    value = _value(item, name)
    if not isinstance(value, Decimal):
        raise TypeError(f"ledger attribute {name} is not a number: {item[name]!r}")
    return int(value)


def binary(item: Mapping[str, Any], name: str) -> bytes:
    """A binary attribute (``B``; TypeDeserializer gives boto3's ``Binary``)."""
    value = _value(item, name)
    data = getattr(value, "value", value)
    if not isinstance(data, bytes):
        raise TypeError(f"ledger attribute {name} is not binary: {item[name]!r}")
    return data


def texts(item: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A list of strings (``L`` of ``S``); empty when absent."""
    if name not in item:
        return ()
    value = _value(item, name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"ledger attribute {name} is not a list of strings: {item[name]!r}")
    return tuple(value)
