"""Why a start failed, in the words of the specification's troubleshooting list.

Each probe is best-effort: a probe that is itself denied says which permission would enable it
and never hides the original error.
"""

from __future__ import annotations

from dagster_dms._native import is_connection_failed, is_instance_available
from dagster_dms.client import DmsClient
from dagster_dms.component.state import TaskState
from dagster_dms.errors import AccessDeniedError, DmsError, ServiceError


def diagnose_start_failure(client: DmsClient, task: TaskState, error: DmsError) -> list[str]:
    """Findings that explain `error`, most likely first; empty when nothing more is known."""
    findings: list[str] = []
    if isinstance(error, AccessDeniedError):
        action = f"dms:{error.operation}" if error.operation else "the DMS action named above"
        findings.append(
            f"access denied: grant {action} on {task.arn} to the identity Dagster runs as"
        )
        return findings
    if isinstance(error, ServiceError) and "mapping" in error.aws_message.lower():
        findings.append(f"the table mappings are invalid: {error.aws_message}")
    findings.extend(_instance_findings(client, task))
    findings.extend(_connection_findings(client, task))
    return findings


def _instance_findings(client: DmsClient, task: TaskState) -> list[str]:
    try:
        instances = client.describe_replication_instances(
            {"replication-instance-arn": task.instance_arn}
        )
    except AccessDeniedError:
        return ["(dms:DescribeReplicationInstances is not allowed: instance status not checked)"]
    except DmsError:
        return []
    if not instances:
        return [f"the replication instance {task.instance_arn} does not exist"]
    instance = instances[0]
    status = instance.replication_instance_status or "unknown"
    if not is_instance_available(status):
        return [
            f"the replication instance {instance.replication_instance_identifier} is {status}, "
            "not available: wait for it or check it in the DMS console"
        ]
    return []


def _connection_findings(client: DmsClient, task: TaskState) -> list[str]:
    findings: list[str] = []
    for role, arn in (("source", task.source_endpoint_arn), ("target", task.target_endpoint_arn)):
        try:
            connections = client.describe_connections({"endpoint-arn": arn})
        except AccessDeniedError:
            return ["(dms:DescribeConnections is not allowed: connection tests not checked)"]
        except DmsError:
            continue
        for connection in connections:
            if is_connection_failed(connection.status or ""):
                findings.append(
                    f"the {role} endpoint {connection.endpoint_identifier}'s last connection test "
                    f"failed: {connection.last_failure_message or 'no message'}"
                )
    return findings
