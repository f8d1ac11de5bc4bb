"""Observations of endpoints and replication instances.

An observation reports what a user checks before blaming a task: is the endpoint reachable (its
last connection test per instance), is the instance available and not out of storage. The data
version changes exactly when one of the reported facts changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import dagster as dg

from dagster_dms._native import is_connection_failed, is_instance_available
from dagster_dms.client import DmsClient
from dagster_dms.component import cloudwatch
from dagster_dms.component.state import EndpointState, InstanceState
from dagster_dms.errors import AccessDeniedError, DmsError


def data_version(facts: Mapping[str, Any]) -> dg.DataVersion:
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()
    return dg.DataVersion(digest[:16])


def observe_endpoint(
    client: DmsClient, endpoint: EndpointState, *, test_connections: bool = False
) -> dg.ObserveResult:
    """Status, engine, where it points (never credentials), SSL, last connection tests."""
    found = client.describe_endpoints({"endpoint-arn": endpoint.arn})
    if not found:
        raise dg.Failure(
            f"Endpoint {endpoint.identifier} ({endpoint.arn}) no longer exists: "
            "refresh the defs state (`dg utils refresh-defs-state`)"
        )
    current = found[0]
    facts: dict[str, Any] = {
        "dms/status": current.status or "",
        "dms/engine": current.engine_name or "",
        "dms/endpoint_type": str(current.endpoint_type or "").lower(),
        "dms/server": current.server_name or "",
        "dms/port": current.port or 0,
        "dms/database": current.database_name or "",
        "dms/ssl_mode": str(current.ssl_mode or "none"),
    }
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
        facts[f"dms/connection_test/{instance}"] = result
    metadata: dict[str, Any] = dict(facts)
    if notes:
        metadata["dms/notes"] = "\n".join(notes)
    return dg.ObserveResult(data_version=data_version(facts), metadata=metadata)


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


def observe_instance(client: DmsClient, instance: InstanceState) -> dg.ObserveResult:
    """Status, class, storage, Multi-AZ, version, zone, and CPU/storage/memory from CloudWatch."""
    found = client.describe_replication_instances({"replication-instance-arn": instance.arn})
    if not found:
        raise dg.Failure(
            f"Replication instance {instance.identifier} ({instance.arn}) no longer exists: "
            "refresh the defs state (`dg utils refresh-defs-state`)"
        )
    current = found[0]
    facts: dict[str, Any] = {
        "dms/status": current.replication_instance_status or "",
        "dms/instance_class": current.replication_instance_class or "",
        "dms/allocated_storage_gib": current.allocated_storage or 0,
        "dms/multi_az": bool(current.multi_az),
        "dms/engine_version": current.engine_version or "",
        "dms/availability_zone": current.availability_zone or "",
    }
    notes: list[str] = []
    dims = {"ReplicationInstanceIdentifier": instance.identifier}
    queries = [
        cloudwatch.MetricQuery(f"m{i}", m, dims) for i, m in enumerate(cloudwatch.INSTANCE_METRICS)
    ]
    values = cloudwatch.latest_values(client, queries, notes=notes)
    metadata: dict[str, Any] = dict(facts)
    for i, metric in enumerate(cloudwatch.INSTANCE_METRICS):
        if f"m{i}" in values:
            metadata[f"dms/{metric}"] = values[f"m{i}"]
    if notes:
        metadata["dms/notes"] = "\n".join(notes)
    # Metrics move all the time; the data version follows the instance's facts only.
    return dg.ObserveResult(data_version=data_version(facts), metadata=metadata)
