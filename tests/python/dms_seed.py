"""Seeds a DMS API (moto or dms-local) with boto3, the independent client."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TABLE_MAPPINGS = json.dumps(
    {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "all",
                "object-locator": {"schema-name": "public", "table-name": "%"},
                "rule-action": "include",
            }
        ]
    }
)


@dataclass
class SeededAccount:
    instance_arn: str
    source_arn: str
    target_arn: str
    task_arns: dict[str, str]


def seed_account(dms: Any, tasks: dict[str, dict[str, Any]]) -> SeededAccount:
    """Creates one instance, a source and a target endpoint, and `tasks`:
    {identifier: {"migration_type": ..., "tags": {k: v}}}."""
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="rep-instance-1",
        ReplicationInstanceClass="dms.t3.micro",
        Tags=[{"Key": "env", "Value": "prod"}],
    )["ReplicationInstance"]
    source = dms.create_endpoint(
        EndpointIdentifier="src-postgres",
        EndpointType="source",
        EngineName="postgres",
        ServerName="127.0.0.1",
        Port=5432,
        DatabaseName="shop",
        Username="dms",
        Password="source-password-never-shown",
    )["Endpoint"]
    target = dms.create_endpoint(
        EndpointIdentifier="tgt-postgres",
        EndpointType="target",
        EngineName="postgres",
        ServerName="127.0.0.1",
        Port=5433,
        DatabaseName="warehouse",
        Username="dms",
        Password="target-password-never-shown",
    )["Endpoint"]
    task_arns: dict[str, str] = {}
    for identifier, spec in tasks.items():
        task = dms.create_replication_task(
            ReplicationTaskIdentifier=identifier,
            SourceEndpointArn=source["EndpointArn"],
            TargetEndpointArn=target["EndpointArn"],
            ReplicationInstanceArn=instance["ReplicationInstanceArn"],
            MigrationType=spec.get("migration_type", "full-load"),
            TableMappings=TABLE_MAPPINGS,
            Tags=[{"Key": k, "Value": v} for k, v in spec.get("tags", {}).items()],
        )["ReplicationTask"]
        task_arns[identifier] = task["ReplicationTaskArn"]
    return SeededAccount(
        instance_arn=instance["ReplicationInstanceArn"],
        source_arn=source["EndpointArn"],
        target_arn=target["EndpointArn"],
        task_arns=task_arns,
    )
