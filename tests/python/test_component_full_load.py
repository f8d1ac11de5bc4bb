"""Materializing AWSDMSComponent task assets on dms-local with its real data plane: rows move
between two PostgreSQL databases, the metadata reports them, and a failing task explains itself."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dagster_dms import AWSDMSComponent
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_cluster_endpoint,
    create_task,
    selection_rules,
)
from dms_local_fixture import FAST_ARGS, boto3_dms, serving
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

SOURCE_DB = "component_source"
TARGET_DB = "component_target"
SOURCE_SQL = """
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id bigint PRIMARY KEY, amount numeric(12,2), note text);
INSERT INTO shop.orders SELECT g, g * 0.5, 'order ' || g FROM generate_series(1, 30000) AS g;
CREATE TABLE shop.order_items (order_id bigint, line int, sku text, PRIMARY KEY (order_id, line));
INSERT INTO shop.order_items SELECT g / 3, g % 3, 'sku-' || g FROM generate_series(3, 12002) AS g;
"""
ROWS = {"orders": 30000, "order_items": 12000}


def selection(table: str) -> str:
    return selection_rules("shop", table, rule_name="pick")


@pytest.fixture(scope="module")
def databases(pg_cluster: PgCluster) -> Iterator[PgCluster]:
    pg_cluster.create_database(SOURCE_DB)
    pg_cluster.psql(SOURCE_SQL, SOURCE_DB)
    pg_cluster.create_database(TARGET_DB)
    yield pg_cluster
    pg_cluster.drop_database(SOURCE_DB)
    pg_cluster.drop_database(TARGET_DB)


@pytest.fixture
def server(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocalServer]:
    with serving(tmp_path, monkeypatch, list(FAST_ARGS)) as server:
        yield server


@pytest.fixture
def component(server: DmsLocalServer, databases: PgCluster) -> AWSDMSComponent:
    dms = boto3_dms(server.url)

    source, target = (
        create_cluster_endpoint(dms, name, kind, databases, db, password="component-pw")
        for name, kind, db in (
            ("shop-source", "source", SOURCE_DB),
            ("shop-target", "target", TARGET_DB),
        )
    )
    instance = create_available_instance(dms, "local")
    for name, table in (("shop-orders", "order%"), ("shop-missing", "no_such_table")):
        create_task(
            dms,
            name,
            source=source,
            target=target,
            instance=instance,
            table_mappings=selection(table),
            # Logging on, as DMS needs it for the task's CloudWatch log the failure quotes.
            ReplicationTaskSettings=json.dumps({"Logging": {"EnableLogging": True}}),
        )
    return AWSDMSComponent(
        aws_region="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        import_endpoints=True,
    )


def materialize(component: AWSDMSComponent, key: str) -> dg.ExecuteInProcessResult:
    defs = component.build_defs_from_discovery(component.discover())
    return dg.materialize(
        [defs.get_assets_def(key), *[a for a in defs.assets or [] if _is_endpoint(a)]],
        selection=[key],
        raise_on_error=False,
    )


def _is_endpoint(assets_def: Any) -> bool:
    return isinstance(assets_def, dg.AssetsDefinition) and any(
        k.path[-1].startswith("dms_endpoint_") for k in assets_def.keys
    )


def test_materializing_a_full_load_moves_the_rows_and_reports_them(
    component: AWSDMSComponent, databases: PgCluster
) -> None:
    result = materialize(component, "dms_task_shop_orders")
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
    assert metadata["dms/status"] == "stopped"
    assert metadata["dms/stop_reason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert metadata["dms/full_load_progress_percent"] == 100
    assert metadata["dms/tables_loaded"] == 2
    assert metadata["dms/tables_errored"] == 0
    assert metadata["dms/full_load_rows"] == sum(ROWS.values())
    table = event.materialization.metadata["dms/table_statistics"].value
    rows = {r.data["table"]: r.data["full_load_rows"] for r in table.records}
    assert rows == ROWS
    for name in ROWS:
        source = databases.table_checksum(SOURCE_DB, f"shop.{name}")
        assert databases.table_checksum(TARGET_DB, f"shop.{name}") == source
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("no_errored_tables", True)]
    # A second materialization reloads (start-replication is valid only on a first run).
    again = materialize(component, "dms_task_shop_orders")
    assert again.success
    [event] = again.get_asset_materialization_events()
    assert event.materialization.metadata["dms/start_type_sent"].value == "reload-target"


def test_a_failing_task_fails_the_run_with_the_reason(component: AWSDMSComponent) -> None:
    result = materialize(component, "dms_task_shop_missing")
    assert not result.success
    [failure] = result.get_step_failure_events()
    error = failure.step_failure_data.user_failure_data
    assert error is not None
    description = error.description or ""
    assert "shop-missing failed" in description, description
    assert "no_such_table" in description or "no table" in description.lower(), description
    assert "component-pw" not in description
    # The last error lines of the task's CloudWatch log, in DMS's format.
    assert "Last error lines of the task log" in description, description
    assert "]E:" in description, description


def test_materializing_a_serverless_replication_moves_the_rows(
    server: DmsLocalServer, databases: PgCluster, component: AWSDMSComponent
) -> None:
    dms = boto3_dms(server.url)
    endpoints = {
        e["EndpointIdentifier"]: e["EndpointArn"] for e in dms.describe_endpoints()["Endpoints"]
    }
    databases.psql("DROP TABLE IF EXISTS shop.order_items", TARGET_DB)
    dms.create_replication_config(
        ReplicationConfigIdentifier="shop-items-serverless",
        SourceEndpointArn=endpoints["shop-source"],
        TargetEndpointArn=endpoints["shop-target"],
        ComputeConfig={"MaxCapacityUnits": 2},
        ReplicationType="full-load",
        TableMappings=selection("order_items"),
    )
    serverless = AWSDMSComponent(
        aws_region="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        import_replication_tasks=False,
        import_serverless_replications=True,
    )
    defs = serverless.build_defs_from_discovery(serverless.discover())
    key = "dms_replication_shop_items_serverless"
    result = dg.materialize([defs.get_assets_def(key)], raise_on_error=False)
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
    assert metadata["dms/status"] == "stopped"
    assert "FULL_LOAD_ONLY_FINISHED" in metadata["dms/stop_reason"]
    assert metadata["dms/tables_loaded"] == 1
    source = databases.table_checksum(SOURCE_DB, "shop.order_items")
    assert databases.table_checksum(TARGET_DB, "shop.order_items") == source


def test_sensor_reports_a_full_load_finished_outside_dagster_once(
    server: DmsLocalServer, component: AWSDMSComponent
) -> None:
    dms = boto3_dms(server.url)
    defs = component.build_defs_from_discovery(component.discover())
    sensor = defs.get_sensor_def("aws_dms_observation_sensor")
    key = dg.AssetKey("dms_task_shop_orders")
    with dg.instance_for_test() as instance:
        baseline = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=defs)
        )
        task_arn = next(
            t["ReplicationTaskArn"]
            for t in dms.describe_replication_tasks()["ReplicationTasks"]
            if t["ReplicationTaskIdentifier"] == "shop-orders"
        )
        dms.start_replication_task(
            ReplicationTaskArn=task_arn, StartReplicationTaskType="start-replication"
        )
        deadline = time.monotonic() + 120
        while (
            dms.describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [task_arn]}]
            )["ReplicationTasks"][0]["Status"]
            != "stopped"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        tick = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=baseline.cursor, definitions=defs)
        )
        materialized = [e for e in tick.asset_events if isinstance(e, dg.AssetMaterialization)]
        assert [m.asset_key for m in materialized] == [key]
        assert materialized[0].metadata["dms/reported_by"].value == "sensor"
        # Nothing new: the next tick reports nothing again.
        quiet = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=tick.cursor, definitions=defs)
        )
        assert quiet.asset_events == []
        # A run Dagster made itself is not reported a second time by the sensor.
        result = dg.materialize([defs.get_assets_def(key)], instance=instance, raise_on_error=False)
        assert result.success
        after_run = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=quiet.cursor, definitions=defs)
        )
        assert not [e for e in after_run.asset_events if isinstance(e, dg.AssetMaterialization)]
        assert [e.asset_key for e in after_run.asset_events] == [key]  # the observation only


def test_materializing_a_full_load_and_cdc_task_succeeds_once_replicating(
    server: DmsLocalServer, databases: PgCluster, component: AWSDMSComponent
) -> None:
    dms = boto3_dms(server.url)
    tasks = dms.describe_replication_tasks()["ReplicationTasks"]
    template = next(t for t in tasks if t["ReplicationTaskIdentifier"] == "shop-orders")
    databases.psql("DROP TABLE IF EXISTS shop.orders, shop.order_items", TARGET_DB)
    arn = dms.create_replication_task(
        ReplicationTaskIdentifier="shop-orders-cdc",
        SourceEndpointArn=template["SourceEndpointArn"],
        TargetEndpointArn=template["TargetEndpointArn"],
        ReplicationInstanceArn=template["ReplicationInstanceArn"],
        MigrationType="full-load-and-cdc",
        TableMappings=selection("orders"),
    )["ReplicationTask"]["ReplicationTaskArn"]
    try:
        deadline = time.monotonic() + 30
        while (
            dms.describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
            )["ReplicationTasks"][0]["Status"]
            != "ready"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        defs = component.build_defs_from_discovery(component.discover())
        key = "dms_task_shop_orders_cdc"
        assert {c.name for c in defs.get_assets_def(key).check_specs} == {
            "no_errored_tables",
            "cdc_latency_under_threshold",
        }
        result = dg.materialize([defs.get_assets_def(key)], raise_on_error=False)
        assert result.success
        [event] = result.get_asset_materialization_events()
        metadata = {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
        assert metadata["dms/status"] == "running"
        assert metadata["dms/phase"] == "replicating"
        assert metadata["dms/full_load_progress_percent"] == 100
        # A change after the load reaches the target through the slot.
        databases.psql("UPDATE shop.orders SET note = 'changed' WHERE id = 7", SOURCE_DB)
        deadline = time.monotonic() + 60
        while databases.table_checksum(TARGET_DB, "shop.orders") != databases.table_checksum(
            SOURCE_DB, "shop.orders"
        ):
            assert time.monotonic() < deadline, "the change never reached the target"
            time.sleep(0.2)
        checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
        assert checks["no_errored_tables"].passed
        assert "cdc_latency_under_threshold" in checks
    finally:
        # Stopping and deleting the task drops its replication slot, so the databases can go.
        dms.stop_replication_task(ReplicationTaskArn=arn)
        deadline = time.monotonic() + 60
        while dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
        )["ReplicationTasks"][0]["Status"] not in ("stopped", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        dms.delete_replication_task(ReplicationTaskArn=arn)
