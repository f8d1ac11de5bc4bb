"""How dms-local applies changes to a PostgreSQL target: set-based runs of inserts, updates and
deletes, in transactional mode (DMS's default) and with BatchApplyEnabled, must leave the target
equal to the source whatever the mix of changes: key updates, unchanged TOASTed values, several
changes to one row in one transaction, values that need quoting."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from dagster_dms.testing import DmsLocalServer
from dms_local_fixture import (  # noqa: F401  (the fixtures)
    databases_fixture,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_cdc import make_db, setup_task, stop, wait_replicating
from test_dms_local_full_load import describe_task, wait_for_end, wait_until

SCHEMA_SQL = """
CREATE SCHEMA app;
CREATE TABLE app.items (id integer PRIMARY KEY, name text, qty numeric(12, 2), tags int[],
  doc jsonb, raw bytea, seen timestamptz, code varchar(8), big text);
ALTER TABLE app.items ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE app.pairs (a integer, b text, val text, PRIMARY KEY (a, b));
CREATE TABLE app.notes (k text, v text);
"""

# Seeded on both sides (a cdc task replicates into existing tables). `big` is stored out of line
# (EXTERNAL, 10 kB): an update that leaves it alone sends it as unchanged TOAST.
SEED_SQL = """
INSERT INTO app.items SELECT g, 'item ' || g, g / 3.0, ARRAY[g, NULL], jsonb_build_object('g', g),
  decode(md5(g::text), 'hex'), '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 s',
  'c' || g, repeat(md5(g::text), 320)
  FROM generate_series(1, 2000) g;
INSERT INTO app.pairs SELECT g % 40, 'b' || g, 'v' || g FROM generate_series(1, 800) g;
INSERT INTO app.notes SELECT 'n' || g, NULL FROM generate_series(1, 100) g;
"""

# One source transaction per line (or per BEGIN ... COMMIT); {k} varies the rows each round
# touches. Every kind of change, in runs and mixed within transactions.
CHANGES_SQL = """
INSERT INTO app.items (id, name, qty, tags, doc, raw, code, big)
  SELECT g, E'q"uo\\\\te, {{b}} NULL \\t\\n\\r', g, ARRAY[NULL, g], '{{"a": [1, "x"]}}', '\\x00ff',
  '', repeat('z', 9000) FROM generate_series(100000 + {k} * 1000, 100000 + {k} * 1000 + 300) g;
UPDATE app.items SET qty = qty + 1, name = name || ' (upd)' WHERE id % 7 = {k};
UPDATE app.items SET big = big || 'tail' WHERE id % 13 = {k};
UPDATE app.items SET tags = NULL, doc = NULL, raw = NULL, seen = NULL WHERE id % 17 = {k};
DELETE FROM app.items WHERE id % 11 = {k};
UPDATE app.items SET id = id + 50000 WHERE id % 19 = {k} AND id < 50000;
BEGIN; UPDATE app.items SET qty = 1 WHERE id = 1000 + {k}; UPDATE app.items SET qty = 2
  WHERE id = 1000 + {k}; UPDATE app.items SET qty = 3, name = 'thrice' WHERE id = 1000 + {k};
  COMMIT;
BEGIN; UPDATE app.items SET id = -1 WHERE id = 1100 + {k}; UPDATE app.items SET id = 1100 + {k}
  WHERE id = 1101 + {k}; UPDATE app.items SET id = 1101 + {k} WHERE id = -1; COMMIT;
BEGIN; DELETE FROM app.items WHERE id = 1200 + {k}; INSERT INTO app.items (id, name)
  VALUES (1200 + {k}, 'reborn'); UPDATE app.items SET name = 'reborn twice' WHERE id = 1200 + {k};
  COMMIT;
BEGIN; INSERT INTO app.items (id, name) VALUES (-100 - {k}, 'short-lived');
  DELETE FROM app.items WHERE id = -100 - {k}; COMMIT;
