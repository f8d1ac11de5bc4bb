"""dms-local keeps every s3 target file inside ``--s3-root``: bucket names and folders that point
elsewhere are refused (at CreateEndpoint/ModifyEndpoint, and again when a task or a connection
test runs for an endpoint stored before), symbolic links below the root are never followed, and
schema and table names become one safe folder each. Each test plants files beside the root and
checks that nothing there was created, changed or deleted."""

from __future__ import annotations

import json
import os
import sqlite3
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
    local_client,
    selection_rule,
)
from dms_local_fixture import FAST_ARGS, serving
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

SOURCE_DB = "dms_local_s3_root_source"

# Tables whose names would be paths of their own if they were used as they are: used raw, the
# last two would put their files in tmp_path itself, beside the root.
SOURCE_SQL = r"""
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id integer PRIMARY KEY, item text);
INSERT INTO shop.orders SELECT g, 'item ' || g FROM generate_series(1, 30) AS g;
CREATE TABLE shop."a/b" (id integer PRIMARY KEY);
INSERT INTO shop."a/b" SELECT generate_series(1, 3);
CREATE TABLE shop."../../../../escape" (id integer PRIMARY KEY);
INSERT INTO shop."../../../../escape" SELECT generate_series(1, 4);
CREATE TABLE shop.".." (id integer PRIMARY KEY);
INSERT INTO shop.".." SELECT generate_series(1, 5);
CREATE SCHEMA "../../..";
CREATE TABLE "../../..".orders (id integer PRIMARY KEY);
INSERT INTO "../../..".orders SELECT generate_series(1, 6);
ANALYZE;
"""

# Where each source table's files must land below <root>/lake/dms, and how many rows it has.
ENCODED = {
    ("shop", "orders"): ("shop/orders", 30),
    ("shop", "a/b"): ("shop/a%2Fb", 3),
    ("shop", "../../../../escape"): ("shop/..%2F..%2F..%2F..%2Fescape", 4),
    ("shop", ".."): ("shop/%2E%2E", 5),
    ("../../..", "orders"): ("..%2F..%2F../orders", 6),
}


def mappings(*schemas: str) -> str:
    rules = [
        selection_rule(schema, rule_id=str(i), rule_name=f"schema{i}")
        for i, schema in enumerate(schemas, start=1)
    ]
    return json.dumps({"rules": rules})


@pytest.fixture(scope="module")
def source_db(pg_cluster: PgCluster) -> Iterator[str]:
    pg_cluster.create_database(SOURCE_DB)
    pg_cluster.psql(SOURCE_SQL, SOURCE_DB)
    yield SOURCE_DB
    pg_cluster.drop_database(SOURCE_DB)


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    """A folder beside the root holding LOAD files that no s3 target may touch: where `../x`
    buckets, `../../x` folders and planted links would lead."""
    planted = tmp_path / "outside"
    for relative in ("LOAD00000001.csv", "shop/orders/LOAD00000001.csv", "dms/LOAD00000001.csv"):
        (planted / relative).parent.mkdir(parents=True, exist_ok=True)
        (planted / relative).write_text("planted\n")
    return planted


@pytest.fixture()
def server(
    tmp_path: Path, root: Path, outside: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocalServer]:
    with serving(tmp_path, monkeypatch, [*FAST_ARGS, "--s3-root", str(root)]) as server:
        yield server


def snapshot(tmp_path: Path, root: Path, state: Path) -> dict[str, str]:
    """Every path under tmp_path outside the root and the state directory, with file contents
    (links recorded, never followed)."""
    seen: dict[str, str] = {}
    for folder, dirs, files in os.walk(tmp_path):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d not in (root, state)]
        for name in dirs + files:
            path = here / name
            relative = str(path.relative_to(tmp_path))
            if path.is_symlink():
                seen[relative] = "link -> " + os.readlink(path)
            elif path.is_file():
                seen[relative] = path.read_text(errors="replace")
            else:
                seen[relative] = "dir"
    # The launcher's port file beside the state (DmsLocalServer.port_file): each start rewrites it.
    seen.pop(f"{state.name}.port", None)
    return seen


@pytest.fixture()
def untouched(tmp_path: Path, root: Path, server: DmsLocalServer) -> Iterator[None]:
    """Asserts, after the test, that nothing outside the root changed while it ran."""
    before = snapshot(tmp_path, root, server.state_dir)
    assert "outside/shop/orders/LOAD00000001.csv" in before
    yield
    assert snapshot(tmp_path, root, server.state_dir) == before


