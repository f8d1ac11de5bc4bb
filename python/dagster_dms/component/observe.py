"""Observations of endpoints and replication instances.

An observation reports what a user checks before blaming a task: is the endpoint reachable (its
last connection test per instance), is the instance available and not out of storage. The data
version changes exactly when one of the reported facts changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import dagster as dg

from dagster_dms._native import is_connection_failed, is_instance_available
from dagster_dms.client import DmsClient
from dagster_dms.component import cloudwatch
from dagster_dms.component.metadata import DmsMetadataSet
from dagster_dms.component.state import EndpointState, InstanceState
from dagster_dms.errors import AccessDeniedError, DmsError

Described = TypeVar("Described")


def data_version(facts: Mapping[str, Any]) -> dg.DataVersion:
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()
    return dg.DataVersion(digest[:16])


def _still_there(
    found: Sequence[Described], what: str, resource: EndpointState | InstanceState
) -> Described:
    """The one resource a describe by ARN found; a failure that says what to do when it is gone."""
    if not found:
        raise dg.Failure(
            f"{what} {resource.identifier} ({resource.arn}) no longer exists: "
            "refresh the defs state (`dg utils refresh-defs-state`)"
        )
    return found[0]


def observe_endpoint(
    client: DmsClient,
    endpoint: EndpointState,
    *,
    test_connections: bool = False,
    log: logging.Logger | None = None,
) -> dg.ObserveResult:
    """Status, engine, where it points (never credentials), SSL, last connection tests. What
    could not be read goes to the metadata's notes and, once per observation, to `log`."""
    current = _still_there(
        client.describe_endpoints({"endpoint-arn": endpoint.arn}), "Endpoint", endpoint
    )
    facts = DmsMetadataSet(
        status=current.status or "",
        engine=current.engine_name or "",
        endpoint_type=str(current.endpoint_type or "").lower(),
        server=current.server_name or "",
        port=current.port or 0,
        database=current.database_name or "",
        ssl_mode=str(current.ssl_mode or "none"),
    ).metadata()
    notes: list[str] = []
    if test_connections:
        _test_connections(client, endpoint, notes)
    try:
        connections = client.describe_connections({"endpoint-arn": endpoint.arn})
    except AccessDeniedError:
        connections = []
        notes.append("dms:DescribeConnections is not allowed: connection tests not shown")
    except DmsError as error:
        connections = []
        notes.append(f"connection tests unavailable: {error}")
    for connection in connections:
        instance = connection.replication_instance_identifier or "?"
        result = connection.status or "unknown"
        if is_connection_failed(connection.status or "") and connection.last_failure_message:
            result += f": {connection.last_failure_message}"
        facts[DmsMetadataSet.key(f"connection_test/{instance}")] = result
    return _observation(facts, {}, notes, log, f"endpoint {endpoint.identifier}")


def _test_connections(client: DmsClient, endpoint: EndpointState, notes: list[str]) -> None:
    """Starts a connection test from every available instance; results show on a later observe."""
    try:
        instances = client.describe_replication_instances()
    except DmsError as error:
        notes.append(f"cannot list instances to test connections: {error}")
        return
    for instance in instances:
        if not is_instance_available(instance.replication_instance_status or ""):
            continue
        try:
            client.test_connection(endpoint.arn, instance.replication_instance_arn or "")
        except AccessDeniedError:
            notes.append("dms:TestConnection is not allowed: connections not tested")
            return
        except DmsError as error:
            notes.append(
                f"connection test from {instance.replication_instance_identifier}: {error}"
            )


def observe_instance(
    client: DmsClient, instance: InstanceState, *, log: logging.Logger | None = None
) -> dg.ObserveResult:
    """Status, class, storage, Multi-AZ, version, zone, and CPU/storage/memory from CloudWatch;
    notes as in `observe_endpoint`."""
    current = _still_there(
        client.describe_replication_instances({"replication-instance-arn": instance.arn}),
        "Replication instance",
        instance,
    )
    facts = DmsMetadataSet(
        status=current.replication_instance_status or "",
        instance_class=current.replication_instance_class or "",
        allocated_storage_gib=current.allocated_storage or 0,
        multi_az=bool(current.multi_az),
        engine_version=current.engine_version or "",
        availability_zone=current.availability_zone or "",
    ).metadata()
    notes: list[str] = []
    dims = {"ReplicationInstanceIdentifier": instance.identifier}
    queries = [
        cloudwatch.MetricQuery(f"m{i}", m, dims) for i, m in enumerate(cloudwatch.INSTANCE_METRICS)
    ]
    values = cloudwatch.latest_values(client, queries, notes=notes)
    metrics = {metric: values.get(f"m{i}") for i, metric in enumerate(cloudwatch.INSTANCE_METRICS)}
    # Metrics move all the time; the data version follows the instance's facts only.
    return _observation(facts, metrics, notes, log, f"instance {instance.identifier}")


def _observation(
    facts: Mapping[str, Any],
    extra_fields: Mapping[str, Any],
    notes: Sequence[str],
    log: logging.Logger | None,
    subject: str,
) -> dg.ObserveResult:
    """An observation of ``facts`` (which alone make its data version) with ``extra_fields``
    of the metadata set and ``notes`` beside them (and warned about in ``log``, naming the
    observed ``subject``)."""
    if log is not None:
        for note in notes:
            log.warning(f"{subject}: {note}")
    extra = DmsMetadataSet.of({**extra_fields, "notes": "\n".join(notes) or None})
    return dg.ObserveResult(data_version=data_version(facts), metadata={**facts, **extra})
