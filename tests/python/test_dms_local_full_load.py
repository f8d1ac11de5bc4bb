"""dms-local moving data for real: full-load tasks between two PostgreSQL databases, driven by
independent clients (boto3, the AWS CLI) and by our own (dmsctl, DmsClient)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagster_dms.testing import DmsLocalServer, account
from dagster_dms.testing.account import (
    create_available_instance,
    create_cluster_endpoint,
    create_migration_path,
    describe_task,
    local_client,
    selection_rules,
)
from dms_local_fixture import FAST_ARGS, serving
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

SOURCE_DB = "dms_local_fl_source"
PASSWORD = "fl-secret-pw"  # the test cluster trusts loopback; this only proves it never leaks

SOURCE_SQL = r"""
CREATE SCHEMA shop;
CREATE TABLE shop.customers (
  id bigint PRIMARY KEY, name text, note text, balance numeric(14,4), score double precision,
  active boolean, born date, seen timestamp, created timestamptz, avatar bytea, prefs jsonb,
  raw json, ref uuid, tags text[], lucky integer[]);
INSERT INTO shop.customers
SELECT g, 'customer ' || g,
  CASE WHEN g % 13 = 0 THEN NULL
       ELSE 'says "hi", then' || E'\n' || 'leaves; it''s ' || g || E'\t\\done' END,
  CASE WHEN g % 7 = 0 THEN NULL ELSE g * 1.2345 END, g / 3.0, g % 2 = 0,
  DATE '1970-01-01' + (g % 20000), TIMESTAMP '2022-02-02 02:02:02' + g * INTERVAL '1.5 s',
  TIMESTAMPTZ '2023-03-03 03:03:03+05' + g * INTERVAL '1 minute', decode(md5(g::text), 'hex'),
  jsonb_build_object('n', g, 'txt', 'a,"b"', 'list', jsonb_build_array(g, NULL)),
  json_build_object('k', g), md5(g::text)::uuid, ARRAY['x,y', 'q"q', NULL, E'l\nm'],
  ARRAY[g, NULL, -g]
FROM generate_series(1, 60000) AS g;
CREATE TABLE shop.orders (region text, order_no integer, amount numeric(12,2), placed timestamptz,
  PRIMARY KEY (region, order_no));
INSERT INTO shop.orders
SELECT 'r' || (g % 9), g, g * 0.01, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 s'
FROM generate_series(1, 40000) AS g;
CREATE TABLE shop.events (payload text, flag boolean, data bytea);
INSERT INTO shop.events
SELECT CASE WHEN g % 5 = 0 THEN '' WHEN g % 5 = 1 THEN NULL ELSE 'e,' || g END,
  CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END,
  CASE WHEN g % 4 = 0 THEN NULL ELSE '\x00ff'::bytea END