def dms_client(server: DmsLocalServer) -> Any:
    return local_client(server.url)


def wait_until(predicate: Any, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def create_instance(dms: Any) -> str:
    return create_available_instance(dms, "local")


def create_source(dms: Any, cluster: PgCluster) -> str:
    return create_postgres_endpoint(
        dms,
        "src",
        "source",
        port=cluster.port,
        database=SOURCE_DB,
        username=cluster.user,
        password=None,
    )


def create_s3_target(dms: Any, name: str = "files", **settings: Any) -> str:
    s3 = {"BucketName": "lake", "BucketFolder": "dms", **settings}
    return str(
        dms.create_endpoint(
            EndpointIdentifier=name, EndpointType="target", EngineName="s3", S3Settings=s3
        )["Endpoint"]["EndpointArn"]
    )


def run_task(dms: Any, source: str, target: str, instance: str, table_mappings: str) -> str:
    arn = create_task(
        dms, "load", source=source, target=target, instance=instance, table_mappings=table_mappings
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_until(lambda: describe_task(dms, arn)["Status"] in ("stopped", "failed"))
    return arn


def run_connection_test(dms: Any, endpoint: str, instance: str) -> dict[str, Any]:
    dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)
    found: dict[str, Any] = {}

    def finished() -> bool:
        connections = dms.describe_connections(
            Filters=[{"Name": "endpoint-arn", "Values": [endpoint]}]
        )["Connections"]
        found.update(connections[0])
        return found["Status"] != "testing"

    wait_until(finished, timeout=60)
    return found


def load_files(root: Path) -> dict[str, int]:
    """Rows per folder (relative to the root) over every LOAD file below it (links not
    followed)."""
    rows: dict[str, int] = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if name.startswith("LOAD") and name.endswith(".csv") and not path.is_symlink():
                relative = str(path.parent.relative_to(root))
                rows[relative] = rows.get(relative, 0) + len(path.read_text().splitlines())
    return rows


BAD_BUCKETS = {
    "../outside": "only lowercase letters",
    "/tmp/dms-local-absolute-bucket": "only lowercase letters",
    "..": "3 to 63 characters",
    "Lake": "only lowercase letters",
    "192.168.5.4": "IP address",
}
BAD_FOLDERS = {
    "../../outside": ". or .. segments",
    "/abs": "must not begin with /",
    "a//b": "empty segment",
    "dms/..": ". or .. segments",
}


def expect_invalid(call: Any, field: str, why: str) -> None:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException", error
    assert field in error["Message"] and why in error["Message"], error


@pytest.mark.usefixtures("untouched")
def test_bucket_names_and_folders_are_checked_at_create_and_modify(
    server: DmsLocalServer, root: Path
) -> None:
    dms = dms_client(server)
    for bucket, why in BAD_BUCKETS.items():
        expect_invalid(
            lambda bucket=bucket: create_s3_target(dms, "bad", BucketName=bucket),
            "S3Settings.BucketName",
            why,
        )
    for folder, why in BAD_FOLDERS.items():
        expect_invalid(
            lambda folder=folder: create_s3_target(dms, "bad", BucketFolder=folder),
            "S3Settings.BucketFolder",
            why,
        )
    # Nothing refused was stored.
    with pytest.raises(ClientError):
        dms.describe_endpoints(Filters=[{"Name": "endpoint-id", "Values": ["bad"]}])

    arn = create_s3_target(dms, "good", BucketName="my.lake-1", BucketFolder="raw/dms/")
    for bucket, why in BAD_BUCKETS.items():
        expect_invalid(
            lambda bucket=bucket: dms.modify_endpoint(
                EndpointArn=arn, S3Settings={"BucketName": bucket}
            ),
            "S3Settings.BucketName",
            why,
        )
    for folder, why in BAD_FOLDERS.items():
        expect_invalid(
            lambda folder=folder: dms.modify_endpoint(
                EndpointArn=arn, S3Settings={"BucketName": "my.lake-1", "BucketFolder": folder}
            ),
            "S3Settings.BucketFolder",
            why,
        )
    endpoint = dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [arn]}])
    settings = endpoint["Endpoints"][0]["S3Settings"]
    assert (settings["BucketName"], settings["BucketFolder"]) == ("my.lake-1", "raw/dms/")
    assert not root.exists() or not any(root.iterdir())


