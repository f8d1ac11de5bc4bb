"""Data validation (ValidationSettings) on real dms-local and real PostgreSQL, through boto3:
tables reach `Validated`; a row changed on the target behind dms-local's back is found by a
validate-only reload and recorded in awsdms_validation_failures_v1 with DMS's columns."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import create_migration_path, local_client
from dms_local_fixture import (  # noqa: F401  (the fixtures)
    boto3_dms,
    databases_fixture,
    select_schema,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_cdc import make_db
from test_dms_local_full_load import PASSWORD, create_task, dmsctl, wait_for_end, wait_until
from test_dms_local_reload_running import by_table, wait_cdc

# alpha spans several partitions (PartitionSize below); beta has a composite text key, whose
# order differs between collations; gamma has no primary key.
SCHEMA_SQL = """
CREATE SCHEMA app;
CREATE TABLE app.alpha (id bigint PRIMARY KEY, val text, price numeric(10,2),
                        seen timestamp(6));
CREATE TABLE app.beta (code varchar(10), n integer, note text, PRIMARY KEY (code, n));
CREATE TABLE app.gamma (val text);
INSERT INTO app.alpha SELECT g, 'a' || g, g * 1.5, timestamp '2024-01-01' + g * interval '1.25 s'
  FROM generate_series(1, 1000) g;
INSERT INTO app.beta SELECT chr(65 + g % 26) || lower(chr(65 + g % 7)), g, 'n' || g
  FROM generate_series(1, 300) g;
INSERT INTO app.gamma SELECT 'g' || g FROM generate_series(1, 10) g;
"""
VALIDATION = {"EnableValidation": True, "PartitionSize": 128, "ThreadCount": 3}
FAILURES_SQL = (
    'SELECT "TASK_NAME", "TABLE_OWNER", "TABLE_NAME", "KEY_TYPE", "KEY", "FAILURE_TYPE" '
    'FROM awsdms_control.awsdms_validation_failures_v1 ORDER BY "KEY"'
)


def settings(**validation: Any) -> str:
    return json.dumps({"ValidationSettings": {**VALIDATION, **validation}})


def statistics(dms: Any, arn: str) -> dict[str, dict[str, Any]]:
    return by_table(dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"])


def wait_validation(dms: Any, arn: str, wanted: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Waits until each table of `wanted` shows its ValidationState; returns the statistics."""
    seen: dict[str, dict[str, Any]] = {}

    def reached() -> bool:
        seen.update(statistics(dms, arn))
        return all(
            seen.get(table, {}).get("ValidationState") == state for table, state in wanted.items()
        )

    try:
        wait_until(reached, timeout=180, interval=0.2)
    except AssertionError:
        raise AssertionError(f"validation states never reached {wanted}: {seen}") from None
    return seen


