"""dms-local capturing changes into an s3 target (a local directory): CDC files with the Op
column, batching, S3Settings, and no change lost or repeated across stops, crashes and
resume-processing. Driven by boto3 against real PostgreSQL."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from dagster_dms.testing import DmsLocalServer
from dms_local_fixture import (  # noqa: F401  (the fixtures)
    DATA_PLANE_ARGS,
    databases_fixture,
    select_schema,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_cdc import (
    client,
    delete_and_check_slots,
    make_db,
    slots,
    stop,
    wait_replicating,
)
from test_dms_local_full_load import (
    create_instance,
    create_pg_endpoint,
    create_task,
    describe_task,
    wait_for_end,
    wait_until,
)

SCHEMA_SQL = """
CREATE SCHEMA app;
CREATE TABLE app.emp (id integer PRIMARY KEY, name text, active boolean, hired timestamptz);
CREATE TABLE app.log (msg text);
"""

SEED_SQL = """
INSERT INTO app.emp SELECT g, 'emp ' || g, g % 2 = 0,
  '2024-03-05 14:10:20+00'::timestamptz + g * interval '1 hour' FROM generate_series(1, 50) g;
INSERT INTO app.log VALUES ('seeded');
"""

# One statement per line: each is its own source transaction. Ids of inserted rows are never
# reused, so a repeated change shows as a second `I` row for one id.
CHANGES_SQL = """
INSERT INTO app.emp SELECT g, 'new ' || g, true, now() FROM generate_series({lo}, {lo} + 39) g;
UPDATE app.emp SET name = name || ' (upd {k})', active = NOT active WHERE id % 7 = {k};
DELETE FROM app.emp WHERE id % 11 = {k} AND id < {lo};
INSERT INTO app.log VALUES ('batch {k}');
BEGIN; INSERT INTO app.emp VALUES ({lo} + 40, 'in txn', false, NULL);
  UPDATE app.emp SET name = 'txn {k}' WHERE id = {lo} + 40; COMMIT;
"""

MAPPINGS = select_schema("app")

CDC_NAME = re.compile(r"^\d{8}-\d{9}-[0-9A-F]{16}(_\d{4})?\.csv$")
EMP_ROWS_SQL = (
    "SELECT id, name, CASE WHEN active THEN 'true' WHEN NOT active THEN 'false' END, "
    "to_char(hired AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM app.emp ORDER BY id"
)


@pytest.fixture(name="server_args")
def server_args_here(tmp_path: Path) -> list[str]:
    return [*DATA_PLANE_ARGS, "--s3-root", str(tmp_path / "s3")]


def setup_s3_task(
    server: DmsLocalServer,
    cluster: PgCluster,
    source: str,
    migration: str,
    s3_settings: dict[str, Any],
    task_settings: dict[str, Any] | None = None,
) -> tuple[Any, str]:
    dms = client(server, "dms")
    src = create_pg_endpoint(dms, cluster, "src", "source", source)
    dst = dms.create_endpoint(
        EndpointIdentifier="lake",
        EndpointType="target",
        EngineName="s3",
        S3Settings={"BucketName": "lake", "BucketFolder": "dms", **s3_settings},
    )["Endpoint"]["EndpointArn"]
    arn = create_task(
        dms,
        "to-lake",
        src,
        dst,
        create_instance(dms),
        MAPPINGS,
        migration,
        ReplicationTaskSettings=json.dumps(task_settings or {}),
    )
    return dms, str(arn)


def table_folder(tmp_path: Path, table: str) -> Path:
    return tmp_path / "s3" / "lake" / "dms" / "app" / table


def parse(path: Path, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text()), delimiter=delimiter))


def cdc_files(folder: Path) -> list[Path]:
    """The table's CDC files in name order, which is change order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if CDC_NAME.match(p.name))


def cdc_rows(folder: Path, delimiter: str = ",") -> list[list[str]]:
    return [row for f in cdc_files(folder) for row in parse(f, delimiter)]


def load_rows(folder: Path) -> list[list[str]]:
    return [row for f in sorted(folder.glob("LOAD*.csv")) for row in parse(f)]


def replay(loaded: list[list[str]], changes: list[list[str]]) -> dict[str, list[str]]:
    """The table as its LOAD files plus its CDC files in order describe it, by id."""
    rows = {row[0]: row for row in loaded}
    for op, *row in changes:
        if op == "D":
            rows.pop(row[0], None)
        else:
            rows[row[0]] = row
    return rows


def source_emp(cluster: PgCluster, source: str) -> dict[str, list[str]]:
    out = cluster.psql(EMP_ROWS_SQL, source)
    return {line.split("|")[0]: line.split("|") for line in out.splitlines() if line}


def statistics(dms: Any, arn: str) -> dict[str, dict[str, Any]]:
    answer = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    return {t["TableName"]: t for t in answer}


