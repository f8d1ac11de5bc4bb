"""The component's validation checks on dms-local with real PostgreSQL: `no_validation_failures`
on the task and `dms_table_healthy` on a table asset pass while the data matches and fail, naming
the table and its failed records, once a row differs on the target."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg

from dagster_dms import AWSDMSComponent
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_migration_path,
    create_task,
    selection_rules,
    wait_until,
)
from dms_local_fixture import (  # noqa: F401  (the fixtures: the data-plane `server`)
    boto3_dms,
    databases_fixture,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_component_tables import build, materialize
from test_dms_local_cdc import make_db

SOURCE_SQL = """
CREATE TABLE public.alpha (id bigint PRIMARY KEY, val text);
INSERT INTO public.alpha SELECT g, 'a' || g FROM generate_series(1, 500) g;
CREATE TABLE public.gamma (id bigint PRIMARY KEY, n integer);
INSERT INTO public.gamma SELECT g, g FROM generate_series(1, 50) g;
"""
TIMEOUT = 180.0
TASK_KEY = dg.AssetKey("dms_task_checked")


def validation_states(dms: Any, arn: str) -> dict[str, str]:
    tables = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    return {t["TableName"]: t.get("ValidationState", "") for t in tables}


def task_checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        c.check_name: c for c in result.get_asset_check_evaluations() if c.asset_key == TASK_KEY
    }


def test_validation_checks_fail_naming_the_mismatched_table(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "checked_source", SOURCE_SQL)
    target = make_db(pg_cluster, databases, "checked_target", "")
    dms = boto3_dms(server.url)
    source_endpoint, target_endpoint, instance = create_migration_path(
        dms, pg_cluster, source, target
    )
    arn = create_task(
        dms,
        "checked",
        source=source_endpoint,
        target=target_endpoint,
        instance=instance,
        table_mappings=selection_rules("public", "%"),
        migration_type="full-load-and-cdc",
        ReplicationTaskSettings=json.dumps({"ValidationSettings": {"EnableValidation": True}}),
    )
    keys = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    component = AWSDMSComponent(
        aws_region="us-east-1",
        endpoint_url=server.url,
        import_tables=True,
        generate_sensor=False,
        **keys,
    )
    try:
        defs, _ = build(component)
        started = materialize(defs, TASK_KEY)
        assert started.success
        wait_until(
            lambda: validation_states(dms, arn) == {"alpha": "Validated", "gamma": "Validated"},
            "both tables validated",
            timeout=TIMEOUT,
        )
        # Once validated, the running task's materialization reports a passing check.
        defs, _ = build(component)
        checks = task_checks(materialize(defs, TASK_KEY))
        assert checks["no_validation_failures"].passed, checks["no_validation_failures"]

        pg_cluster.psql("UPDATE public.alpha SET val = 'changed' WHERE id IN (3, 4)", target)
        # The table asset compares the table again (ReloadTables validate-only) and fails.
        table_result = materialize(
            defs, dg.AssetKey(["public", "alpha"]), {"reload_option": "validate-only"}
        )
        healthy = [
            c
            for c in table_result.get_asset_check_evaluations()
            if c.check_name == "dms_table_healthy"
        ]
        assert [c.passed for c in healthy] == [False], healthy
        assert "Mismatched records' (2 failed" in (healthy[0].description or ""), healthy[0]
        assert healthy[0].metadata["validation_failed_records"].value == 2
        assert validation_states(dms, arn)["alpha"] == "Mismatched records"

        # The task's check fails too, naming the table and counting its failed records.
        check = task_checks(materialize(defs, TASK_KEY))["no_validation_failures"]
        assert not check.passed
        assert "public.alpha: Mismatched records (2 failed" in (check.description or ""), check
        assert "gamma" not in (check.description or ""), check
        assert check.metadata["validation_failed_records"].value == 2
        assert check.metadata["tables_failing_validation"].value == 1
        assert "public.alpha" in str(check.metadata["first_failures"].value)
    finally:
        dms.stop_replication_task(ReplicationTaskArn=arn)
        wait_until(
            lambda: (
                dms.describe_replication_tasks(
                    Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
                )["ReplicationTasks"][0]["Status"]
                in ("stopped", "failed")
            ),
            "task stopped",
            timeout=TIMEOUT,
        )
