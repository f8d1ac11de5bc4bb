"""ReloadTables and ReloadReplicationTables on a running full-load-and-cdc replication, and what
deleting a serverless CDC replication leaves on the source: real dms-local, real PostgreSQL,
boto3.

A reload copies the named tables again from a snapshot that matches a known point of the change
stream, while replication goes on for every table: a change made on the source during the reload
must reach the target exactly once (the checksums below would show a lost or a repeated one; a
repeated insert would also fail the task on its primary key)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import create_migration_path
from dms_local_fixture import (  # noqa: F401  (the fixtures)
    FAST_ARGS,
    boto3_dms,
    databases_fixture,
    select_schema,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_cdc import make_db
from test_dms_local_full_load import (
    PASSWORD,
    create_pg_endpoint,
    create_task,
    describe_task,
    wait_for_end,
    wait_until,
)

SCHEMA_SQL = """
CREATE SCHEMA app;
CREATE TABLE app.alpha (id bigserial PRIMARY KEY, val text, n integer);
CREATE TABLE app.beta (id bigserial PRIMARY KEY, val text, n integer);
CREATE TABLE app.gamma (id bigserial PRIMARY KEY, val text, n integer);
"""
# beta, the table that is reloaded, is the largest: its copy takes long enough for the writer
# to change it (and the others) while the copy runs.
SEED_SQL = """
INSERT INTO app.alpha (val, n) SELECT 'a' || g, g FROM generate_series(1, 2000) g;
INSERT INTO app.beta (val, n) SELECT repeat('b', 200) || g, g FROM generate_series(1, 60000) g;
INSERT INTO app.gamma (val, n) SELECT 'c' || g, g FROM generate_series(1, 2000) g;
"""
SEEDED = {"alpha": 2000, "beta": 60000, "gamma": 2000}
TABLES = [f"app.{name}" for name in SEEDED]
RELOADED = {"SchemaName": "app", "TableName": "beta"}


@pytest.fixture(name="server_args")
def server_args_here() -> list[str]:
    return list(FAST_ARGS)


class Writer:
    """Changes every table on the source, one small transaction after another, until stopped:
    inserts, updates and deletes, so that a lost or repeated change shows in the checksums."""

    def __init__(self, cluster: PgCluster, db: str) -> None:
        self._cluster = cluster
        self._db = db
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.rounds = 0
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                k = self.rounds
                statements = []
                for table in TABLES:
                    statements += [
                        f"INSERT INTO {table} (val, n) SELECT 'w{k}-' || g, g "
                        "FROM generate_series(1, 5) g;",
                        f"UPDATE {table} SET n = n + 1, val = val || '+' WHERE id % 97 = {k % 97};",
                        f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id "
                        "LIMIT 2);",
                    ]
                # One psql call: each statement is its own transaction.
                self._cluster.psql("\n".join(statements), self._db)
                self.rounds += 1
        except BaseException as error:  # reported by stop()
            self.error = error

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def wait_rounds(self, count: int) -> None:
        target = self.rounds + count
        wait_until(lambda: self.rounds >= target or self.error is not None, timeout=120)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
        assert not self._thread.is_alive(), "the writer did not stop"
        if self.error is not None:
            raise self.error

    def __exit__(self, *exc: object) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(timeout=120)


def checksums(cluster: PgCluster, db: str) -> dict[str, tuple[int, str]]:
    return {table: cluster.table_checksum(db, table) for table in TABLES}


def wait_in_sync(cluster: PgCluster, source: str, target: str) -> None:
    """The target equals the source exactly: the same rows (md5) in the same number."""
    wait_until(
        lambda: checksums(cluster, source) == checksums(cluster, target), timeout=120, interval=0.5
    )
    assert checksums(cluster, source) == checksums(cluster, target)


def slots(cluster: PgCluster) -> list[str]:
    return cluster.psql("SELECT slot_name FROM pg_replication_slots ORDER BY 1").split()


def publications(cluster: PgCluster, db: str) -> list[str]:
    return cluster.psql("SELECT pubname FROM pg_publication ORDER BY 1", db).split()


def by_table(statistics: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(s["TableName"]): s for s in statistics}


def reload_done(stat: dict[str, Any], since: Any) -> bool:
    """The table shows a reload that began after `since` (a load's FullLoadEndTime) as done."""
    return bool(
        stat["TableState"] == "Table completed"
        and stat["FullLoadReloaded"]
        and stat["FullLoadStartTime"] > since
    )


def assert_reload_shown(stat: dict[str, Any], since: Any) -> None:
    """Right after ReloadTables: the table is being reloaded (or, on a quick machine, already
    shows the reload done)."""
    assert stat["TableState"] == "Table is being reloaded" or reload_done(stat, since), stat


def wait_reloaded(
    read: Callable[[], list[dict[str, Any]]], table: str, since: Any
) -> dict[str, Any]:
    """Waits until `table` shows a finished reload; every state seen on the way is a reload
    state."""
    seen: dict[str, Any] = {}

    def done() -> bool:
        seen.update(by_table(read())[table])
        assert seen["TableState"] in ("Table is being reloaded", "Table completed"), seen
        return reload_done(seen, since)

    wait_until(done, timeout=120, interval=0.2)
    return seen


def wait_cdc(dms: Any, arn: str) -> None:
    """The task replicates: running, its load done, its slot holding a position."""

    def replicating() -> bool:
        task = describe_task(dms, arn)
        assert task["Status"] in ("starting", "running"), task
        return task["Status"] == "running" and "RecoveryCheckpoint" in task

    wait_until(replicating, timeout=120)


def started_cdc_task(dms: Any, cluster: PgCluster, name: str, source: str, target: str) -> str:
    """A full-load-and-cdc task over schema app from database `source` to `target`, started and
    replicating."""
    arn = create_task(
        dms,
        name,
        *create_migration_path(dms, cluster, source, target, password=PASSWORD),
        select_schema("app"),
        "full-load-and-cdc",
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_cdc(dms, arn)
    return arn


def test_reload_tables_of_a_running_cdc_task_while_the_source_changes(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "reload_running_source", SCHEMA_SQL + SEED_SQL)
    target = make_db(pg_cluster, databases, "reload_running_target", "")
    dms = boto3_dms(server.url)
    arn = started_cdc_task(dms, pg_cluster, "reload-running", source, target)
    assert describe_task(dms, arn)["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100

    def statistics() -> list[dict[str, Any]]:
        return list(dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"])

    # Right after the task reached CDC (it used to answer "the task's run is ending").
    loaded = by_table(statistics())["beta"]["FullLoadEndTime"]
    dms.reload_tables(ReplicationTaskArn=arn, TablesToReload=[RELOADED])
    assert_reload_shown(by_table(statistics())["beta"], loaded)
    first = wait_reloaded(statistics, "beta", loaded)
    assert first["FullLoadRows"] == SEEDED["beta"]

    with Writer(pg_cluster, source) as writer:
        writer.wait_rounds(5)
        # Again while every table changes, also during the copy.
        dms.reload_tables(
            ReplicationTaskArn=arn, TablesToReload=[RELOADED], ReloadOption="data-reload"
        )
        assert_reload_shown(by_table(statistics())["beta"], first["FullLoadEndTime"])
        second = wait_reloaded(statistics, "beta", first["FullLoadEndTime"])
        writer.wait_rounds(5)
        writer.stop()
    assert writer.rounds > 10
    wait_in_sync(pg_cluster, source, target)

    task = describe_task(dms, arn)
    assert task["Status"] == "running", task
    stats = by_table(statistics())
    # The reload copied the rows the writer had added by then; only beta shows a reload.
    assert second["FullLoadRows"] > SEEDED["beta"], second
    assert stats["beta"]["FullLoadReloaded"] is True
    for other in ("alpha", "gamma"):
        assert stats[other]["FullLoadReloaded"] is False, stats[other]
        assert stats[other]["FullLoadRows"] == SEEDED[other], stats[other]
        assert stats[other]["TableState"] == "Table completed", stats[other]
    # Replication went on for every table, beta included, and its counters with it.
    for name, stat in stats.items():
        assert stat["Inserts"] > 0 and stat["Updates"] > 0 and stat["Deletes"] > 0, (name, stat)

    def all_applied() -> bool:
        return all(
            s["AppliedInserts"] == s["Inserts"] and s["AppliedDeletes"] == s["Deletes"]
            for s in statistics()
        )

    wait_until(all_applied, timeout=60, interval=0.2)
    # The reload's temporary slot is gone; the task's own remains.
    assert len(slots(pg_cluster)) == 1

    dms.stop_replication_task(ReplicationTaskArn=arn)
    assert wait_for_end(dms, arn, timeout=120)["Status"] == "stopped"
    # A stopped task reloads nothing, as in AWS.
    with pytest.raises(dms.exceptions.InvalidResourceStateFault):
        dms.reload_tables(ReplicationTaskArn=arn, TablesToReload=[RELOADED])
    dms.delete_replication_task(ReplicationTaskArn=arn)
    assert slots(pg_cluster) == []


def test_validate_only_is_refused_while_validation_is_not_enabled(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "reload_validate_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "reload_validate_target", "")
    dms = boto3_dms(server.url)
    arn = started_cdc_task(dms, pg_cluster, "reload-validate", source, target)
    with pytest.raises(dms.exceptions.ClientError) as raised:
        dms.reload_tables(
            ReplicationTaskArn=arn, TablesToReload=[RELOADED], ReloadOption="validate-only"
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException", error
    assert "validation" in error["Message"] and "not enable" in error["Message"], error
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_for_end(dms, arn, timeout=120)
    dms.delete_replication_task(ReplicationTaskArn=arn)


def create_config(dms: Any, cluster: PgCluster, name: str, source: str, target: str) -> str:
    config = dms.create_replication_config(
        ReplicationConfigIdentifier=name,
        SourceEndpointArn=create_pg_endpoint(dms, cluster, f"{name}-src", "source", source),
        TargetEndpointArn=create_pg_endpoint(dms, cluster, f"{name}-dst", "target", target),
        ComputeConfig={"MaxCapacityUnits": 2},
        ReplicationType="full-load-and-cdc",
        TableMappings=select_schema("app"),
        ReplicationSettings=json.dumps({}),
    )
    return str(config["ReplicationConfig"]["ReplicationConfigArn"])


def replication_status(dms: Any, arn: str) -> str:
    replications = dms.describe_replications(
        Filters=[{"Name": "replication-config-arn", "Values": [arn]}]
    )["Replications"]
    return str(replications[0]["Status"])


def wait_serverless_cdc(dms: Any, cluster: PgCluster, arn: str) -> None:
    """Running, with every table loaded and the slot in place."""

    def loaded() -> bool:
        statistics = dms.describe_replication_table_statistics(ReplicationConfigArn=arn)[
            "ReplicationTableStatistics"
        ]
        return len(statistics) == len(TABLES) and all(
            s["TableState"] == "Table completed" for s in statistics
        )

    wait_until(lambda: replication_status(dms, arn) == "running", timeout=120)
    wait_until(loaded, timeout=120)
    wait_until(lambda: len(slots(cluster)) == 1, timeout=120)


def stop_replication(dms: Any, arn: str) -> None:
    dms.stop_replication(ReplicationConfigArn=arn)
    wait_until(lambda: replication_status(dms, arn) == "stopped", timeout=120)


def test_reload_replication_tables_of_a_running_serverless_replication(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "reload_serverless_source", SCHEMA_SQL + SEED_SQL)
    target = make_db(pg_cluster, databases, "reload_serverless_target", "")
    dms = boto3_dms(server.url)
    arn = create_config(dms, pg_cluster, "reload-serverless", source, target)
    dms.start_replication(ReplicationConfigArn=arn, StartReplicationType="start-replication")
    wait_serverless_cdc(dms, pg_cluster, arn)

    def statistics() -> list[dict[str, Any]]:
        return list(
            dms.describe_replication_table_statistics(ReplicationConfigArn=arn)[
                "ReplicationTableStatistics"
            ]
        )

    with Writer(pg_cluster, source) as writer:
        writer.wait_rounds(3)
        loaded = by_table(statistics())["beta"]["FullLoadEndTime"]
        dms.reload_replication_tables(ReplicationConfigArn=arn, TablesToReload=[RELOADED])
        assert_reload_shown(by_table(statistics())["beta"], loaded)
        reloaded = wait_reloaded(statistics, "beta", loaded)
        writer.wait_rounds(3)
        writer.stop()
    wait_in_sync(pg_cluster, source, target)
    assert reloaded["FullLoadRows"] > SEEDED["beta"], reloaded
    stats = by_table(statistics())
    assert [name for name, stat in stats.items() if stat["FullLoadReloaded"]] == ["beta"]
    assert replication_status(dms, arn) == "running"
    stop_replication(dms, arn)
    dms.delete_replication_config(ReplicationConfigArn=arn)
    assert slots(pg_cluster) == []


def test_deleting_a_cdc_replication_config_drops_its_slot_and_publications(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "delete_config_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "delete_config_target", "")
    dms = boto3_dms(server.url)
    arn = create_config(dms, pg_cluster, "delete-config", source, target)
    dms.start_replication(ReplicationConfigArn=arn, StartReplicationType="start-replication")
    wait_serverless_cdc(dms, pg_cluster, arn)
    assert len(publications(pg_cluster, source)) == 1  # every app table has a primary key
    stop_replication(dms, arn)
    # Stopped, the slot stays: resume-processing continues from it.
    assert len(slots(pg_cluster)) == 1
    dms.delete_replication_config(ReplicationConfigArn=arn)
    # Gone with the config, at once: a slot left behind would hold WAL forever.
    assert slots(pg_cluster) == []
    assert publications(pg_cluster, source) == []
