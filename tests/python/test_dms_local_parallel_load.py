"""Parallel full load of one table (table-settings `parallel-load`) by dms-local, between two
real PostgreSQL databases, driven by boto3: every type gives a target equal to the source with
table statistics that count each row once, and a dms-local killed in the middle of a parallel
load leaves a state that a resumed run completes correctly."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_migration_path,
    create_task,
    describe_task,
    local_client,
)
from dms_local_fixture import FAST_ARGS, serving
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

SOURCE_DB = "dms_local_pl_source"
ROWS = 100_000

# `flat` is an ordinary table; `parted` holds the same kind of rows in range partitions (one of
# them partitioned again) and a default partition.
SOURCE_SQL = f"""
CREATE SCHEMA shop;
CREATE TABLE shop.flat (id bigint PRIMARY KEY, region varchar(8), amount numeric(12,2),
  placed timestamptz, note text);
INSERT INTO shop.flat
SELECT g, 'r' || (g % 7), g * 0.01, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 s',
  CASE WHEN g % 11 = 0 THEN NULL ELSE 'note "' || g || E'"\\n,x' END
FROM generate_series(1, {ROWS}) AS g;
CREATE TABLE shop.parted (id bigint, region varchar(8), amount numeric(12,2), placed timestamptz,
  note text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE shop.parted_a PARTITION OF shop.parted FOR VALUES FROM (1) TO (25001);
CREATE TABLE shop.parted_b PARTITION OF shop.parted FOR VALUES FROM (25001) TO (50001)
  PARTITION BY RANGE (id);
CREATE TABLE shop.parted_b1 PARTITION OF shop.parted_b FOR VALUES FROM (25001) TO (40001);
CREATE TABLE shop.parted_b2 PARTITION OF shop.parted_b FOR VALUES FROM (40001) TO (50001);
CREATE TABLE shop.parted_c PARTITION OF shop.parted FOR VALUES FROM (50001) TO (75001);
CREATE TABLE shop.parted_rest PARTITION OF shop.parted DEFAULT;
INSERT INTO shop.parted SELECT * FROM shop.flat;
ANALYZE;
"""


@pytest.fixture(scope="module")
def source_db(pg_cluster: PgCluster) -> Iterator[str]:
    pg_cluster.create_database(SOURCE_DB)
    pg_cluster.psql(SOURCE_SQL, SOURCE_DB)
    yield SOURCE_DB
    pg_cluster.drop_database(SOURCE_DB)


@pytest.fixture()
def target_db(pg_cluster: PgCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "dms_local_pl_" + request.node.name.split("[")[-1].rstrip("]").replace("-", "_")
    pg_cluster.create_database(name)
    yield name
    pg_cluster.drop_database(name)


@pytest.fixture()
def server(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocalServer]:
    with serving(tmp_path, monkeypatch, list(FAST_ARGS)) as server:
        yield server


def mappings(table: str, parallel_load: dict[str, Any]) -> str:
    locator = {"schema-name": "shop", "table-name": table}
    return json.dumps(
        {
            "rules": [
                {
                    "rule-type": "selection",
                    "rule-id": "1",
                    "rule-name": "1",
                    "object-locator": locator,
                    "rule-action": "include",
                },
                {
                    "rule-type": "table-settings",
                    "rule-id": "2",
                    "rule-name": "2",
                    "object-locator": locator,
                    "parallel-load": parallel_load,
                },
            ]
        }
    )


def wait_until(predicate: Callable[[], bool], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def run_to_end(dms: Any, arn: str, start_type: str) -> dict[str, Any]:
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType=start_type)
    seen: dict[str, Any] = {}

    def ended() -> bool:
        seen.update(describe_task(dms, arn))
        return seen["Status"] in ("stopped", "failed")

    wait_until(ended)
    return seen


def table_statistics(dms: Any, arn: str) -> list[dict[str, Any]]:
    return list(dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"])


def assert_loaded_once(dms: Any, arn: str, task: dict[str, Any], table: str) -> None:
    assert task["Status"] == "stopped", task
    assert task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", task
    assert task["ReplicationTaskStats"]["TablesLoaded"] == 1, task
    assert task["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100, task
    (stats,) = table_statistics(dms, arn)
    assert (stats["SchemaName"], stats["TableName"]) == ("shop", table), stats
    assert stats["TableState"] == "Table completed", stats
    assert stats["FullLoadRows"] == ROWS, stats


def segment_lines(server: DmsLocalServer, arn: str) -> list[str]:
    """The task log's lines that say how a table was split (the instance is `local`)."""
    logs = local_client(server.url, "logs")
    events = logs.get_log_events(
        logGroupName="dms-tasks-local",
        logStreamName="dms-task-" + arn.rsplit(":", 1)[1],
        startFromHead=True,
    )["events"]
    return [e["message"] for e in events if "segment" in e["message"]]


LOGGING_ON = json.dumps({"Logging": {"EnableLogging": True}})

# kind -> (table, rule, how many segments it makes)
RULES = {
    "ranges": (
        "flat",
        {
            "type": "ranges",
            "columns": ["id", "region"],
            "boundaries": [["20000", "r3"], ["55000", "r0"], [70000, "r9"]],
        },
        4,
    ),
    # parted_a, parted_b (with its two sub-partitions), parted_c, parted_rest
    "partitions-auto": ("parted", {"type": "partitions-auto"}, 4),
    "partitions-list": (
        "parted",
        {"type": "partitions-list", "partitions": ["parted_b", "parted_c"]},
        3,  # the two listed, then parted_a and parted_rest together
    ),
}


@pytest.mark.parametrize("kind", sorted(RULES))
def test_parallel_load_copies_the_table_exactly(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str, target_db: str, kind: str
) -> None:
    table, rule, segments = RULES[kind]
    dms = local_client(server.url)
    path = create_migration_path(dms, pg_cluster, source_db, target_db)
    arn = create_task(
        dms,
        f"pl-{kind}",
        **path._asdict(),
        table_mappings=mappings(table, rule),
        migration_type="full-load",
        ReplicationTaskSettings=LOGGING_ON,
    )
    task = run_to_end(dms, arn, "start-replication")
    assert_loaded_once(dms, arn, task, table)
    lines = segment_lines(server, arn)
    assert f"is loaded in {segments} segments (parallel-load {kind})" in lines[0], lines
    assert sum("Start loading segment" in line for line in lines) == segments, lines
    source = pg_cluster.table_checksum(source_db, f"shop.{table}")
    assert source[0] == ROWS
    assert pg_cluster.table_checksum(target_db, f"shop.{table}") == source
    # The target table keeps the source's primary key: every segment went into one table.
    primary_keys = pg_cluster.psql(
        f"SELECT count(*) FROM pg_index WHERE indrelid = 'shop.{table}'::regclass AND indisprimary",
        target_db,
    )
    assert primary_keys.strip() == "1"


def test_a_rule_dms_would_reject_fails_the_task_naming_the_column(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str, target_db: str
) -> None:
    dms = local_client(server.url)
    path = create_migration_path(dms, pg_cluster, source_db, target_db)
    rule = {"type": "ranges", "columns": ["note"], "boundaries": [["m"]]}
    arn = create_task(
        dms,
        "pl-bad",
        **path._asdict(),
        table_mappings=mappings("flat", rule),
        migration_type="full-load",
    )
    task = run_to_end(dms, arn, "start-replication")
    assert task["Status"] == "failed", task
    assert "parallel-load column 'note'" in task["LastFailureMessage"], task
    assert "has type text" in task["LastFailureMessage"], task


def test_sigkill_in_the_middle_of_a_parallel_load_leaves_a_state_a_resume_completes(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str, target_db: str
) -> None:
    dms = local_client(server.url)
    path = create_migration_path(dms, pg_cluster, source_db, target_db)
    rule = {"type": "partitions-auto"}
    arn = create_task(
        dms,
        "pl-crash",
        **path._asdict(),
        table_mappings=mappings("parted", rule),
        migration_type="full-load",
    )
    # One partition stays locked on the source, so its segment waits while the others commit:
    # the load is caught in its middle, deterministically.
    lock = subprocess.Popen(
        [str(pg_cluster.bindir / "psql"), "-X", "-q", "-d", pg_cluster.dsn(source_db)],
        stdin=subprocess.PIPE,
        text=True,
    )
    assert lock.stdin is not None
    try:
        lock.stdin.write("BEGIN; LOCK TABLE shop.parted_c IN ACCESS EXCLUSIVE MODE;\n")
        lock.stdin.flush()
        wait_until(
            lambda: (
                pg_cluster.psql(
                    "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' "
                    "AND relation = 'shop.parted_c'::regclass",
                    source_db,
                ).strip()
                == "1"
            )
        )
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
        others = ROWS - 25_000  # every partition but parted_c

        def others_committed() -> bool:
            # Empty output until the first segment has created the table.
            count = pg_cluster.psql("SELECT count(*) FROM shop.parted", target_db, check=False)
            return count.strip() == str(others)

        wait_until(others_committed)
        assert describe_task(dms, arn)["Status"] == "running"
        assert server.restart(signal.SIGKILL) == -signal.SIGKILL
    finally:
        lock.communicate("COMMIT;\n", timeout=60)

    dms = local_client(server.url)
    task = describe_task(dms, arn)
    assert task["Status"] == "failed", task
    assert "stopped unexpectedly" in task["LastFailureMessage"], task
    (stats,) = table_statistics(dms, arn)
    assert stats["TableState"] != "Table completed", stats

    task = run_to_end(dms, arn, "resume-processing")
    assert_loaded_once(dms, arn, task, "parted")
    assert pg_cluster.table_checksum(target_db, "shop.parted") == pg_cluster.table_checksum(
        source_db, "shop.parted"
    )
