"""dms-local capturing changes for real: cdc and full-load-and-cdc tasks between two PostgreSQL
databases through logical replication (pgoutput), driven by boto3."""

from __future__ import annotations

import datetime
import json
import subprocess
from typing import Any

import pytest

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import create_migration_path, local_client
from dms_local_fixture import (  # noqa: F401  (the fixtures)
    databases_fixture,
    select_schema,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_full_load import (
    PASSWORD,
    create_task,
    describe_task,
    wait_for_end,
    wait_until,
)

SCHEMA_SQL = """
CREATE SCHEMA app;
CREATE TABLE app.items (id integer PRIMARY KEY, name text, qty integer, tags text[]);
CREATE TABLE app.pairs (a integer, b integer, val text, PRIMARY KEY (a, b));
CREATE TABLE app.notes (k text, v text);
"""

SEED_SQL = """
INSERT INTO app.items SELECT g, 'item ' || g, g % 17, ARRAY['t' || g, NULL]
  FROM generate_series(1, 3000) g;
INSERT INTO app.pairs SELECT g % 50, g, 'v' || g FROM generate_series(1, 1000) g;
INSERT INTO app.notes SELECT 'n' || g, NULL FROM generate_series(1, 200) g;
"""

# One statement per line: each is its own source transaction.
CHANGES_SQL = """
INSERT INTO app.items SELECT g, 'new ' || g, 1, NULL FROM generate_series({lo}, {hi}) g;
UPDATE app.items SET qty = qty + 100, name = name || ' (upd)' WHERE id % 7 = {k};
DELETE FROM app.items WHERE id % 11 = {k};
UPDATE app.pairs SET b = b + 100000 WHERE a = {k};
DELETE FROM app.pairs WHERE a = {k} + 1;
INSERT INTO app.notes SELECT 'm' || g || '-{k}', 'x' FROM generate_series(1, 20) g;
BEGIN; INSERT INTO app.items VALUES ({hi} + 1, 'in txn', 0, '{{a,b}}');
  UPDATE app.items SET qty = -1 WHERE id = {hi} + 1; COMMIT;
"""

TABLES = ["app.items", "app.pairs", "app.notes"]
MAPPINGS = select_schema("app")
INTERVAL_MS = 200


def client(server: DmsLocalServer, service: str) -> Any:
    return local_client(server.url, service)


def make_db(cluster: PgCluster, made: list[str], name: str, sql: str) -> str:
    cluster.create_database(name)
    made.append(name)
    if sql:
        cluster.psql(sql, name)
    return name


def slots(cluster: PgCluster) -> list[str]:
    out = cluster.psql("SELECT slot_name FROM pg_replication_slots ORDER BY 1")
    return out.split()


def delete_and_check_slots(dms: Any, arn: str, cluster: PgCluster) -> None:
    """Deletes the task; its replication slot goes with it, as no other slot was left behind."""
    dms.delete_replication_task(ReplicationTaskArn=arn)
    assert slots(cluster) == []


def in_sync(cluster: PgCluster, source: str, target: str) -> bool:
    return all(
        cluster.table_checksum(source, t) == cluster.table_checksum(target, t) for t in TABLES
    )


def wait_in_sync(cluster: PgCluster, source: str, target: str) -> None:
    wait_until(lambda: in_sync(cluster, source, target), timeout=30, interval=0.2)


def wait_replicating(dms: Any, arn: str) -> dict[str, Any]:
    """Running with a stored position: the slot exists and any load is done."""
    seen: dict[str, Any] = {}

    def ready() -> bool:
        seen.update(describe_task(dms, arn))
        assert seen["Status"] in ("starting", "running"), seen
        return seen["Status"] == "running" and "RecoveryCheckpoint" in seen

    wait_until(ready, timeout=30, interval=0.1)
    return seen


def stop(dms: Any, arn: str) -> dict[str, Any]:
    dms.stop_replication_task(ReplicationTaskArn=arn)
    task = wait_for_end(dms, arn, timeout=30)
    assert task["Status"] == "stopped", task
    assert task["StopReason"] == "Stop Reason NORMAL", task
    return task


def setup_task(
    server: DmsLocalServer,
    cluster: PgCluster,
    source: str,
    target: str,
    migration: str,
    settings: dict[str, Any] | None = None,
) -> tuple[Any, str]:
    dms = client(server, "dms")
    path = create_migration_path(dms, cluster, source, target, password=PASSWORD)
    extra = {} if settings is None else {"ReplicationTaskSettings": json.dumps(settings)}
    return dms, create_task(dms, "app-cdc", *path, MAPPINGS, migration, **extra)


@pytest.mark.parametrize("stop_after", ["", "StopTaskCachedChangesApplied"])
def test_changes_during_the_load_are_applied_after_it(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str], stop_after: str
) -> None:
    source = make_db(pg_cluster, databases, "cdc_during_source", SCHEMA_SQL + SEED_SQL)
    # Existing, empty target tables (DO_NOTHING), one of them locked: its load waits while the
    # source changes after the slot's consistent point.
    target = make_db(pg_cluster, databases, "cdc_during_target", SCHEMA_SQL)
    full_load: dict[str, Any] = {"TargetTablePrepMode": "DO_NOTHING"}
    if stop_after:
        full_load[stop_after] = True
    settings = {"FullLoadSettings": full_load}
    dms, arn = setup_task(server, pg_cluster, source, target, "full-load-and-cdc", settings)
    lock = subprocess.Popen(
        [str(pg_cluster.bindir / "psql"), "-X", "-q", "-d", pg_cluster.dsn(target)],
        stdin=subprocess.PIPE,
        text=True,
    )
    assert lock.stdin is not None
    try:
        # SHARE blocks the load's writes. Not ACCESS EXCLUSIVE: that lock takes a transaction id,
        # and a logical slot in the same cluster only reaches its consistent point once every
        # transaction with one has ended.
        lock.stdin.write("BEGIN; LOCK TABLE app.items IN SHARE MODE;\n")
        lock.stdin.flush()
        wait_until(
            lambda: (
                "t"
                in pg_cluster.psql(
                    "SELECT count(*) > 0 FROM pg_locks WHERE mode = "
                    "'ShareLock' AND relation IS NOT NULL",
                    target,
                )
            ),
            timeout=10,
        )
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
        # `running` once the slot holds the position the load's snapshot ends at.
        wait_until(lambda: describe_task(dms, arn)["Status"] == "running", timeout=30)
        assert len(slots(pg_cluster)) == 1
        pg_cluster.psql(CHANGES_SQL.format(lo=5000, hi=5100, k=1), source)
        loading = describe_task(dms, arn)
        assert loading["Status"] == "running" and "RecoveryCheckpoint" not in loading, loading
    finally:
        lock.communicate("COMMIT;\n", timeout=30)
    if stop_after:
        # The task ends by itself once the changes cached during the load are applied.
        task = wait_for_end(dms, arn, timeout=30)
        assert task["Status"] == "stopped", task
        assert task["StopReason"] == "Stop Reason STOPPED_AFTER_CACHED_EVENTS", task
        assert in_sync(pg_cluster, source, target)
        # Later changes wait in the slot for resume-processing.
        pg_cluster.psql(CHANGES_SQL.format(lo=6000, hi=6100, k=2), source)
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing"
        )
    wait_replicating(dms, arn)
    wait_in_sync(pg_cluster, source, target)
    stop(dms, arn)
    delete_and_check_slots(dms, arn, pg_cluster)