def test_cdc_files_hold_op_rows_in_change_order(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str], tmp_path: Path
) -> None:
    source = make_db(pg_cluster, databases, "s3_order_source", SCHEMA_SQL + SEED_SQL)
    dms, arn = setup_s3_task(
        server, pg_cluster, source, "full-load-and-cdc", {"CdcMaxBatchInterval": 1}
    )
    started = datetime.datetime.now(datetime.timezone.utc)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    emp, log = table_folder(tmp_path, "emp"), table_folder(tmp_path, "log")
    # The full load's files carry no Op column by default.
    loaded = load_rows(emp)
    assert len(loaded) == 50 and loaded[0] == ["1", "emp 1", "false", "2024-03-05 15:10:20.000000"]

    pg_cluster.psql(
        "INSERT INTO app.emp VALUES (100, 'Kim, A', true, '2024-03-05 15:00:00+02');\n"
        "UPDATE app.emp SET name = 'Smith' WHERE id = 1;\n"
        "DELETE FROM app.emp WHERE id = 2;\n"
        "INSERT INTO app.log VALUES ('hello');\n",
        source,
    )
    wait_until(lambda: len(cdc_rows(emp)) == 3 and len(cdc_rows(log)) == 1, timeout=30)
    # Updates carry the new image; deletes the old key (the default replica identity).
    assert cdc_rows(emp) == [
        ["I", "100", "Kim, A", "true", "2024-03-05 13:00:00.000000"],
        ["U", "1", "Smith", "false", "2024-03-05 15:10:20.000000"],
        ["D", "2", "", "", ""],
    ]
    assert cdc_rows(log) == [["I", "hello"]]
    assert all(CDC_NAME.match(p.name) or p.name.startswith("LOAD") for p in emp.iterdir())
    assert replay(loaded, cdc_rows(emp)) == source_emp(pg_cluster, source)

    def counted() -> bool:
        stats = statistics(dms, arn)
        return bool(stats["emp"]["AppliedDeletes"] == 1 and stats["log"]["AppliedInserts"] == 1)

    wait_until(counted, timeout=10)
    stats = statistics(dms, arn)["emp"]
    for kind in ("Inserts", "Updates", "Deletes"):
        assert stats[kind] == stats[f"Applied{kind}"] == 1, stats
    assert stats["FullLoadRows"] == 50, stats

    # The CDC metrics are published as for a postgres target.
    cloudwatch = client(server, "cloudwatch")
    dimensions = [
        {"Name": "ReplicationInstanceIdentifier", "Value": "local"},
        {"Name": "ReplicationTaskIdentifier", "Value": arn.rsplit(":", 1)[1]},
    ]

    def maximum(metric: str) -> list[float]:
        answer = cloudwatch.get_metric_statistics(
            Namespace="AWS/DMS",
            MetricName=metric,
            Dimensions=dimensions,
            StartTime=started - datetime.timedelta(minutes=1),
            EndTime=started + datetime.timedelta(minutes=5),
            Period=60,
            Statistics=["Maximum"],
        )
        return [float(p["Maximum"]) for p in answer["Datapoints"]]

    wait_until(lambda: bool(maximum("CDCThroughputRowsTarget")), timeout=10, interval=0.2)
    wait_until(lambda: max(maximum("CDCThroughputRowsSource")) > 0, timeout=10, interval=0.2)
    assert all(v >= 0 for v in maximum("CDCLatencyTarget"))
    stop(dms, arn)
    delete_and_check_slots(dms, arn, pg_cluster)


def test_no_change_is_lost_or_repeated_across_stop_crash_and_resume(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str], tmp_path: Path
) -> None:
    source = make_db(pg_cluster, databases, "s3_resume_source", SCHEMA_SQL + SEED_SQL)
    dms, arn = setup_s3_task(
        server, pg_cluster, source, "full-load-and-cdc", {"CdcMaxBatchInterval": 1}
    )
    emp = table_folder(tmp_path, "emp")

    def files_match_source() -> bool:
        return replay(load_rows(emp), cdc_rows(emp)) == source_emp(pg_cluster, source)

    def no_insert_repeated() -> None:
        inserted = [row[1] for row in cdc_rows(emp) if row[0] == "I"]
        assert len(inserted) == len(set(inserted)), "an insert was written twice"

    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    pg_cluster.psql(CHANGES_SQL.format(lo=1000, k=1), source)
    # A stop writes the batch it holds: everything committed is in a file once stopped.
    stopped = stop(dms, arn)
    pg_cluster.psql(CHANGES_SQL.format(lo=2000, k=2), source)
    assert not files_match_source()
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_until(files_match_source, timeout=30)
    # The task learns the confirmed position with the statistics, at the report interval.
    wait_until(
        lambda: describe_task(dms, arn)["RecoveryCheckpoint"] != stopped["RecoveryCheckpoint"],
        timeout=10,
    )

    # A crash: whatever the batch held when the process died is sent again by the slot and
    # written once, whether or not its file had been renamed into place.
    pg_cluster.psql(CHANGES_SQL.format(lo=3000, k=3), source)
    dms.close()
    server.restart(signal.SIGKILL)
    dms = client(server, "dms")
    crashed = describe_task(dms, arn)
    assert crashed["Status"] == "failed", crashed
    pg_cluster.psql(CHANGES_SQL.format(lo=4000, k=4), source)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_until(files_match_source, timeout=30)
    no_insert_repeated()
    assert not list(emp.glob(".*.part")), "a crashed run's unfinished file is cleaned up"
    assert [row[0] for row in cdc_rows(table_folder(tmp_path, "log"))] == ["I"] * 4
    stop(dms, arn)
    dms.delete_replication_task(ReplicationTaskArn=arn)
    dms.close()
    assert slots(pg_cluster) == []


