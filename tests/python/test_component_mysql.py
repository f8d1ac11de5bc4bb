"""The component materializing a full-load-and-cdc task whose source is MariaDB, on dms-local with
its real data plane: the first run loads and starts replication, a second one reports the
changes captured from the binary log in its statistics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dagster_dms import AWSDMSComponent
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
from dms_local_fixture import DATA_PLANE_ARGS, boto3_dms, serving
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_mysql import DMS_PASSWORD, DMS_USER, mysql_endpoint

KEY = "dms_task_maria_orders"
TARGET_DB = "component_maria_target"
SEED_ROWS = 5000


@pytest.fixture
def server(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocalServer]:
    with serving(tmp_path, monkeypatch, list(DATA_PLANE_ARGS)) as server:
        yield server


@pytest.fixture
def mariadb() -> Iterator[MariaDbCluster]:
    with MariaDbCluster() as cluster:
        cluster.create_user(DMS_USER, DMS_PASSWORD)
        cluster.create_database("shop")
        cluster.sql(
            "CREATE TABLE orders (id bigint unsigned PRIMARY KEY, amount decimal(12,2), "
            "placed datetime(3), note varchar(40));"
            "INSERT INTO orders SELECT seq, seq * 0.5, TIMESTAMP '2024-01-01 00:00:00' + "
            f"INTERVAL seq SECOND, CONCAT('order ', seq) FROM seq_1_to_{SEED_ROWS};",
            "shop",
        )
        yield cluster


@pytest.fixture
def target(pg_cluster: PgCluster) -> Iterator[PgCluster]:
    pg_cluster.create_database(TARGET_DB)
    yield pg_cluster
    pg_cluster.drop_database(TARGET_DB)


def metadata_of(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [event] = result.get_asset_materialization_events()
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}


def test_a_mariadb_full_load_and_cdc_task_materializes_with_its_statistics(
    server: DmsLocalServer, mariadb: MariaDbCluster, target: PgCluster
) -> None:
    dms = boto3_dms(server.url)
    source = mysql_endpoint(dms, "maria-source", mariadb, "shop")
    destination = create_postgres_endpoint(
        dms,
        "maria-target",
        "target",
        port=target.port,
        database=TARGET_DB,
        username=target.user,
        password="unused",
    )
    arn = create_task(
        dms,
        "maria-orders",
        source=source,
        target=destination,
        instance=create_available_instance(dms, "local"),
        table_mappings=selection_rules("shop"),
        migration_type="full-load-and-cdc",
    )
    component = AWSDMSComponent(
        aws_region="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    defs = component.build_defs_from_discovery(component.discover())
    with dg.instance_for_test() as instance:
        first = dg.materialize([defs.get_assets_def(KEY)], instance=instance)
        metadata = metadata_of(first)
        assert metadata["dms/status"] == "running"
        assert metadata["dms/full_load_rows"] == SEED_ROWS
        assert metadata["dms/full_load_progress_percent"] == 100

        mariadb.sql(
            "INSERT INTO orders SELECT seq, 1, NULL, 'new' FROM seq_100001_to_100030;"
            "UPDATE orders SET note = 'changed' WHERE id <= 10;"
            "DELETE FROM orders WHERE id BETWEEN 11 AND 15;",
            "shop",
        )

        def applied() -> bool:
            stats = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
            return bool(stats) and stats[0]["AppliedDeletes"] == 5

        wait_until(applied, "the changes applied", timeout=120)
        again = dg.materialize([defs.get_assets_def(KEY)], instance=instance)
        metadata = metadata_of(again)
        assert metadata["dms/start_type_sent"] == "(not started: already running)"
        counts = {k: v for k, v in metadata.items() if k.startswith("dms/cdc_")}
        assert counts == {
            "dms/cdc_inserts": 30,
            "dms/cdc_applied_inserts": 30,
            "dms/cdc_updates": 10,
            "dms/cdc_applied_updates": 10,
            "dms/cdc_deletes": 5,
            "dms/cdc_applied_deletes": 5,
            "dms/cdc_ddls": 0,
            "dms/cdc_applied_ddls": 0,
        }
        [row] = metadata["dms/table_statistics"].records
        assert row.data["table"] == "orders" and row.data["full_load_rows"] == SEED_ROWS
    count = target.psql(
        "SELECT count(*), count(*) FILTER (WHERE note = 'changed') FROM shop.orders", TARGET_DB
    )
    assert count.strip() == f"{SEED_ROWS + 30 - 5}|10"
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_until(lambda: describe_task(dms, arn)["Status"] == "stopped", "stopped", timeout=60)