def test_stop_after_the_load_without_its_cached_changes(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "cdc_notapplied_source", SCHEMA_SQL + SEED_SQL)
    target = make_db(pg_cluster, databases, "cdc_notapplied_target", "")
    settings = {"FullLoadSettings": {"StopTaskCachedChangesNotApplied": True}}
    dms, arn = setup_task(server, pg_cluster, source, target, "full-load-and-cdc", settings)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    task = wait_for_end(dms, arn, timeout=30)
    assert task["Status"] == "stopped", task
    assert task["StopReason"] == "Stop Reason STOPPED_AFTER_FULL_LOAD", task
    assert task["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100
    assert in_sync(pg_cluster, source, target)
    pg_cluster.psql(CHANGES_SQL.format(lo=5000, hi=5100, k=1), source)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_in_sync(pg_cluster, source, target)
    stop(dms, arn)
    delete_and_check_slots(dms, arn, pg_cluster)


def test_full_load_and_cdc_then_resume_exactly_once(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "cdc_fl_source", SCHEMA_SQL + SEED_SQL)
    target = make_db(pg_cluster, databases, "cdc_fl_target", "")
    dms, arn = setup_task(server, pg_cluster, source, target, "full-load-and-cdc")

    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    # Changes while the task starts and loads: either in the slot's snapshot or after it.
    pg_cluster.psql(CHANGES_SQL.format(lo=5000, hi=5100, k=1), source)
    task = wait_replicating(dms, arn)
    assert task["RecoveryCheckpoint"].startswith("checkpoint:V1#"), task
    pg_cluster.psql(CHANGES_SQL.format(lo=6000, hi=6100, k=2), source)
    wait_in_sync(pg_cluster, source, target)

    running = describe_task(dms, arn)
    assert running["Status"] == "running"
    assert running["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100
    # The second batch is after the slot's consistent point: 102 captured inserts at least.
    stats: dict[str, Any] = {}

    def counted() -> bool:
        answer = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
        stats.update({t["TableName"]: t for t in answer})
        return bool(stats["items"]["AppliedInserts"] >= 102)

    wait_until(counted, timeout=10)
    assert stats["items"]["Inserts"] >= 102 and stats["items"]["Updates"] > 0, stats["items"]
    assert stats["items"]["Deletes"] > 0, stats["items"]
    assert stats["items"]["AppliedInserts"] == stats["items"]["Inserts"], stats["items"]
    assert stats["items"]["TableState"] == "Table completed"
    assert stats["items"]["FullLoadRows"] > 2000, stats["items"]

    stopped = stop(dms, arn)
    assert len(slots(pg_cluster)) == 1, "the slot is kept while the task is stopped"
    # Changes while stopped arrive exactly once after resume-processing (notes has no key:
    # a replayed insert would show as a duplicate row).
    pg_cluster.psql(CHANGES_SQL.format(lo=7000, hi=7100, k=3), source)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_until(lambda: describe_task(dms, arn)["Status"] == "running", timeout=30)
    wait_in_sync(pg_cluster, source, target)
    # The task learns the confirmed position with the statistics, at the report interval.
    wait_until(
        lambda: describe_task(dms, arn)["RecoveryCheckpoint"] != stopped["RecoveryCheckpoint"],
        timeout=10,
    )
    pg_cluster.psql(CHANGES_SQL.format(lo=8000, hi=8100, k=4), source)
    pg_cluster.psql(
        "TRUNCATE app.notes; INSERT INTO app.notes VALUES ('after', 'truncate');", source
    )
    wait_in_sync(pg_cluster, source, target)

    # The counters go on across the resume; a truncate counts as a DDL.
    def carried_on() -> bool:
        answer = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
        now = {t["TableName"]: t for t in answer}
        return bool(
            now["items"]["AppliedInserts"] >= stats["items"]["AppliedInserts"] + 204
            and now["notes"]["Ddls"] == now["notes"]["AppliedDdls"] == 1
            and now["items"]["FullLoadRows"] == stats["items"]["FullLoadRows"]
        )

    wait_until(carried_on, timeout=10)
    stop(dms, arn)

    delete_and_check_slots(dms, arn, pg_cluster)


def test_cdc_only_task_and_latency_metrics(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "cdc_only_source", SCHEMA_SQL + SEED_SQL)
    # A cdc task replicates into existing tables: the target starts as a copy of the source.
    target = make_db(pg_cluster, databases, "cdc_only_target", SCHEMA_SQL + SEED_SQL)
    logging_on = {"Logging": {"EnableLogging": True}}
    dms, arn = setup_task(server, pg_cluster, source, target, "cdc", logging_on)
    begun = datetime.datetime.now(datetime.timezone.utc)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    pg_cluster.psql(CHANGES_SQL.format(lo=5000, hi=5100, k=1), source)
    wait_in_sync(pg_cluster, source, target)

    cloudwatch = client(server, "cloudwatch")
    task_id = arn.rsplit(":", 1)[1]

    def datapoints(metric: str) -> list[float]:
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/DMS",
                            "MetricName": metric,
                            "Dimensions": [
                                {"Name": "ReplicationInstanceIdentifier", "Value": "local"},
                                {"Name": "ReplicationTaskIdentifier", "Value": task_id},
                            ],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
            ],
            StartTime=begun - datetime.timedelta(minutes=1),
            EndTime=begun + datetime.timedelta(minutes=5),
        )
        return [float(v) for v in answer["MetricDataResults"][0]["Values"]]

    every_metric = (
        "CDCLatencySource",
        "CDCLatencyTarget",
        "CDCIncomingChanges",
        "CDCThroughputRowsSource",
        "CDCThroughputRowsTarget",
        "CDCThroughputBandwidthSource",
        "CDCThroughputBandwidthTarget",
        "CDCChangesMemorySource",
        "CDCChangesMemoryTarget",
    )
    for metric in every_metric:
        wait_until(lambda m=metric: bool(datapoints(m)), timeout=10, interval=0.2)
        assert all(v >= 0 for v in datapoints(metric)), metric
    # The changes moved: rows and bytes were read and applied.
    for metric in every_metric[3:7]:
        # The first report after the changes carries them (reports come every 500 ms).
        wait_until(lambda m=metric: max(datapoints(m)) > 0, timeout=10, interval=0.2)

    logs = client(server, "logs")
    events = logs.get_log_events(
        logGroupName="dms-tasks-local", logStreamName=f"dms-task-{task_id}", startFromHead=True
    )["events"]
    lines = [e["message"] for e in events]
    assert any("[SOURCE_CAPTURE  ]I:  Replication slot 'dms_local_" in m for m in lines), lines
    assert any("Starting replication from slot" in m for m in lines), lines

    stop(dms, arn)
    delete_and_check_slots(dms, arn, pg_cluster)