def resource_id(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def started_task(
    server: DmsLocalServer,
    cluster: PgCluster,
    databases: list[str],
    name: str,
    migration: str = "full-load",
    mappings: str = "",
    **extra: Any,
) -> tuple[Any, str, str]:
    """A task over schema app from a seeded source to an empty target, started; returns the
    client, the task ARN and the target database."""
    db = name.replace("-", "_")
    source = make_db(cluster, databases, f"{db}_source", SCHEMA_SQL)
    target = make_db(cluster, databases, f"{db}_target", "")
    dms = boto3_dms(server.url)
    arn = create_task(
        dms,
        name,
        *create_migration_path(dms, cluster, source, target, password=PASSWORD),
        mappings or select_schema("app"),
        migration,
        **extra,
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    return dms, arn, target


def test_cdc_task_validates_and_validate_only_reload_finds_target_changes(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms, arn, target = started_task(
        server,
        pg_cluster,
        databases,
        "validated",
        "full-load-and-cdc",
        ReplicationTaskSettings=settings(),
    )
    wait_cdc(dms, arn)
    stats = wait_validation(
        dms, arn, {"alpha": "Validated", "beta": "Validated", "gamma": "No primary key"}
    )
    for table in ("alpha", "beta"):
        assert stats[table]["ValidationFailedRecords"] == 0, stats[table]
        assert stats[table]["ValidationPendingRecords"] == 0, stats[table]
        assert stats[table]["ValidationSuspendedRecords"] == 0, stats[table]
    assert pg_cluster.psql(FAILURES_SQL, target).strip() == ""

    # Behind dms-local's back: one row changed, one deleted, one added on the target only.
    pg_cluster.psql(
        "UPDATE app.alpha SET val = 'tampered' WHERE id = 7;"
        "DELETE FROM app.alpha WHERE id = 8;"
        "INSERT INTO app.alpha VALUES (5000, 'extra', 1, NULL);",
        target,
    )
    dms.reload_tables(
        ReplicationTaskArn=arn,
        TablesToReload=[{"SchemaName": "app", "TableName": "alpha"}],
        ReloadOption="validate-only",
    )
    # The data is left alone: the table is not reloaded.
    assert statistics(dms, arn)["alpha"]["TableState"] == "Table completed"
    stats = wait_validation(dms, arn, {"alpha": "Mismatched records"})
    assert stats["alpha"]["ValidationFailedRecords"] == 3, stats["alpha"]
    assert stats["alpha"]["FullLoadReloaded"] is False, stats["alpha"]
    assert stats["beta"]["ValidationState"] == "Validated", stats["beta"]

    rows = [line.split("|") for line in pg_cluster.psql(FAILURES_SQL, target).splitlines()]
    task_name = resource_id(arn)
    assert rows == [
        [task_name, "app", "alpha", "Row", '{"key": ["5000"]}', "MISSING_SOURCE"],
        [task_name, "app", "alpha", "Row", '{"key": ["7"]}', "RECORD_DIFF"],
        [task_name, "app", "alpha", "Row", '{"key": ["8"]}', "MISSING_TARGET"],
    ], rows
    details = pg_cluster.psql(
        'SELECT "DETAILS" FROM awsdms_control.awsdms_validation_failures_v1 '
        "WHERE \"FAILURE_TYPE\" = 'RECORD_DIFF'",
        target,
    )
    assert json.loads(details) == {"source": {"val": "a7"}, "target": {"val": "tampered"}}

    # dmsctl tables validate: the same comparison from the command line, judged by exit code.
    mismatched = dmsctl(
        server,
        "--output",
        "json",
        "--poll-interval",
        "0.2",
        "tables",
        "validate",
        "validated",
        "--table",
        "app.alpha",
    )
    assert mismatched.returncode == 4, mismatched
    assert "validation failed for app.alpha" in mismatched.stderr
    document = json.loads(mismatched.stdout)
    assert document["Validated"] is False
    assert [
        (t["TableName"], t["ValidationState"], t["ValidationFailedRecords"])
        for t in document["TableStatistics"]
    ] == [("alpha", "Mismatched records", 3)]
    pg_cluster.psql("UPDATE app.alpha SET val = 'a7' WHERE id = 7", target)
    everything = dmsctl(server, "--poll-interval", "0.2", "tables", "validate", "validated")
    assert everything.returncode == 4, everything
    # Every table of the task was asked for; alpha still differs (rows 8 and 5000).
    assert "Mismatched records" in everything.stdout, everything
    repaired = dmsctl(
        server, "--poll-interval", "0.2", "tables", "validate", "validated", "--table", "app.beta"
    )
    assert repaired.returncode == 0, repaired
    assert "Validated" in repaired.stdout
    assert statistics(dms, arn)["alpha"]["ValidationFailedRecords"] == 2

    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_for_end(dms, arn, timeout=120)
    dms.delete_replication_task(ReplicationTaskArn=arn)


def test_full_load_task_validates_before_it_finishes(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms, arn, _ = started_task(
        server, pg_cluster, databases, "validated-load", ReplicationTaskSettings=settings()
    )
    task = wait_for_end(dms, arn, timeout=180)
    assert task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", task
    stats = statistics(dms, arn)
    assert {name: stat["ValidationState"] for name, stat in stats.items()} == {
        "alpha": "Validated",
        "beta": "Validated",
        "gamma": "No primary key",
    }, stats


def test_validation_is_not_enabled_by_default(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms, arn, target = started_task(server, pg_cluster, databases, "not-validated")
    wait_for_end(dms, arn, timeout=180)
    states = {stat["ValidationState"] for stat in statistics(dms, arn).values()}
    assert states == {"Not enabled"}
    # Nothing was compared, so nothing was created on the target.
    schemas = "SELECT count(*) FROM pg_namespace WHERE nspname = 'awsdms_control'"
    assert pg_cluster.psql(schemas, target).strip() == "0"


def test_validation_only_task_compares_without_loading_and_suspends_at_the_table_limit(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "validation_only_source", SCHEMA_SQL)
    # The target holds the tables already (DO_NOTHING): beta equal, every alpha row different.
    target = make_db(pg_cluster, databases, "validation_only_target", SCHEMA_SQL)
    pg_cluster.psql("UPDATE app.alpha SET val = val || '!'", target)
    dms = boto3_dms(server.url)
    task_settings = json.dumps(
        {
            "ValidationSettings": {
                **VALIDATION,
                "ValidationOnly": True,
                "ThreadCount": 1,
                "PartitionSize": 10,
                "TableFailureMaxCount": 5,
            },
            "FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"},
            "Logging": {"EnableLogging": True},
        }
    )
    path = create_migration_path(dms, pg_cluster, source, target, password=PASSWORD)
    arn = create_task(
        dms, "validation-only", *path, select_schema("app"), ReplicationTaskSettings=task_settings
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    task = wait_for_end(dms, arn, timeout=180)
    assert task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", task
    stats = statistics(dms, arn)
    # Nothing was loaded: the target's rows are as they were.
    changed = "SELECT count(*) FROM app.alpha WHERE val LIKE '%!'"
    assert pg_cluster.psql(changed, target).strip() == "1000"
    assert stats["beta"]["ValidationState"] == "Validated", stats["beta"]
    alpha = stats["alpha"]
    # The first partition's ten failures pass TableFailureMaxCount: the rest is suspended.
    assert alpha["ValidationState"] == "Suspended records", alpha
    assert alpha["ValidationFailedRecords"] == 10, alpha
    assert alpha["ValidationSuspendedRecords"] == 990, alpha
    assert "TableFailureMaxCount (5)" in alpha["ValidationStateDetails"], alpha
    failures = "SELECT count(*) FROM awsdms_control.awsdms_validation_failures_v1"
    assert pg_cluster.psql(failures, target).strip() == "10"

    # VALIDATOR lines in the task's CloudWatch log, DMS's format.
    logs = local_client(server.url, "logs")
    events = logs.get_log_events(
        logGroupName="dms-tasks-local",
        logStreamName=f"dms-task-{resource_id(arn)}",
        startFromHead=True,
    )["events"]
    text = "\n".join(e["message"] for e in events)
    assert "[VALIDATOR       ]I:  Validation of table 'app'.'beta' finished: Validated" in text
    assert "[VALIDATOR       ]W:  Validation suspended: more than TableFailureMaxCount (5)" in text
    assert "[VALIDATOR       ]W:  Table 'app'.'gamma' has no primary key" in text

    # The Validation* metrics, as CloudWatch shows them for the task.
    cloudwatch = local_client(server.url, "cloudwatch")
    dimensions = [
        {"Name": "ReplicationInstanceIdentifier", "Value": "local"},
        {"Name": "ReplicationTaskIdentifier", "Value": resource_id(arn)},
    ]

    def maximum(metric: str) -> float:
        answer = cloudwatch.get_metric_statistics(
            Namespace="AWS/DMS",
            MetricName=metric,
            Dimensions=dimensions,
            StartTime=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1),
            EndTime=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5),
            Period=60,
            Statistics=["Maximum"],
        )
        return max((p["Maximum"] for p in answer["Datapoints"]), default=-1.0)

    wait_until(lambda: maximum("ValidationFailedOverallCount") == 10, timeout=60)
    assert maximum("ValidationSuspendedOverallCount") == 990
    assert maximum("ValidationAttemptedRecordCount") == 10 + 300  # alpha's partition, all beta


def test_validation_settings_dms_refuses_are_refused_on_create_and_modify(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    db = make_db(pg_cluster, databases, "validation_rules_db", "")
    dms = boto3_dms(server.url)
    source, target, instance = create_migration_path(dms, pg_cluster, db, db, password=PASSWORD)
    only = {"EnableValidation": True, "ValidationOnly": True}
    do_nothing = {"TargetTablePrepMode": "DO_NOTHING"}

    def refusal(migration: str, task_settings: dict[str, Any]) -> str:
        with pytest.raises(ClientError) as raised:
            dms.create_replication_task(
                ReplicationTaskIdentifier="refused",
                SourceEndpointArn=source,
                TargetEndpointArn=target,
                ReplicationInstanceArn=instance,
                MigrationType=migration,
                TableMappings=select_schema("app"),
                ReplicationTaskSettings=json.dumps(task_settings),
            )
        error = raised.value.response["Error"]
        assert error["Code"] == "InvalidParameterValueException", error
        return str(error["Message"])

    only_cdc = {"ValidationSettings": only, "FullLoadSettings": do_nothing}
    assert "full-load or cdc" in refusal("full-load-and-cdc", only_cdc)
    assert "DO_NOTHING" in refusal("full-load", {"ValidationSettings": only})
    mode = {"ValidationSettings": {"ValidationMode": "GROUP_LEVEL"}}
    assert "ValidationSettings.ValidationMode" in refusal("full-load", mode)
    size = {"ValidationSettings": {"PartitionSize": 0}}
    assert "ValidationSettings.PartitionSize" in refusal("full-load", size)

    arn = create_task(
        dms,
        "validation-rules",
        source,
        target,
        instance,
        select_schema("app"),
        ReplicationTaskSettings=json.dumps(only_cdc),
    )
    with pytest.raises(ClientError) as raised:
        dms.modify_replication_task(
            ReplicationTaskArn=arn,
            ReplicationTaskSettings=json.dumps({"ValidationSettings": {"ValidationOnly": False}}),
        )
    assert "cannot be changed" in raised.value.response["Error"]["Message"]
    stored = dms.describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
    )["ReplicationTasks"][0]
    validation = json.loads(stored["ReplicationTaskSettings"])["ValidationSettings"]
    assert validation["ValidationOnly"] is True


def test_validation_compares_what_the_mappings_select_and_rename(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    def selection(rule: int, table: str, **extra: Any) -> dict[str, Any]:
        locator = {"schema-name": "app", "table-name": table}
        return {
            "rule-type": "selection",
            "rule-id": str(rule),
            "rule-name": str(rule),
            "object-locator": locator,
            "rule-action": "include",
            **extra,
        }

    half = {
        "filters": [
            {
                "filter-type": "source",
                "column-name": "id",
                "filter-conditions": [{"filter-operator": "lte", "value": "500"}],
            }
        ]
    }
    rename = {
        "rule-type": "transformation",
        "rule-id": "3",
        "rule-name": "3",
        "rule-target": "column",
        "object-locator": {"schema-name": "app", "table-name": "beta", "column-name": "note"},
        "rule-action": "rename",
        "value": "remark",
    }
    mappings = json.dumps({"rules": [selection(1, "alpha", **half), selection(2, "beta"), rename]})
    dms, arn, target = started_task(
        server,
        pg_cluster,
        databases,
        "mapped-validation",
        "full-load-and-cdc",
        mappings=mappings,
        ReplicationTaskSettings=settings(),
    )
    wait_cdc(dms, arn)
    stats = wait_validation(dms, arn, {"alpha": "Validated", "beta": "Validated"})
    # Only the 500 selected rows of alpha are on the target: the others are not missing there.
    assert stats["alpha"]["FullLoadRows"] == 500, stats["alpha"]
    assert stats["alpha"]["ValidationFailedRecords"] == 0, stats["alpha"]
    # beta's note is the target's remark, and it is compared.
    pg_cluster.psql("UPDATE app.beta SET remark = 'changed' WHERE n = 1", target)
    dms.reload_tables(
        ReplicationTaskArn=arn,
        TablesToReload=[{"SchemaName": "app", "TableName": "beta"}],
        ReloadOption="validate-only",
    )
    stats = wait_validation(dms, arn, {"beta": "Mismatched records"})
    assert stats["beta"]["ValidationFailedRecords"] == 1, stats["beta"]
    details = pg_cluster.psql(
        'SELECT "DETAILS" FROM awsdms_control.awsdms_validation_failures_v1', target
    )
    assert json.loads(details) == {"source": {"note": "n1"}, "target": {"note": "changed"}}
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_for_end(dms, arn, timeout=120)


def test_cdc_changes_are_validated_after_the_delay(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms, arn, target = started_task(
        server,
        pg_cluster,
        databases,
        "cdc-validation",
        "full-load-and-cdc",
        ReplicationTaskSettings=settings(ValidationQueryCdcDelaySeconds=1),
    )
    wait_cdc(dms, arn)
    wait_validation(dms, arn, {"alpha": "Validated", "beta": "Validated"})
    # A row changed on the target only is not seen until a change to its table is replicated:
    # the table is then compared again, without any ReloadTables.
    pg_cluster.psql("UPDATE app.alpha SET price = 0 WHERE id = 9", target)
    source = target.replace("_target", "_source")
    pg_cluster.psql("INSERT INTO app.alpha VALUES (2000, 'new', 1, NULL)", source)
    stats = wait_validation(dms, arn, {"alpha": "Mismatched records"})
    assert stats["alpha"]["ValidationFailedRecords"] == 1, stats["alpha"]
    assert stats["alpha"]["AppliedInserts"] == 1, stats["alpha"]
    assert stats["beta"]["ValidationState"] == "Validated", stats["beta"]
    rows = pg_cluster.psql(FAILURES_SQL, target).splitlines()
    assert [row.split("|")[4:] for row in rows] == [['{"key": ["9"]}', "RECORD_DIFF"]], rows
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_for_end(dms, arn, timeout=120)
