"""Seeds a DMS API (moto or dms-local) with boto3, the independent client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dagster_dms.testing.account import create_postgres_endpoint, create_task, selection_rules

TABLE_MAPPINGS = selection_rules(rule_name="all")


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
    source, target = (
        create_postgres_endpoint(
            dms,
            identifier,
            endpoint_type,
            port=port,
            database=database,
            username="dms",
            password=f"{endpoint_type}-password-never-shown",
        )
        for identifier, endpoint_type, port, database in (
            ("src-postgres", "source", 5432, "shop"),
            ("tgt-postgres", "target", 5433, "warehouse"),
        )
    )
    task_arns = {
        identifier: create_task(
            dms,
            identifier,
            source=source,
            target=target,
            instance=instance["ReplicationInstanceArn"],
            table_mappings=TABLE_MAPPINGS,
            migration_type=spec.get("migration_type", "full-load"),
            wait_ready=False,
            Tags=[{"Key": k, "Value": v} for k, v in spec.get("tags", {}).items()],
        )
        for identifier, spec in tasks.items()
    }
    return SeededAccount(
        instance_arn=instance["ReplicationInstanceArn"],
        source_arn=source,
        target_arn=target,
        task_arns=task_arns,
    )