FROM generate_series(1, 15000) AS g;
CREATE TABLE shop."Audit Log" ("Id" integer PRIMARY KEY, "What" text);
INSERT INTO shop."Audit Log" SELECT g, 'w' || g FROM generate_series(1, 25) AS g;
ANALYZE;
"""

TABLES = {"customers": 60000, "orders": 40000, "events": 15000, "Audit Log": 25}
QUOTED = {name: f'shop."{name}"' for name in TABLES}


def mappings(schema: str = "shop") -> str:
    return selection_rules(schema)


@pytest.fixture(scope="module")
def source_db(pg_cluster: PgCluster) -> Iterator[str]:
    pg_cluster.create_database(SOURCE_DB)
    pg_cluster.psql(SOURCE_SQL, SOURCE_DB)
    yield SOURCE_DB
    pg_cluster.drop_database(SOURCE_DB)


@pytest.fixture()
def target_dbs(pg_cluster: PgCluster) -> Iterator[list[str]]:
    """Empty target databases, made on demand and dropped afterwards."""
    made: list[str] = []
    yield made
    for name in made:
        pg_cluster.drop_database(name)


def new_target(pg_cluster: PgCluster, target_dbs: list[str], name: str) -> str:
    pg_cluster.create_database(name)
    target_dbs.append(name)
    return name


@pytest.fixture()
def server(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocalServer]:
    """dms-local with its real data plane (no test executor) and an s3 root."""
    with serving(tmp_path, monkeypatch, [*FAST_ARGS, "--s3-root", str(tmp_path / "s3")]) as server:
        yield server


def dms_client(server: DmsLocalServer) -> Any:
    return local_client(server.url)


def create_pg_endpoint(dms: Any, cluster: PgCluster, name: str, kind: str, db: str) -> str:
    return create_cluster_endpoint(dms, name, kind, cluster, db, password=PASSWORD)


def create_instance(dms: Any) -> str:
    return create_available_instance(dms, "local")


def create_task(
    dms: Any,
    name: str,
    source: str,
    target: str,
    instance: str,
    table_mappings: str,
    migration: str = "full-load",
    **extra: Any,
) -> str:
    return account.create_task(
        dms,
        name,
        source=source,
        target=target,
        instance=instance,
        table_mappings=table_mappings,
        migration_type=migration,
        **extra,
    )


def wait_until(predicate: Any, timeout: float = 300.0, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(interval)


def wait_for_end(dms: Any, arn: str, timeout: float = 300.0) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def ended() -> bool:
        seen.update(describe_task(dms, arn))
        return seen["Status"] in ("stopped", "failed")

    wait_until(ended, timeout=timeout, interval=0.2)
    return seen


def assert_same_data(cluster: PgCluster, source: str, target: str) -> None:
    for name, table in QUOTED.items():
        got = cluster.table_checksum(target, table)
        assert got[0] == TABLES[name], table
        assert got == cluster.table_checksum(source, table), table


def table_rows(dms: Any, arn: str) -> dict[str, dict[str, Any]]:
    stats = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    return {str(t["TableName"]): dict(t) for t in stats}


def assert_finished(task: dict[str, Any]) -> None:
    assert task["Status"] == "stopped", task
    assert task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", task
    stats = task["ReplicationTaskStats"]
    assert stats["FullLoadProgressPercent"] == 100, stats
    assert stats["TablesLoaded"] == len(TABLES), stats
    assert stats["TablesErrored"] == 0 and stats["TablesQueued"] == 0, stats
    assert stats["FullLoadFinishDate"] >= stats["FullLoadStartDate"], stats
    assert stats["ElapsedTimeMillis"] > 0, stats


def test_boto3_full_load_postgres_to_postgres(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str, target_dbs: list[str]
) -> None:
    target_db = new_target(pg_cluster, target_dbs, "dms_local_fl_boto3")
    dms = dms_client(server)
    path = create_migration_path(dms, pg_cluster, source_db, target_db, password=PASSWORD)
    arn = create_task(dms, "shop-load", *path, mappings())

    started = dms.start_replication_task(
        ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
    )["ReplicationTask"]
    assert started["Status"] == "starting"
    task = wait_for_end(dms, arn)
    assert_finished(task)

    tables = table_rows(dms, arn)
    assert set(tables) == set(TABLES)
    for name, rows in TABLES.items():
        table = tables[name]
        assert table["SchemaName"] == "shop"
        assert table["FullLoadRows"] == rows, table
        assert table["TableState"] == "Table completed", table
        assert table["FullLoadEndTime"] >= table["FullLoadStartTime"], table
        assert table["Inserts"] == table["Updates"] == table["Deletes"] == table["Ddls"] == 0
    assert_same_data(pg_cluster, source_db, target_db)

    # A second run of a finished task reloads the target (DROP_AND_CREATE by default).
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="reload-target")
    assert_finished(wait_for_end(dms, arn))
    assert_same_data(pg_cluster, source_db, target_db)


AWS_CLI = "/usr/bin/aws" if Path("/usr/bin/aws").exists() else shutil.which("aws")


def aws(server: DmsLocalServer, *args: str) -> dict[str, Any]:
    assert AWS_CLI is not None
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    command = [AWS_CLI, "dms", *args, "--endpoint-url", server.url, "--region", "us-east-1"]
    done = subprocess.run(
        [*command, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout)) if done.stdout.strip() else {}


@pytest.mark.skipif(AWS_CLI is None, reason="the AWS CLI is not installed")
def test_aws_cli_full_load(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str, target_dbs: list[str]
) -> None:
    target_db = new_target(pg_cluster, target_dbs, "dms_local_fl_cli")

    def endpoint(name: str, kind: str, db: str) -> str:
        created = aws(
            server,
            "create-endpoint",
            "--endpoint-identifier",
            name,
            "--endpoint-type",
            kind,
            "--engine-name",
            "postgres",
            "--server-name",
            "127.0.0.1",
            "--port",
            str(pg_cluster.port),
            "--database-name",
            db,
            "--username",
            pg_cluster.user,
            "--password",
            PASSWORD,
        )
        return str(created["Endpoint"]["EndpointArn"])

    source = endpoint("cli-src", "source", source_db)
    target = endpoint("cli-dst", "target", target_db)
    instance = aws(
        server,
        "create-replication-instance",
        "--replication-instance-identifier",
        "cli-instance",
        "--replication-instance-class",
        "dms.t3.micro",
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    wait_until(
        lambda: (
            aws(server, "describe-replication-instances")["ReplicationInstances"][0][
                "ReplicationInstanceStatus"
            ]
            == "available"
        ),
        timeout=60,
    )
    arn = aws(
        server,
        "create-replication-task",
        "--replication-task-identifier",
        "cli-load",
        "--source-endpoint-arn",
        source,
        "--target-endpoint-arn",
        target,
        "--replication-instance-arn",
        instance,
        "--migration-type",
        "full-load",
        "--table-mappings",
        mappings(),
    )["ReplicationTask"]["ReplicationTaskArn"]

    def describe() -> dict[str, Any]:
        found = aws(
            server,
            "describe-replication-tasks",
            "--filters",
            f"Name=replication-task-arn,Values={arn}",
            "--without-settings",
        )
        return dict(found["ReplicationTasks"][0])

    wait_until(lambda: describe()["Status"] == "ready", timeout=60)
    aws(
        server,
        "start-replication-task",
        "--replication-task-arn",
        arn,
        "--start-replication-task-type",
        "start-replication",
    )
    final: dict[str, Any] = {}

    def ended() -> bool:
        final.update(describe())
        return final["Status"] in ("stopped", "failed")

    wait_until(ended, timeout=300, interval=0.3)
    assert_finished(final)
    stats = aws(server, "describe-table-statistics", "--replication-task-arn", arn)
    rows = {t["TableName"]: t["FullLoadRows"] for t in stats["TableStatistics"]}
    assert rows == TABLES
    assert_same_data(pg_cluster, source_db, target_db)


def dmsctl_path() -> str:
    found = shutil.which("dmsctl", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("dmsctl is not installed in this environment")
    return found


def dmsctl(server: DmsLocalServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [dmsctl_path(), "--endpoint-url", server.url, "--region", "us-east-1", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_dmsctl_and_dms_client_run_full_loads(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str, target_dbs: list[str]
) -> None:
    from dagster_dms import DmsClient

    dms = dms_client(server)
    source = create_pg_endpoint(dms, pg_cluster, "src", "source", source_db)
    instance = create_instance(dms)

    cli_db = new_target(pg_cluster, target_dbs, "dms_local_fl_dmsctl")
    cli_target = create_pg_endpoint(dms, pg_cluster, "dst-cli", "target", cli_db)
    create_task(dms, "by-dmsctl", source, cli_target, instance, mappings())
    done = dmsctl(server, "tasks", "start", "by-dmsctl", "--wait", "--poll-interval", "0.2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FULL_LOAD_ONLY_FINISHED" in done.stdout + done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert_same_data(pg_cluster, source_db, cli_db)

    client_db = new_target(pg_cluster, target_dbs, "dms_local_fl_client")
    client_target = create_pg_endpoint(dms, pg_cluster, "dst-client", "target", client_db)
    arn = create_task(dms, "by-client", source, client_target, instance, mappings())
    ours = DmsClient(region_name="us-east-1", endpoint_url=server.url)
    result = ours.run_task(arn, poll_interval=0.2, max_poll_interval=1.0, completion_timeout=300)
    assert result.outcome == "succeeded", result.message
    assert result.task.stop_reason == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert result.table_statistics is not None
    assert {t.table_name: t.full_load_rows for t in result.table_statistics} == TABLES
    assert_same_data(pg_cluster, source_db, client_db)


def test_mapping_that_selects_nothing_fails_the_task(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str, target_dbs: list[str]
) -> None:
    target_db = new_target(pg_cluster, target_dbs, "dms_local_fl_nothing")
    dms = dms_client(server)
    path = create_migration_path(dms, pg_cluster, source_db, target_db, password=PASSWORD)
    arn = create_task(dms, "selects-nothing", *path, mappings("no_such_schema"))

    done = dmsctl(server, "tasks", "start", "selects-nothing", "--wait", "--poll-interval", "0.2")
    assert done.returncode == 4, done.stdout + done.stderr
    task = describe_task(dms, arn)
    assert task["Status"] == "failed", task
    assert task["StopReason"] == "Stop Reason FATAL_ERROR", task
    assert "No tables were found" in task["LastFailureMessage"], task
    assert "No tables were found" in done.stdout + done.stderr


def test_cdc_tasks_and_unusable_targets_fail_with_a_clear_message(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str
) -> None:
    dms = dms_client(server)
    source = create_pg_endpoint(dms, pg_cluster, "src", "source", source_db)
    target = create_pg_endpoint(dms, pg_cluster, "dst", "target", "unused")
    instance = create_instance(dms)
    # S3 settings dms-local cannot honour (test_dms_local_cdc_s3.py covers CDC to s3).
    files = dms.create_endpoint(
        EndpointIdentifier="files",
        EndpointType="target",
        EngineName="s3",
        S3Settings={"BucketName": "lake", "PreserveTransactions": True, "CdcPath": "txn"},
    )["Endpoint"]["EndpointArn"]
    arn = create_task(
        dms, "with-cdc", source, files, instance, mappings(), migration="full-load-and-cdc"
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    task = wait_for_end(dms, arn, timeout=30)
    assert task["Status"] == "failed"
    assert "PreserveTransactions and CdcPath are not supported" in task["LastFailureMessage"], task

    # An unreachable source: the task fails in DMS's words, without the password.
    dead = dms.create_endpoint(
        EndpointIdentifier="dead",
        EndpointType="source",
        EngineName="postgres",
        ServerName="127.0.0.1",
        Port=1,
        DatabaseName="x",
        Username="dms",
        Password=PASSWORD,
    )["Endpoint"]["EndpointArn"]
    arn = create_task(dms, "dead-source", dead, target, instance, mappings())
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    task = wait_for_end(dms, arn, timeout=60)
    assert task["Status"] == "failed"
    assert task["LastFailureMessage"].startswith("Error connecting to source database"), task
    assert PASSWORD not in json.dumps(task, default=str)


def test_s3_target_writes_csv_files_under_the_s3_root(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str, tmp_path: Path
) -> None:
    dms = dms_client(server)
    source = create_pg_endpoint(dms, pg_cluster, "src", "source", source_db)
    target = dms.create_endpoint(
        EndpointIdentifier="files",
        EndpointType="target",
        EngineName="s3",
        S3Settings={"BucketName": "lake", "BucketFolder": "raw"},
    )["Endpoint"]["EndpointArn"]
    instance = create_instance(dms)
    arn = create_task(dms, "to-files", source, target, instance, mappings())
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    assert_finished(wait_for_end(dms, arn))
    folder = tmp_path / "s3" / "lake" / "raw" / "shop" / "orders"
    files = sorted(folder.glob("LOAD*.csv"))
    assert files, f"no LOAD files in {folder}"
    lines = sum(len(f.read_text().splitlines()) for f in files)
    assert lines == TABLES["orders"]