UPDATE app.pairs SET b = b || 'x' WHERE a = {k};
DELETE FROM app.pairs WHERE a = {k} + 1;
INSERT INTO app.pairs SELECT 1000 + {k}, 'new' || g, NULL FROM generate_series(1, 50) g;
INSERT INTO app.notes SELECT 'm' || g || '-{k}', '' FROM generate_series(1, 20) g;
UPDATE app.notes SET v = 'no key: dropped, as DMS drops it' WHERE k = 'n1';
"""

TABLES = ["app.items", "app.pairs", "app.notes"]

BATCH_SETTINGS: dict[str, Any] = {
    "TargetMetadata": {"BatchApplyEnabled": True},
    "ChangeProcessingTuning": {"BatchApplyTimeoutMin": 1, "BatchApplyTimeoutMax": 5},
}
MODES = {"transactional": None, "batch": BATCH_SETTINGS}


def replicating_task(
    server: DmsLocalServer,
    cluster: PgCluster,
    databases: list[str],
    name: str,
    seed_sql: str = "",
    settings: dict[str, Any] | None = None,
) -> tuple[Any, str, str, str]:
    """A running cdc task between two fresh databases of SCHEMA_SQL (both seeded with
    `seed_sql`): the client, the task ARN, the source and the target."""
    source = make_db(cluster, databases, f"{name}_source", SCHEMA_SQL + seed_sql)
    target = make_db(cluster, databases, f"{name}_target", SCHEMA_SQL + seed_sql)
    dms, arn = setup_task(server, cluster, source, target, "cdc", settings)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    return dms, arn, source, target


def scalar(cluster: PgCluster, sql: str, db: str) -> str:
    return cluster.psql(sql, db).strip()


def keyed_tables_equal(cluster: PgCluster, source: str, target: str) -> bool:
    return all(
        cluster.table_checksum(source, t) == cluster.table_checksum(target, t) for t in TABLES[:2]
    )


def notes_equal_but_for_the_dropped_update(cluster: PgCluster, source: str, target: str) -> bool:
    """app.notes has no primary key: its inserts replicate, its updates are dropped."""
    query = "SELECT count(*) FILTER (WHERE v = '') || '/' || count(*) FROM app.notes"
    return scalar(cluster, query, source) == scalar(cluster, query, target)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_mixed_changes_leave_the_target_equal_to_the_source(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str], mode: str
) -> None:
    dms, arn, source, target = replicating_task(
        server, pg_cluster, databases, f"apply_{mode}", SEED_SQL, MODES[mode]
    )
    for k in range(3):
        pg_cluster.psql(CHANGES_SQL.format(k=k), source)
    # Changes made while the task is stopped wait as a backlog at the resume: inserts then stream
    # in with COPY.
    stop(dms, arn)
    for k in range(3, 6):
        pg_cluster.psql(CHANGES_SQL.format(k=k), source)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_until(lambda: keyed_tables_equal(pg_cluster, source, target), timeout=120, interval=0.3)
    wait_until(
        lambda: notes_equal_but_for_the_dropped_update(pg_cluster, source, target),
        timeout=60,
        interval=0.3,
    )
    # The unchanged TOASTed values stayed, the rewritten ones moved.
    big = "SELECT count(*) FROM app.items WHERE big LIKE '%tail'"
    assert scalar(pg_cluster, big, target) == scalar(pg_cluster, big, source) != "0"
    # Nothing failed on the way, and the task's checkpoint is the position the target records.
    assert describe_task(dms, arn)["Status"] == "running"
    recorded = "SELECT checkpoint FROM awsdms_txn_state"
    wait_until(
        lambda: (
            describe_task(dms, arn).get("RecoveryCheckpoint")
            == scalar(pg_cluster, recorded, target)
        ),
        timeout=60,
        interval=0.3,
    )
    stop(dms, arn)


def test_transactional_mode_shows_a_large_transaction_all_at_once(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    """30,000 inserts of one source transaction go out in several runs; the target shows none of
    them or all of them, never a part."""
    dms, arn, source, target = replicating_task(server, pg_cluster, databases, "apply_atomic")
    seen: set[str] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.add(scalar(pg_cluster, "SELECT count(*) FROM app.pairs", target))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        pg_cluster.psql(
            "INSERT INTO app.pairs SELECT g, 'b', repeat('v', 50) FROM generate_series(1, 30000) g",
            source,
        )
        wait_until(
            lambda: scalar(pg_cluster, "SELECT count(*) FROM app.pairs", target) == "30000",
            timeout=120,
            interval=0.2,
        )
    finally:
        done.set()
        watcher.join()
    assert seen <= {"0", "30000"}, seen
    stop(dms, arn)


def test_a_row_the_target_refuses_in_a_backlog_fails_the_task_with_its_message(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    """Inserts of a backlog stream in with COPY: a refused row still names the constraint."""
    dms, arn, source, target = replicating_task(server, pg_cluster, databases, "apply_refused")
    stop(dms, arn)
    pg_cluster.psql("INSERT INTO app.pairs VALUES (450, 'b', 'already here')", target)
    # Ten source transactions of 100 rows; the fifth holds the refused row.
    batches = (
        f"INSERT INTO app.pairs SELECT g, 'b', 'v' FROM generate_series({lo}, {lo + 99}) g;\n"
        for lo in range(1, 1001, 100)
    )
    pg_cluster.psql("".join(batches), source)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    task = wait_for_end(dms, arn, timeout=60)
    assert task["Status"] == "failed", task
    assert "23505" in task["LastFailureMessage"], task
    assert "pairs_pkey" in task["LastFailureMessage"], task
    # The target holds whole source transactions in order up to before the refused one (the
    # group it shared a target transaction with is rolled back with it), nothing after.
    prefix = "SELECT count(*) = coalesce(max(a), 0) AND coalesce(max(a), 0) < 450 FROM app.pairs"
    assert scalar(pg_cluster, prefix + " WHERE val = 'v'", target) == "t", task


def test_batch_settings_out_of_range_fail_the_run_naming_the_member(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "apply_settings_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "apply_settings_target", SCHEMA_SQL)
    settings = {
        "TargetMetadata": {"BatchApplyEnabled": True},
        "ChangeProcessingTuning": {"BatchApplyTimeoutMin": 60, "BatchApplyTimeoutMax": 30},
    }
    dms, arn = setup_task(server, pg_cluster, source, target, "cdc", settings)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    task = wait_for_end(dms, arn, timeout=60)
    assert task["Status"] == "failed", task
    assert (
        "BatchApplyTimeoutMin must not be greater than ChangeProcessingTuning.BatchApplyTimeoutMax"
        in task["LastFailureMessage"]
    ), task
