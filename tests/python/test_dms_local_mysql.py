"""dms-local with MySQL-family sources: endpoints, TestConnection and DMS's change-capture checks
against a real MariaDB server, and full loads from MariaDB into PostgreSQL with DMS's type mapping,
driven by boto3."""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_postgres_endpoint,
    create_task,
    describe_task,
    selection_rules,
    wait_until,
)
from dagster_dms.testing.mariadb import MariaDbCluster
from dms_local_fixture import (  # noqa: F401  (fixtures)
    DATA_PLANE_ARGS,
    boto3_dms,
    databases_fixture,
    server_args_fixture,
    server_fixture,
    serving,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

DMS_USER = "dms_user"
DMS_PASSWORD = "maria-secret-pw-7"  # checked by the server; must never appear in any answer


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDbCluster]:
    with MariaDbCluster() as cluster:
        cluster.create_user(DMS_USER, DMS_PASSWORD)
        yield cluster


def mysql_endpoint(
    dms: Any,
    name: str,
    cluster: MariaDbCluster,
    database: str,
    *,
    engine: str = "mariadb",
    user: str = DMS_USER,
    password: str = DMS_PASSWORD,
    **extra: Any,
) -> str:
    return str(
        dms.create_endpoint(
            EndpointIdentifier=name,
            EndpointType="source",
            EngineName=engine,
            ServerName=cluster.host,
            Port=cluster.port,
            DatabaseName=database,
            Username=user,
            Password=password,
            **extra,
        )["Endpoint"]["EndpointArn"]
    )


def connection(dms: Any, instance: str, endpoint: str) -> dict[str, Any]:
    dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)

    def found() -> dict[str, Any]:
        return dict(
            dms.describe_connections(
                Filters=[
                    {"Name": "endpoint-arn", "Values": [endpoint]},
                    {"Name": "replication-instance-arn", "Values": [instance]},
                ]
            )["Connections"][0]
        )

    wait_until(lambda: found()["Status"] != "testing", "connection test finished", timeout=120)
    return found()


# --- endpoints and TestConnection -----------------------------------------------------------


