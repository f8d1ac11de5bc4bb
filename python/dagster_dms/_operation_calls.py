"""The one call path under every operation method of :class:`dagster_dms.DmsClient`.

The generated wrappers of :mod:`dagster_dms._operations` name an operation and its wire-named
parameters; these helpers send it through the C++ core (which checks the request against the API
model) and read the answer into the typed shapes of :mod:`dagster_dms.models`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from dagster_dms import models
from dagster_dms._native import NativeClient
from dagster_dms.errors import ResourceNotFoundError

StartType = Literal["start-replication", "resume-processing", "reload-target"]
FilterSpec = Mapping[str, str | Sequence[str]]
Service = Literal["dms", "cloudwatch", "logs"]

_Model = TypeVar("_Model", bound=models.ApiModel)
_Value = TypeVar("_Value", str, int, float)


def _filters(filters: FilterSpec | None) -> list[dict[str, Any]] | None:
    """``{"migration-type": "cdc"}`` as DMS's Filters (a name and a list of values each)."""
    if not filters:
        return None
    return [
        {"Name": name, "Values": [values] if isinstance(values, str) else list(values)}
        for name, values in filters.items()
    ]


def _epoch(value: dt.datetime) -> float:
    if value.tzinfo is None:
        raise ValueError(f"{value!r} has no timezone; pass an aware datetime (e.g. tzinfo=UTC)")
    return value.timestamp()


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _epoch(value)
    if isinstance(value, models.ApiModel):
        return value.to_api()
    raise TypeError(f"cannot send {type(value).__name__} to AWS")


def _request(params: Mapping[str, Any]) -> str:
    """The JSON request: parameters left at None are not sent."""
    return json.dumps({k: v for k, v in params.items() if v is not None}, default=_json)


class OperationCalls:
    """Sends operations through the core; the base of the generated wrappers."""

    _native: NativeClient

    @property
    def region_name(self) -> str:
        """The resolved region."""
        return self._native.region

    def call(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        service: Service = "dms",
    ) -> dict[str, Any]:
        """Calls ``operation`` (API spelling, e.g. ``DescribeEndpoints``) with wire-named params.

        The request is checked against the API model before it is sent.
        """
        result: dict[str, Any] = json.loads(
            self._native.invoke(service, operation, json.dumps(dict(params or {}), default=_json))
        )
        return result

    def describe_replication_task(
        self, task: str, *, without_settings: bool = True
    ) -> models.ReplicationTask:
        """The task named by identifier or ARN. Raises ResourceNotFoundError when absent."""
        by = "replication-task-arn" if task.startswith("arn:") else "replication-task-id"
        response = self.call(
            "DescribeReplicationTasks",
            {"Filters": _filters({by: task}), "WithoutSettings": without_settings},
        )
        tasks = response.get("ReplicationTasks") or []
        if not tasks:
            message = (
                f"Replication task '{task}' not found in region {self.region_name}: check the "
                "identifier or ARN and the region"
            )
            raise ResourceNotFoundError(
                message,
                code="ResourceNotFoundFault",
                aws_message=message,
                http_status=400,
                request_id="",
                service="DMS",
                operation="DescribeReplicationTasks",
            )
        return models.ReplicationTask.from_api(tasks[0])

    def _task_arn(self, task: str) -> str:
        if task.startswith("arn:"):
            return task
        arn = self.describe_replication_task(task).replication_task_arn
        assert arn is not None
        return arn

    # ---- what the generated wrappers call ---------------------------------------------------

    def _invoke(self, service: Service, operation: str, params: Mapping[str, Any]) -> Any:
        return json.loads(self._native.invoke(service, operation, _request(params)))

    def _send(self, service: Service, operation: str, **params: Any) -> None:
        self._invoke(service, operation, params)

    def _output(
        self, model: type[_Model], service: Service, operation: str, **params: Any
    ) -> _Model:
        return model.from_api(self._invoke(service, operation, params))

    def _member(
        self, model: type[_Model], service: Service, operation: str, member: str, **params: Any
    ) -> _Model:
        response = self._invoke(service, operation, params)
        if member not in response:
            raise models.ModelError(f"the {operation} response has no {member}")
        return model.from_api(response[member])

    def _members(
        self, model: type[_Model], service: Service, operation: str, member: str, **params: Any
    ) -> list[_Model]:
        response = self._invoke(service, operation, params)
        return [model.from_api(item) for item in response.get(member) or []]

    def _items(
        self, model: type[_Model], service: Service, operation: str, **params: Any
    ) -> list[_Model]:
        """Every item of every page of a listing (the core follows the pages)."""
        items = json.loads(self._native.list_all(service, operation, _request(params)))
        return [model.from_api(item) for item in items]

    def _values(
        self, kind: type[_Value], service: Service, operation: str, **params: Any
    ) -> list[_Value]:
        """Every value of every page of a listing of plain values (names, not resources)."""
        items = json.loads(self._native.list_all(service, operation, _request(params)))
        return [kind(item) for item in items]
