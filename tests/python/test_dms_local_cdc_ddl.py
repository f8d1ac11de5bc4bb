"""Source column DDL (ADD/DROP COLUMN) reaching a PostgreSQL target during CDC, in order with
the data, per ChangeProcessingDdlHandlingPolicy; what dms-local does not replicate is counted
and logged. Driven by boto3 against dms-local and real PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import create_migration_path
from dms_local_fixture import (  # noqa: F401  (the fixtures)
    databases_fixture,
    select_schema,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_cdc import (
    client,
    delete_and_check_slots,
    make_db,
    stop,
    wait_replicating,
)
from test_dms_local_full_load import (
    PASSWORD,
    create_task,
    wait_until,
)

SCHEMA_SQL = """
CREATE SCHEMA app;
CREATE TABLE app.items (id integer PRIMARY KEY, name text, qty integer);
INSERT INTO app.items SELECT g, 'item ' || g, g FROM generate_series(1, 100) g;
"""

MAPPINGS = select_schema("app")


def setup_task(
    server: DmsLocalServer, cluster: PgCluster, source: str, target: str, policy: dict[str, bool]
) -> tuple[Any, str]:
    dms = client(server, "dms")
    settings = {
        "Logging": {"EnableLogging": True},
        "ChangeProcessingDdlHandlingPolicy": policy,
    }
    arn = create_task(
        dms,
        "ddl",
        *create_migration_path(dms, cluster, source, target, password=PASSWORD),
        MAPPINGS,
        "full-load-and-cdc",
        ReplicationTaskSettings=json.dumps(settings),
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    return dms, str(arn)


def columns(cluster: PgCluster, db: str) -> list[str]:
    out = cluster.psql(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'app.items'::regclass "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        db,
    )
    return out.split()


def in_sync(cluster: PgCluster, source: str, target: str) -> bool:
    return cluster.table_checksum(source, "app.items") == cluster.table_checksum(
        target, "app.items"
    )


def items_statistics(dms: Any, arn: str) -> dict[str, Any]:
    answer = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    return dict(next(t for t in answer if t["TableName"] == "items"))


def wait_for_ddls(dms: Any, arn: str, ddls: int, applied: int) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def counted() -> bool:
        seen.update(items_statistics(dms, arn))
        return bool(seen["Ddls"] == ddls and seen["AppliedDdls"] == applied)

    wait_until(counted, timeout=10)
    return seen


def task_log(server: DmsLocalServer, arn: str) -> list[str]:
    logs = client(server, "logs")
    events = logs.get_log_events(
        logGroupName="dms-tasks-local",
        logStreamName=f"dms-task-{arn.rsplit(':', 1)[1]}",
        startFromHead=True,
    )["events"]
    return [str(e["message"]) for e in events]


def test_add_and_drop_column_reach_the_target_in_order(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "ddl_order_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "ddl_order_target", "")
    dms, arn = setup_task(server, pg_cluster, source, target, {})
    pg_cluster.psql(
        "INSERT INTO app.items VALUES (1001, 'before', 1);\n"
        # Rows on both sides of the DDL in one transaction.
        "BEGIN; INSERT INTO app.items VALUES (1002, 'same txn', 2);"
        " ALTER TABLE app.items ADD COLUMN city varchar(20);"
        " INSERT INTO app.items VALUES (1003, 'after', 3, 'Oslo'); COMMIT;\n"
        "UPDATE app.items SET city = 'Rome' WHERE id <= 10;\n"
        "ALTER TABLE app.items DROP COLUMN qty;\n"
        "INSERT INTO app.items VALUES (1004, 'no qty', 'Paris');\n",
        source,
    )
    wait_until(lambda: in_sync(pg_cluster, source, target), timeout=30)
    assert columns(pg_cluster, target) == ["id", "name", "city"]
    assert "character varying(20)" in pg_cluster.psql(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'app.items'::regclass AND attname = 'city'",
        target,
    )
    wait_for_ddls(dms, arn, 2, 2)

    # A DDL while the task is stopped reaches the target after resume-processing.
    stop(dms, arn)
    pg_cluster.psql(
        "ALTER TABLE app.items ADD COLUMN note text;\n"
        "UPDATE app.items SET note = 'n' || id WHERE id > 1000;\n",
        source,
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_until(lambda: in_sync(pg_cluster, source, target), timeout=30)
    assert columns(pg_cluster, target) == ["id", "name", "city", "note"]
    wait_for_ddls(dms, arn, 3, 3)
    lines = task_log(server, arn)
    assert any(
        "[TARGET_APPLY    ]I:" in m and 'ADD COLUMN "city" character varying(20)' in m
        for m in lines
    ), lines
    assert any('DROP COLUMN "qty"' in m for m in lines), lines
    stop(dms, arn)
    delete_and_check_slots(dms, arn, pg_cluster)


def test_policy_off_counts_the_ddl_without_applying_it(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "ddl_off_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "ddl_off_target", "")
    policy = {"HandleSourceTableAltered": False, "HandleSourceTableTruncated": False}
    dms, arn = setup_task(server, pg_cluster, source, target, policy)
    pg_cluster.psql(
        "ALTER TABLE app.items ADD COLUMN city text;\n"
        "INSERT INTO app.items VALUES (1001, 'new', 1, 'Oslo');\n",
        source,
    )
    wait_until(
        lambda: pg_cluster.psql("SELECT name FROM app.items WHERE id = 1001", target) == "new\n",
        timeout=30,
    )
    assert columns(pg_cluster, target) == ["id", "name", "qty"]
    stats = wait_for_ddls(dms, arn, 1, 0)
    assert stats["AppliedInserts"] == 1, stats
    lines = task_log(server, arn)
    assert any(
        "[TARGET_APPLY    ]W:" in m
        and "'app'.'items'" in m
        and "HandleSourceTableAltered is false" in m
        for m in lines
    ), lines

    # A truncate is counted and logged, and the target keeps its rows.
    pg_cluster.psql(
        "TRUNCATE app.items;\nINSERT INTO app.items VALUES (1002, 'after', 2, NULL);\n", source
    )
    wait_until(
        lambda: pg_cluster.psql("SELECT count(*) FROM app.items WHERE id = 1002", target) == "1\n",
        timeout=30,
    )
    assert pg_cluster.psql("SELECT count(*) FROM app.items", target) == "102\n"
    wait_for_ddls(dms, arn, 2, 0)
    assert any("HandleSourceTableTruncated is false" in m for m in task_log(server, arn))
    stop(dms, arn)
    dms.delete_replication_task(ReplicationTaskArn=arn)


def test_type_changes_apply_and_renames_lose_nothing(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "ddl_unsup_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "ddl_unsup_target", "")
    dms, arn = setup_task(server, pg_cluster, source, target, {})
    # A first change makes the stream describe the table, so its column types are known.
    pg_cluster.psql("UPDATE app.items SET qty = 0 WHERE id = 1;", source)
    wait_until(
        lambda: pg_cluster.psql("SELECT qty FROM app.items WHERE id = 1", target) == "0\n",
        timeout=30,
    )
    pg_cluster.psql(
        "ALTER TABLE app.items ALTER COLUMN qty TYPE bigint;\n"
        "ALTER TABLE app.items RENAME COLUMN name TO title;\n"
        "INSERT INTO app.items VALUES (1001, 'renamed', 5000000000);\n",
        source,
    )
    # The old column stays on the target (a rename may be a drop plus an add); the row arrives
    # with its value in the new column.
    wait_until(
        lambda: (
            pg_cluster.psql("SELECT title FROM app.items WHERE id = 1001", target, check=False)
            == "renamed\n"
        ),
        timeout=30,
    )
    assert columns(pg_cluster, target) == ["id", "name", "qty", "title"]
    assert pg_cluster.psql("SELECT qty FROM app.items WHERE id = 1001", target) == "5000000000\n"
    # The type change and the added name are applied; the dropped name is counted, not applied.
    wait_for_ddls(dms, arn, 3, 2)
    lines = task_log(server, arn)
    assert any('ALTER COLUMN "qty" TYPE bigint' in m for m in lines), lines
    assert any("cannot tell a RENAME COLUMN" in m and '"title"' in m for m in lines), lines
    stop(dms, arn)
    dms.delete_replication_task(ReplicationTaskArn=arn)
