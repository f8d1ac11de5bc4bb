"""The demo's seeding is idempotent: a second `make demo` reuses the dms-local state, points the
endpoints at the new PostgreSQL port and leaves the tasks as they are."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from dagster_dms.testing import DmsLocalServer, PgCluster

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_script", REPO_ROOT / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seeding_twice_updates_endpoints_and_keeps_tasks(
    demo_script: ModuleType, dms_local: DmsLocalServer, dms_local_postgres: PgCluster
) -> None:
    demo_script.seed_dms(dms_local, dms_local_postgres)
    dms = dms_local.boto3_client()
    tasks = {
        t["ReplicationTaskIdentifier"]: t
        for t in dms.describe_replication_tasks()["ReplicationTasks"]
    }
    assert set(tasks) == set(demo_script.TASKS)
    assert {t["MigrationType"] for t in tasks.values()} == {"full-load", "cdc", "full-load-and-cdc"}
    settings = json.loads(tasks["prod-orders-full-load"]["ReplicationTaskSettings"])
    assert settings["Logging"]["EnableLogging"] is True
    tags = dms.list_tags_for_resource(
        ResourceArn=tasks["prod-orders-full-load"]["ReplicationTaskArn"]
    )
    assert {(t["Key"], t["Value"]) for t in tags["TagList"]} == {("env", "prod"), ("team", "data")}

    # A second run: PostgreSQL came back on another port.
    moved = SimpleNamespace(
        host=dms_local_postgres.host,
        port=dms_local_postgres.port + 1,
        user=dms_local_postgres.user,
    )
    demo_script.seed_dms(dms_local, moved)
    ports = {e["EndpointIdentifier"]: e["Port"] for e in dms.describe_endpoints()["Endpoints"]}
    assert ports == {
        "prod-shop-source": moved.port,
        "prod-warehouse-target": moved.port,
    }
    again = {
        t["ReplicationTaskIdentifier"]: t["ReplicationTaskArn"]
        for t in dms.describe_replication_tasks()["ReplicationTasks"]
    }
    assert again == {name: task["ReplicationTaskArn"] for name, task in tasks.items()}


def test_the_shop_has_about_the_requested_rows(
    demo_script: ModuleType, dms_local_postgres: PgCluster
) -> None:
    pg = dms_local_postgres
    pg.create_database("demo_seed_shop")
    try:
        pg.psql(demo_script.shop_sql(10000), "demo_seed_shop")
        total = pg.psql(
            "SELECT (SELECT count(*) FROM shop.customers) + (SELECT count(*) FROM shop.products)"
            " + (SELECT count(*) FROM shop.orders) + (SELECT count(*) FROM shop.order_items)",
            "demo_seed_shop",
        )
        assert int(total) == 10000
        pg.psql(demo_script.change_sql(), "demo_seed_shop")
        assert int(pg.psql("SELECT count(*) FROM shop.orders", "demo_seed_shop")) == 3001
    finally:
        pg.drop_database("demo_seed_shop")