def test_source_without_logical_wal_fails_clearly(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    target = make_db(pg_cluster, databases, "cdc_walrep_target", "")
    with PgCluster() as replica_only:
        replica_only.psql("ALTER SYSTEM SET wal_level = replica;")
        replica_only.restart()
        replica_only.psql(SCHEMA_SQL)
        dms = client(server, "dms")
        path = create_migration_path(
            dms, replica_only, "postgres", target, target_cluster=pg_cluster, password=PASSWORD
        )
        arn = create_task(dms, "walrep", *path, MAPPINGS, "full-load-and-cdc")
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
        task = wait_for_end(dms, arn, timeout=30)
        assert task["Status"] == "failed", task
        assert task["StopReason"] == "Stop Reason FATAL_ERROR"
        message = task["LastFailureMessage"]
        assert "wal_level=replica" in message and "wal_level = logical" in message, message
        assert PASSWORD not in json.dumps(task, default=str)


def test_dropped_slot_fails_resume_clearly(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "cdc_gone_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "cdc_gone_target", SCHEMA_SQL)
    dms, arn = setup_task(server, pg_cluster, source, target, "cdc")
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    stop(dms, arn)
    (slot,) = slots(pg_cluster)
    pg_cluster.psql(f"SELECT pg_drop_replication_slot('{slot}')")
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    task = wait_for_end(dms, arn, timeout=30)
    assert task["Status"] == "failed", task
    assert "does not exist" in task["LastFailureMessage"], task
    assert "reload-target" in task["LastFailureMessage"], task
    # reload-target starts afresh with a new slot.
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="reload-target")
    wait_until(lambda: len(slots(pg_cluster)) == 1, timeout=30)
    pg_cluster.psql(SEED_SQL, source)
    wait_in_sync(pg_cluster, source, target)
    stop(dms, arn)
    delete_and_check_slots(dms, arn, pg_cluster)


def test_change_the_target_refuses_fails_the_task(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "cdc_refused_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "cdc_refused_target", SCHEMA_SQL)
    pg_cluster.psql("INSERT INTO app.items VALUES (1, 'already here', 0, NULL)", target)
    dms, arn = setup_task(server, pg_cluster, source, target, "cdc")
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    before = describe_task(dms, arn)["RecoveryCheckpoint"]
    pg_cluster.psql("INSERT INTO app.items VALUES (1, 'conflict', 0, NULL)", source)
    task = wait_for_end(dms, arn, timeout=30)
    assert task["Status"] == "failed", task
    assert task["StopReason"] == "Stop Reason FATAL_ERROR"
    assert "Failed to apply a change to the target" in task["LastFailureMessage"], task
    assert "23505" in task["LastFailureMessage"], task
    # Nothing of the refused transaction is confirmed: a resume would try it again.
    assert task["RecoveryCheckpoint"] == before
    delete_and_check_slots(dms, arn, pg_cluster)


def test_refused_change_deep_in_a_large_transaction_fails_all_of_it(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    """Statements are sent ahead of their answers: a refusal read long after it was sent still
    fails its whole source transaction, and the statements sent after it never apply."""
    source = make_db(pg_cluster, databases, "cdc_deep_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "cdc_deep_target", SCHEMA_SQL)
    pg_cluster.psql("INSERT INTO app.items VALUES (2500, 'already here', 0, NULL)", target)
    dms, arn = setup_task(server, pg_cluster, source, target, "cdc")

    def count(where: str) -> str:
        return pg_cluster.psql(f"SELECT count(*) FROM app.items WHERE {where}", target).strip()

    def position() -> str:
        return pg_cluster.psql("SELECT confirmed_lsn FROM awsdms_txn_state", target).strip()

    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    # Larger than what is sent before answers are read: applied whole all the same.
    pg_cluster.psql(
        "INSERT INTO app.items SELECT g, 'big', 0, NULL FROM generate_series(10000, 14999) g",
        source,
    )
    wait_until(lambda: count("name = 'big'") == "5000", timeout=30)
    applied = position()
    # Row 2500 is refused after the first thousand statements of this transaction.
    pg_cluster.psql(
        "INSERT INTO app.items SELECT g, 'doomed', 0, NULL FROM generate_series(1, 4000) g",
        source,
    )
    task = wait_for_end(dms, arn, timeout=30)
    assert task["Status"] == "failed", task
    assert "Failed to apply a change to the target" in task["LastFailureMessage"], task
    assert "23505" in task["LastFailureMessage"], task
    assert "items_pkey" in task["LastFailureMessage"], task
    assert count("name = 'doomed'") == "0"
    assert count("true") == "5001"
    assert position() == applied
    expected = pg_cluster.psql(
        f"SELECT 'checkpoint:V1#1#' || lpad(split_part('{applied}', '/', 1), 8, '0') || '/' "
        f"|| lpad(split_part('{applied}', '/', 2), 8, '0') || '#0#0#*#0#0'"
    ).strip()
    assert task["RecoveryCheckpoint"] == expected, task
    delete_and_check_slots(dms, arn, pg_cluster)


def test_resume_after_dms_local_restarts(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "cdc_restart_source", SCHEMA_SQL + SEED_SQL)
    target = make_db(pg_cluster, databases, "cdc_restart_target", SCHEMA_SQL + SEED_SQL)
    dms, arn = setup_task(server, pg_cluster, source, target, "cdc")
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    pg_cluster.psql(CHANGES_SQL.format(lo=5000, hi=5100, k=1), source)
    wait_in_sync(pg_cluster, source, target)

    # A clean shutdown records the task as stopped; its position is in the state file. (Closing
    # the client first spares the shutdown waiting out its keep-alive connection.)
    dms.close()
    assert server.restart() == 0
    pg_cluster.psql(CHANGES_SQL.format(lo=6000, hi=6100, k=2), source)
    dms = client(server, "dms")
    task = describe_task(dms, arn)
    assert task["Status"] == "stopped" and task["StopReason"] == "Stop Reason NORMAL", task
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_in_sync(pg_cluster, source, target)
    stop(dms, arn)
    dms.delete_replication_task(ReplicationTaskArn=arn)
    dms.close()
    assert slots(pg_cluster) == []