def test_mysql_family_endpoints_carry_mysql_settings_and_hide_the_password(
    server: DmsLocalServer, mariadb: MariaDbCluster
) -> None:
    dms = boto3_dms(server.url)
    for engine, display in (
        ("mysql", "MySQL"),
        ("mariadb", "MariaDB"),
        ("aurora", "Amazon Aurora MySQL"),
    ):
        arn = mysql_endpoint(
            dms,
            f"src-{engine}",
            mariadb,
            "shop",
            engine=engine,
            MySQLSettings={"ServerTimezone": "UTC", "EventsPollInterval": 5},
        )
        endpoint = dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [arn]}])[
            "Endpoints"
        ][0]
        assert endpoint["EngineName"] == engine
        assert endpoint["EngineDisplayName"] == display
        settings = endpoint["MySQLSettings"]
        assert settings["ServerName"] == mariadb.host and settings["Port"] == mariadb.port
        assert settings["DatabaseName"] == "shop" and settings["Username"] == DMS_USER
        assert settings["ServerTimezone"] == "UTC" and settings["EventsPollInterval"] == 5
        assert DMS_PASSWORD not in str(endpoint)
    types = dms.describe_endpoint_types(Filters=[{"Name": "engine-name", "Values": ["mariadb"]}])[
        "SupportedEndpointTypes"
    ]
    assert [(t["EndpointType"], t["SupportsCDC"]) for t in types] == [("source", True)]
    names = {
        s["Name"] for s in dms.describe_endpoint_settings(EngineName="mysql")["EndpointSettings"]
    }
    assert {"serverTimezone", "eventsPollInterval", "afterConnectScript"} <= names


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"EventsPollInterval": 0}, "MySQLSettings.EventsPollInterval"),
        ({"ParallelLoadThreads": 99}, "MySQLSettings.ParallelLoadThreads"),
        ({"ServerTimezone": ""}, "MySQLSettings.ServerTimezone"),
    ],
)
def test_bad_mysql_settings_are_refused_naming_the_field(
    server: DmsLocalServer, settings: dict[str, Any], named: str
) -> None:
    dms = boto3_dms(server.url)
    with pytest.raises(ClientError) as caught:
        dms.create_endpoint(
            EndpointIdentifier="bad",
            EndpointType="source",
            EngineName="mysql",
            ServerName="127.0.0.1",
            Port=3306,
            Username="u",
            Password="p",
            MySQLSettings=settings,
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert named in str(caught.value)


def test_test_connection_really_connects_and_reports_mysql_errors(
    server: DmsLocalServer, mariadb: MariaDbCluster
) -> None:
    dms = boto3_dms(server.url)
    instance = create_available_instance(dms, "local")
    good = mysql_endpoint(
        dms, "good", mariadb, "", MySQLSettings={"AfterConnectScript": "SET @dms_local = 1"}
    )
    assert connection(dms, instance, good)["Status"] == "successful"

    wrong_password = mysql_endpoint(dms, "wrong-pw", mariadb, "", password="not-the-password")
    failed = connection(dms, instance, wrong_password)
    assert failed["Status"] == "failed"
    message = failed["LastFailureMessage"]
    assert "NativeError: 1045" in message and "Access denied" in message, message
    assert "not-the-password" not in message

    bad_script = mysql_endpoint(
        dms, "bad-script", mariadb, "", MySQLSettings={"AfterConnectScript": "SELEC nonsense"}
    )
    failed = connection(dms, instance, bad_script)
    assert failed["Status"] == "failed"
    assert "NativeError: 1064" in failed["LastFailureMessage"], failed

    with MariaDbCluster() as stopped:
        port = stopped.port
    nobody = str(
        dms.create_endpoint(
            EndpointIdentifier="nobody",
            EndpointType="source",
            EngineName="mysql",
            ServerName="127.0.0.1",
            Port=port,
            Username="x",
            Password="y",
        )["Endpoint"]["EndpointArn"]
    )
    failed = connection(dms, instance, nobody)
    assert failed["Status"] == "failed"
    assert "Network error" in failed["LastFailureMessage"], failed
    assert "NativeError: 2002" in failed["LastFailureMessage"] or "2003" in str(failed)


# --- DMS's checks before change capture ----------------------------------------------------


def run_task(
    dms: Any,
    source: str,
    pg_cluster: PgCluster,
    databases: list[str],
    name: str,
    migration_type: str = "full-load",
) -> tuple[str, str]:
    """Starts a task from `source` (every table of schema `shop`) into a new PostgreSQL database
    and waits until it stopped or failed; returns its ARN and the target database."""
    target_db = f"mysql_{name.replace('-', '_')}"
    pg_cluster.create_database(target_db)
    databases.append(target_db)
    target = create_postgres_endpoint(
        dms,
        f"dst-{name}",
        "target",
        port=pg_cluster.port,
        database=target_db,
        username=pg_cluster.user,
        password="unused",
    )
    arn = create_task(
        dms,
        name,
        source=source,
        target=target,
        instance=create_available_instance(dms, f"inst-{name}"),
        table_mappings=selection_rules("shop"),
        migration_type=migration_type,
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_until(
        lambda: describe_task(dms, arn)["Status"] in ("stopped", "failed"),
        f"task {name} ended",
        timeout=300,
    )
    return arn, target_db


def start_cdc_task(
    dms: Any, source: str, pg_cluster: PgCluster, databases: list[str], name: str
) -> dict[str, Any]:
    arn, _ = run_task(dms, source, pg_cluster, databases, name, "full-load-and-cdc")
    return describe_task(dms, arn)


@pytest.mark.parametrize(
    ("settings", "log_bin", "expected"),
    [
        ({}, False, "Binary Logging must be enabled"),
        ({"binlog_format": "STATEMENT"}, True, "binlog_format must be ROW"),
        ({"binlog_row_image": "MINIMAL"}, True, "binlog_row_image must be FULL"),
    ],
)
def test_cdc_task_fails_clearly_on_a_source_without_a_usable_binlog(
    server: DmsLocalServer,
    pg_cluster: PgCluster,
    databases: list[str],
    settings: dict[str, str],
    log_bin: bool,
    expected: str,
) -> None:
    dms = boto3_dms(server.url)
    with MariaDbCluster(settings=settings, log_bin=log_bin) as source_cluster:
        source_cluster.create_user(DMS_USER, DMS_PASSWORD)
        source = mysql_endpoint(dms, "src", source_cluster, "shop")
        task = start_cdc_task(dms, source, pg_cluster, databases, "binlog-check")
    assert task["Status"] == "failed" or task.get("StopReason", "").endswith("FATAL_ERROR"), task
    assert expected in task["LastFailureMessage"], task


def test_cdc_task_names_missing_replication_privileges(
    server: DmsLocalServer, mariadb: MariaDbCluster, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms = boto3_dms(server.url)
    mariadb.create_user("reader", "reader-pw", "SELECT")
    source = mysql_endpoint(dms, "src", mariadb, "shop", user="reader", password="reader-pw")
    task = start_cdc_task(dms, source, pg_cluster, databases, "grant-check")
    message = task["LastFailureMessage"]
    assert "REPLICATION CLIENT and REPLICATION SLAVE" in message, task
    assert "reader-pw" not in message


# --- full load MariaDB -> PostgreSQL ---------------------------------------------------------

TYPES_SQL = r"""
CREATE TABLE types (
  id int PRIMARY KEY,
  i8 tinyint, u8 tinyint unsigned, i16 smallint, u16 smallint unsigned,
  i24 mediumint, u24 mediumint unsigned, i32 int, u32 int unsigned,
  i64 bigint, u64 bigint unsigned,
  dec_ decimal(20,6), f float, d double,
  flag bit(1), bits bit(12),
  day date, dt datetime(6), ts timestamp(3) NULL DEFAULT NULL, t time, y year,
  code char(3), name varchar(40), latin varchar(20) CHARACTER SET latin1, note text, big longtext,
  bin binary(4), vbin varbinary(16), blb blob,
  size enum('small','medium','large'), tags set('a','b','c'),
  doc json
) CHARACTER SET utf8mb4;
SET SESSION time_zone = '+02:00';
SET SESSION sql_mode = '';
INSERT INTO types VALUES
 (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
  -9223372036854775808, 18446744073709551615,
  12345678901234.123456, 1.5, 2.718281828459045,
  b'1', b'101010101010',
  '2024-02-29', '2024-02-29 23:59:59.123456', '2024-06-01 12:00:00.250', '23:59:59', 2155,
  'abc', 'héllo wörld ✓', 'café', 'tab\there\nnewline \\ backslash', REPEAT('x', 70000),
  x'00ff10ab', x'deadbeef', x'000102',
  'medium', 'a,c',
  '{"k": [1, "two", null], "n": {"x": true}}'),
 (2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'0',
  '0000-00-00', '0000-00-00 00:00:00', NULL, '00:00:00', 1901,
  '', '', '', '', '', x'00000000', x'', x'', 'small', '', '[]'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""

# What each row reads as on the PostgreSQL target (psql's text forms), column by column.
EXPECTED_TYPES = {
    "i8": "smallint",
    "u8": "smallint",
    "i16": "smallint",
    "u16": "integer",
    "i24": "integer",
    "u24": "bigint",
    "i32": "integer",
    "u32": "bigint",
    "i64": "bigint",
    "u64": "numeric(20,0)",
    "dec_": "numeric(20,6)",
    "f": "real",
    "d": "double precision",
    "flag": "boolean",
    "bits": "bytea",
    "day": "date",
    "dt": "timestamp(6) without time zone",
    "ts": "timestamp(3) without time zone",
    "t": "time(0) without time zone",
    "y": "smallint",
    "code": "character varying(3)",
    "name": "character varying(40)",
    "latin": "character varying(20)",
    "note": "character varying(65535)",
    "big": "text",
    "bin": "bytea",
    "vbin": "bytea",
    "blb": "bytea",
    "size": "character varying(6)",
    "tags": "character varying(5)",
    "doc": "text",
}


def pg_row(pg_cluster: PgCluster, db: str, table: str, row_id: int) -> dict[str, str]:
    """A row's values in text form (NULL as ∅); the multi-line `note` and long `big` apart."""
    columns = [c for c in EXPECTED_TYPES if c not in ("note", "big")]
    out = pg_cluster.psql(
        f"SELECT {', '.join(f'coalesce({c}::text, chr(8709))' for c in columns)} "
        f"FROM shop.{table} WHERE id = {row_id}",
        db,
    )
    return dict(zip(columns, out.rstrip("\n").split("|"), strict=True))


@pytest.fixture(scope="module")
def typed_source(mariadb: MariaDbCluster) -> str:
    mariadb.create_database("shop")
    mariadb.sql(TYPES_SQL, "shop")
    return "shop"


def test_full_load_maps_every_mysql_type_as_dms_does(
    server: DmsLocalServer,
    mariadb: MariaDbCluster,
    typed_source: str,
    pg_cluster: PgCluster,
    databases: list[str],
) -> None:
    dms = boto3_dms(server.url)
    source = mysql_endpoint(dms, "src", mariadb, typed_source)
    arn, target_db = run_task(dms, source, pg_cluster, databases, "types")
    task = describe_task(dms, arn)
    assert task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", task

    types = dict(
        line.split("|")
        for line in pg_cluster.psql(
            "SELECT column_name, format_type(atttypid, atttypmod) FROM pg_attribute a "
            "JOIN information_schema.columns c ON c.table_schema = 'shop' "
            "AND c.table_name = 'types' AND c.column_name = a.attname "
            "WHERE a.attrelid = 'shop.types'::regclass AND a.attnum > 0",
            target_db,
        ).splitlines()
        if "|" in line
    )
    for column, expected in EXPECTED_TYPES.items():
        assert types[column] == expected, (column, types[column])

    full = pg_row(pg_cluster, target_db, "types", 1)
    assert full["i8"] == "-128" and full["u8"] == "255"
    assert full["u16"] == "65535" and full["u24"] == "16777215"
    assert full["i32"] == "-2147483648" and full["u32"] == "4294967295"
    assert full["i64"] == "-9223372036854775808"
    assert full["u64"] == "18446744073709551615"
    assert full["dec_"] == "12345678901234.123456"
    assert full["f"] == "1.5" and full["d"] == "2.718281828459045"
    assert full["flag"] == "true" and full["bits"] == "\\x0aaa"
    assert full["day"] == "2024-02-29" and full["t"] == "23:59:59"
    assert full["dt"] == "2024-02-29 23:59:59.123456"
    # TIMESTAMP is stored in UTC: written at +02:00, it arrives two hours earlier.
    assert full["ts"] == "2024-06-01 10:00:00.25"
    assert full["y"] == "2155"
    assert full["code"] == "abc" and full["name"] == "héllo wörld ✓" and full["latin"] == "café"
    note = pg_cluster.psql(
        "SELECT note = E'tab\\there\\nnewline \\\\ backslash' FROM shop.types WHERE id = 1",
        target_db,
    )
    assert note.strip() == "t"
    assert pg_cluster.psql(
        "SELECT length(big) FROM shop.types WHERE id = 1", target_db
    ).strip() == ("70000")
    assert full["bin"] == "\\x00ff10ab" and full["vbin"] == "\\xdeadbeef"
    assert full["blb"] == "\\x000102"
    assert full["size"] == "medium" and full["tags"] == "a,c"
    assert full["doc"] == '{"k": [1, "two", null], "n": {"x": true}}'

    zero = pg_row(pg_cluster, target_db, "types", 2)
    # MySQL's zero dates have no PostgreSQL value: DMS writes NULL.
    assert zero["day"] == "∅" and zero["dt"] == "∅"
    assert zero["flag"] == "false" and zero["t"] == "00:00:00" and zero["y"] == "1901"
    assert zero["code"] == "" and zero["vbin"] == "\\x" and zero["tags"] == ""

    empty = pg_row(pg_cluster, target_db, "types", 3)
    assert set(empty.values()) == {"∅"}, empty

    stats = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    assert [
        (s["SchemaName"], s["TableName"], s["FullLoadRows"], s["TableState"]) for s in stats
    ] == [("shop", "types", 3, "Table completed")]


BULK_ROWS = 50_000


def test_full_load_streams_a_large_table_and_reports_like_postgres(
    server: DmsLocalServer, mariadb: MariaDbCluster, pg_cluster: PgCluster, databases: list[str]
) -> None:
    mariadb.create_database("bulk")
    mariadb.sql(
        "CREATE TABLE shop_orders (id bigint unsigned PRIMARY KEY, region varchar(8), "
        "amount decimal(12,2), placed datetime, memo text);"
        "INSERT INTO shop_orders SELECT seq, CONCAT('r', seq % 9), seq * 0.01, "
        "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, "
        f"IF(seq % 10 = 0, NULL, CONCAT('memo ', seq)) FROM seq_1_to_{BULK_ROWS};",
        "bulk",
    )
    dms = boto3_dms(server.url)
    source = mysql_endpoint(dms, "src", mariadb, "bulk")
    target_db = "mysql_fl_bulk"
    pg_cluster.create_database(target_db)
    databases.append(target_db)
    target = create_postgres_endpoint(
        dms,
        "dst",
        "target",
        port=pg_cluster.port,
        database=target_db,
        username=pg_cluster.user,
        password="unused",
    )
    instance = create_available_instance(dms, "inst")
    arn = create_task(
        dms,
        "bulk",
        source=source,
        target=target,
        instance=instance,
        table_mappings=selection_rules("bulk"),
    )
    started = time.monotonic()
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_until(
        lambda: describe_task(dms, arn)["Status"] in ("stopped", "failed"), "bulk load", timeout=300
    )
    elapsed = time.monotonic() - started
    task = describe_task(dms, arn)
    assert task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", task
    stats = task["ReplicationTaskStats"]
    assert stats["FullLoadProgressPercent"] == 100 and stats["TablesLoaded"] == 1, stats

    # Same rows, same values: an md5 over both sides' text forms in key order.
    source_rows = mariadb.sql(
        "SELECT id, region, amount, placed, IFNULL(memo, '<null>') FROM shop_orders ORDER BY id",
        "bulk",
    )
    target_rows = pg_cluster.psql(
        "COPY (SELECT id, region, amount, placed, coalesce(memo, '<null>') FROM bulk.shop_orders "
        "ORDER BY id) TO STDOUT",
        target_db,
    )
    assert (
        hashlib.md5(source_rows.encode()).hexdigest()
        == hashlib.md5(target_rows.encode()).hexdigest()
    )
    assert target_rows.count("\n") == BULK_ROWS
    table = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"][0]
    assert table["FullLoadRows"] == BULK_ROWS and table["TableState"] == "Table completed"
    print(f"MariaDB -> PostgreSQL full load of {BULK_ROWS} rows: {elapsed:.2f} s end to end")


def test_full_load_into_s3_files(
    tmp_path: Path,
    aws_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    mariadb: MariaDbCluster,
    typed_source: str,
) -> None:
    root = tmp_path / "s3"
    with serving(tmp_path, monkeypatch, [*DATA_PLANE_ARGS, "--s3-root", str(root)]) as server:
        dms = boto3_dms(server.url)
        lake = dms.create_endpoint(
            EndpointIdentifier="lake",
            EndpointType="target",
            EngineName="s3",
            S3Settings={"BucketName": "lake"},
        )["Endpoint"]["EndpointArn"]
        arn = create_task(
            dms,
            "to-lake",
            source=mysql_endpoint(dms, "src", mariadb, typed_source),
            target=lake,
            instance=create_available_instance(dms, "local"),
            table_mappings=selection_rules("shop"),
        )
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
        wait_until(
            lambda: describe_task(dms, arn)["Status"] in ("stopped", "failed"), "load", timeout=120
        )
        assert describe_task(dms, arn)["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    [load] = sorted((root / "lake" / "shop" / "types").glob("LOAD*.csv"))
    with load.open(newline="") as file:
        rows = {
            row[0]: dict(zip(["id", *EXPECTED_TYPES], row, strict=True)) for row in csv.reader(file)
        }
    assert sorted(rows) == ["1", "2", "3"]
    assert rows["1"]["u64"] == "18446744073709551615" and rows["1"]["flag"] == "true"
    assert rows["1"]["name"] == "héllo wörld ✓" and rows["1"]["bin"] == "\\x00ff10ab"
    assert rows["1"]["note"] == "tab\there\nnewline \\ backslash"
    assert rows["1"]["dt"] == "2024-02-29 23:59:59.123456"
    assert rows["2"]["day"] == "" and rows["2"]["flag"] == "false"  # a zero date is NULL
