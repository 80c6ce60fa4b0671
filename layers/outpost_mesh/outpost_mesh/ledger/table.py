"""The ledger table's DynamoDB calls: one method per call kind, each ClientError mapped by
``outpost_mesh.errors.from_client_error`` (the subject is the item's partition key)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from outpost_mesh.errors import from_client_error
from outpost_mesh.ledger.codec import Item, encode, key, text
from outpost_mesh.ledger.items import FleetIndex

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class LedgerTable:
    """One ledger table, its client and the clock its items are stamped with."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        table_name: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.clock = clock

    def _query(self, pk: str, prefix: str = "") -> Iterator[Item]:
        """Every item of partition ``pk`` (whose sort key starts with ``prefix``), all pages."""
        for page in self._partition_pages(pk, prefix):
            yield from page

    def _partition_pages(self, pk: str, prefix: str = "") -> Iterator[list[Item]]:
        """The pages of partition ``pk`` (sort keys starting with ``prefix``), read consistently."""
        return self._pages(
            pk,
            KeyConditionExpression="pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else ""),
            ExpressionAttributeValues=encode({":pk": pk} | ({":prefix": prefix} if prefix else {})),
            ConsistentRead=True,
        )

    def _pages(self, subject: str, **kwargs: Any) -> Iterator[list[Item]]:
        """The items of one Query (``kwargs`` past the table name) page by page: DynamoDB returns
        at most 1 MB a page and a ``LastEvaluatedKey`` to go on from, which the paginator
        follows (DynamoDB API Reference, ``Query``)."""
        try:
            for page in self.dynamodb.get_paginator("query").paginate(
                TableName=self.table_name, **kwargs
            ):
                yield page.get("Items", [])
        except ClientError as error:
            raise from_client_error(error, subject=subject) from error

    def _any(self, pk: str) -> bool:
        """Whether partition ``pk`` holds an item (one query of one key-only item)."""
        try:
            page = self.dynamodb.query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=encode({":pk": pk}),
                ProjectionExpression="pk",
                Limit=1,
                ConsistentRead=True,
            )
        except ClientError as error:
            raise from_client_error(error, subject=pk) from error
        return bool(page.get("Items"))

    def _put(self, item: Item, condition: str | None = None) -> bool:
        """One PutItem; with a ``condition`` (a ConditionExpression), False when it failed."""
        extra: dict[str, Any] = {"ConditionExpression": condition} if condition else {}
        try:
            self.dynamodb.put_item(TableName=self.table_name, Item=item, **extra)
        except ClientError as error:
            if condition and is_conditional_failure(error):
                return False
            raise from_client_error(error, subject=text(item, "pk")) from error
        return True

    def _update(
        self, subject: str, *, tolerate_condition: bool = False, **kwargs: Any
    ) -> dict[str, Any] | None:
        """One UpdateItem (``kwargs`` past the table name); its output. With
        ``tolerate_condition``, a failed ConditionExpression returns None instead of raising."""
        try:
            out: dict[str, Any] = dict(
                self.dynamodb.update_item(TableName=self.table_name, **kwargs)
            )
        except ClientError as error:
            if tolerate_condition and is_conditional_failure(error):
                return None
            raise from_client_error(error, subject=subject) from error
        return out

    def _delete(self, pk: str, sk: str) -> None:
        try:
            self.dynamodb.delete_item(TableName=self.table_name, Key=key(pk, sk))
        except ClientError as error:
            raise from_client_error(error, subject=pk) from error

    # BatchGetItem takes at most 100 keys, BatchWriteItem 25 puts (DynamoDB API Reference); what
    # DynamoDB leaves unprocessed (throughput) is asked again, at most BATCH_ROUNDS times.
    BATCH_GET_KEYS = 100
    BATCH_WRITE_ITEMS = 25
    BATCH_ROUNDS = 8

    def _get_many(self, keys: list[Item]) -> list[Item]:
        """The items of ``keys`` that exist (strongly consistent), 100 keys per BatchGetItem."""
        found: list[Item] = []
        for start in range(0, len(keys), self.BATCH_GET_KEYS):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": keys[start : start + self.BATCH_GET_KEYS],
                    "ConsistentRead": True,
                }
            }
            for _ in range(self.BATCH_ROUNDS):
                try:
                    out = self.dynamodb.batch_get_item(RequestItems=request)
                except ClientError as error:
                    raise from_client_error(error, subject=self.table_name) from error
                found += out.get("Responses", {}).get(self.table_name, [])
                request = out.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise from_client_error(_unprocessed(), subject=self.table_name)
        return found

    def _put_many(self, items: list[Item]) -> None:
        """Put ``items`` (no conditions), 25 per BatchWriteItem."""
        for start in range(0, len(items), self.BATCH_WRITE_ITEMS):
            request: dict[str, Any] = {
                self.table_name: [
                    {"PutRequest": {"Item": item}}
                    for item in items[start : start + self.BATCH_WRITE_ITEMS]
                ]
            }
            for _ in range(self.BATCH_ROUNDS):
                try:
                    out = self.dynamodb.batch_write_item(RequestItems=request)
                except ClientError as error:
                    raise from_client_error(error, subject=self.table_name) from error
                request = out.get("UnprocessedItems") or {}
                if not request:
                    break
            else:
                raise from_client_error(_unprocessed(), subject=self.table_name)

    def _get(self, pk: str, sk: str) -> Item | None:
        try:
            item = self.dynamodb.get_item(
                TableName=self.table_name, Key=key(pk, sk), ConsistentRead=True
            ).get("Item")
        except ClientError as error:
            raise from_client_error(error, subject=pk) from error
        return dict(item) if item else None


def create_table(dynamodb: DynamoDBClient, table_name: str) -> None:
    """Create the ledger table with its fleet index (the CLI's, the sandbox stack's and tests'
    own; the deployed stack's comes from template.yaml, which defines the same)."""
    try:
        dynamodb.create_table(
            TableName=table_name,
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("pk", "sk", FleetIndex.HASH, FleetIndex.RANGE)
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": FleetIndex.NAME,
                    "KeySchema": [
                        {"AttributeName": FleetIndex.HASH, "KeyType": "HASH"},
                        {"AttributeName": FleetIndex.RANGE, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise from_client_error(error, subject=table_name) from error
    dynamodb.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )


def _unprocessed() -> ClientError:
    """DynamoDB kept leaving part of a batch unprocessed: reported as its throttling is."""
    return ClientError(
        {
            "Error": {
                "Code": "ProvisionedThroughputExceededException",
                "Message": "a batch stayed unprocessed after retries",
            }
        },
        "BatchWriteItem",
    )