def test_s3_settings_shape_the_files(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str], tmp_path: Path
) -> None:
    source = make_db(pg_cluster, databases, "s3_settings_source", SCHEMA_SQL + SEED_SQL)
    s3 = {
        "IncludeOpForFullLoad": True,
        "CdcInsertsOnly": True,
        "TimestampColumnName": "ts",
        "AddColumnName": True,
        "CsvDelimiter": "|",
        "CdcMaxBatchInterval": 3600,
        "CdcMinFileSize": 1,
    }
    dms, arn = setup_s3_task(server, pg_cluster, source, "full-load-and-cdc", s3)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    emp = table_folder(tmp_path, "emp")
    loaded = [row for f in sorted(emp.glob("LOAD*.csv")) for row in parse(f, "|")]
    assert loaded[0] == ["Op", "id", "name", "active", "hired", "ts"]
    assert all(
        row[0] == "I" and re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$", row[5])
        for row in loaded[1:]
    )

    # CdcMinFileSize (1 KB) closes the batch long before CdcMaxBatchInterval.
    before = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    pg_cluster.psql(
        "UPDATE app.emp SET name = 'changed';\nDELETE FROM app.emp WHERE id = 3;\n"
        "INSERT INTO app.emp SELECT g, repeat('x', 40), true, NULL "
        "FROM generate_series(100, 129) g;\n",
        source,
    )
    wait_until(lambda: len(cdc_files(emp)) >= 1, timeout=30)
    rows = cdc_rows(emp, "|")
    assert rows[0] == ["Op", "id", "name", "active", "hired", "ts"]
    data = [row for row in rows if row[0] != "Op"]
    assert [row[1] for row in data] == [str(i) for i in range(100, 130)]
    assert all(row[0] == "I" and row[4] == "" for row in data)
    # The source commit time, in UTC: after the statement began, the same for the whole
    # transaction.
    committed = datetime.datetime.strptime(data[0][5], "%Y-%m-%d %H:%M:%S.%f")
    assert committed >= before - datetime.timedelta(seconds=1), (committed, before)
    assert {row[5] for row in data} == {data[0][5]}
    stop(dms, arn)
    dms.delete_replication_task(ReplicationTaskArn=arn)


def test_new_and_dropped_columns_show_in_later_cdc_files(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str], tmp_path: Path
) -> None:
    source = make_db(pg_cluster, databases, "s3_ddl_source", SCHEMA_SQL + SEED_SQL)
    dms, arn = setup_s3_task(server, pg_cluster, source, "cdc", {"CdcMaxBatchInterval": 1})
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    emp = table_folder(tmp_path, "emp")
    pg_cluster.psql(
        "INSERT INTO app.emp VALUES (100, 'before', true, NULL);\n"
        "ALTER TABLE app.emp ADD COLUMN city text;\n"
        "INSERT INTO app.emp VALUES (101, 'added', false, NULL, 'Oslo');\n"
        "ALTER TABLE app.emp DROP COLUMN hired;\n"
        "INSERT INTO app.emp VALUES (102, 'dropped', true, 'Rome');\n",
        source,
    )
    wait_until(lambda: len(cdc_rows(emp)) == 3, timeout=30)
    assert cdc_rows(emp) == [
        ["I", "100", "before", "true", ""],
        ["I", "101", "added", "false", "", "Oslo"],
        ["I", "102", "dropped", "true", "Rome"],
    ]

    def counted(ddls: int) -> bool:
        stats = statistics(dms, arn)["emp"]
        return bool(stats["Ddls"] == stats["AppliedDdls"] == ddls)

    wait_until(lambda: counted(2), timeout=10)

    # A truncate deletes the table's files; what follows starts a new one.
    pg_cluster.psql(
        "TRUNCATE app.emp;\nINSERT INTO app.emp VALUES (200, 'fresh', false, 'Lima');\n", source
    )
    wait_until(lambda: cdc_rows(emp) == [["I", "200", "fresh", "false", "Lima"]], timeout=30)
    assert len(list(emp.iterdir())) == 1
    wait_until(lambda: counted(3), timeout=10)
    stop(dms, arn)
    dms.delete_replication_task(ReplicationTaskArn=arn)


def test_unsupported_s3_settings_fail_clearly(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "s3_bad_source", SCHEMA_SQL)
    dms, arn = setup_s3_task(
        server, pg_cluster, source, "cdc", {"CdcInsertsOnly": True, "CdcInsertsAndUpdates": True}
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    task = wait_for_end(dms, arn, timeout=30)
    assert task["Status"] == "failed", task
    assert "CdcInsertsOnly and CdcInsertsAndUpdates" in task["LastFailureMessage"], task