@pytest.mark.usefixtures("untouched")
def test_schema_and_table_names_become_one_folder_each_inside_the_root(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str, root: Path
) -> None:
    dms = dms_client(server)
    instance = create_instance(dms)
    arn = run_task(
        dms,
        create_source(dms, pg_cluster),
        create_s3_target(dms),
        instance,
        mappings("shop", "../../.."),
    )
    task = describe_task(dms, arn)
    assert task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", task
    assert task["ReplicationTaskStats"]["TablesLoaded"] == len(ENCODED), task
    expected = {f"lake/dms/{folder}": rows for folder, rows in ENCODED.values()}
    assert load_files(root) == expected
    # DescribeTableStatistics still names the tables as the source does.
    stats = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    assert {(t["SchemaName"], t["TableName"]): t["FullLoadRows"] for t in stats} == {
        name: rows for name, (_, rows) in ENCODED.items()
    }


@pytest.mark.usefixtures("untouched")
def test_a_symlink_planted_inside_the_root_is_never_followed(
    server: DmsLocalServer, pg_cluster: PgCluster, source_db: str, root: Path, outside: Path
) -> None:
    # The table folder of shop.orders and the whole bucket of a second endpoint point outside.
    (root / "lake" / "dms" / "shop").mkdir(parents=True)
    (root / "lake" / "dms" / "shop" / "orders").symlink_to(outside / "shop" / "orders")
    (root / "linked").symlink_to(outside)
    dms = dms_client(server)
    instance = create_instance(dms)
    source = create_source(dms, pg_cluster)
    arn = run_task(dms, source, create_s3_target(dms), instance, mappings("shop"))
    # DROP_AND_CREATE did not clear the planted LOAD file through the link, and nothing was
    # written there: the table is in error, the others loaded inside the root.
    stats = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    states = {t["TableName"]: t["TableState"] for t in stats}
    assert states.pop("orders") == "Table error", stats
    assert set(states.values()) == {"Table completed"}, stats
    assert set(load_files(root)) == {
        f"lake/dms/{folder}"
        for (schema, table), (folder, _) in ENCODED.items()
        if schema == "shop" and table != "orders"
    }

    linked = create_s3_target(dms, "linked", BucketName="linked", BucketFolder="")
    connection = run_connection_test(dms, linked, instance)
    assert connection["Status"] == "failed", connection
    assert "symbolic link" in connection["LastFailureMessage"], connection
    assert "linked" in connection["LastFailureMessage"], connection


def store_bucket(server: DmsLocalServer, endpoint: str, bucket: str, folder: str) -> None:
    """Rewrites an endpoint's S3Settings in the state file, as an endpoint stored by an older
    dms-local (before these names were checked) would hold them. The server must be stopped."""
    with sqlite3.connect(server.state_dir / "dms-local.sqlite3") as db:
        (doc,) = db.execute("SELECT doc FROM endpoints WHERE arn = ?", (endpoint,)).fetchone()
        record = json.loads(doc)
        record["S3Settings"].update({"BucketName": bucket, "BucketFolder": folder})
        db.execute("UPDATE endpoints SET doc = ? WHERE arn = ?", (json.dumps(record), endpoint))


@pytest.mark.parametrize(
    ("bucket", "folder", "field"),
    [
        ("../outside", "", "S3Settings.BucketName"),
        ("ABSOLUTE", "", "S3Settings.BucketName"),
        ("lake", "../../outside", "S3Settings.BucketFolder"),
    ],
)
@pytest.mark.usefixtures("untouched")
def test_an_endpoint_stored_before_the_checks_fails_clearly_and_touches_nothing_outside(
    server: DmsLocalServer,
    pg_cluster: PgCluster,
    source_db: str,
    root: Path,
    outside: Path,
    bucket: str,
    folder: str,
    field: str,
) -> None:
    if bucket == "ABSOLUTE":
        bucket = str(outside)
    dms = dms_client(server)
    instance = create_instance(dms)
    source = create_source(dms, pg_cluster)
    target = create_s3_target(dms)
    server.stop()
    store_bucket(server, target, bucket, folder)
    server.start()
    dms = dms_client(server)

    connection = run_connection_test(dms, target, instance)
    assert connection["Status"] == "failed", connection
    assert field in connection["LastFailureMessage"], connection

    arn = run_task(dms, source, target, instance, mappings("shop"))
    task = describe_task(dms, arn)
    assert task["Status"] == "failed", task
    assert field in task["LastFailureMessage"], task
    assert load_files(root) == {}
