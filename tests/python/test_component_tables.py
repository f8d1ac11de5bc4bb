"""Per-table assets (`import_tables: true`) on dms-local with real PostgreSQL: which tables a task
writes, their row counts against count(*) on the target, a failed table on its own asset, two
tasks writing one table, and ReloadTables from Dagster."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest

from dagster_dms import AWSDMSComponent
from dagster_dms.component.tables import TableProps, default_table_key, table_name
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_cluster_endpoint,
    create_migration_path,
    create_task,
    describe_task,
    selection_mappings,
    selection_rules,
    wait_until,
)
from dagster_dms.testing.counting_proxy import counting_proxy
from dms_local_fixture import (  # noqa: F401  (the fixtures: the data-plane `server`)
    boto3_dms,
    databases_fixture,
    drop_databases,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_component import keys, loaded

SOURCE_DB = "tables_source"
TARGET_DB = "tables_target"
SHARED_DB = "tables_shared"
SOURCE_SQL = """
CREATE TABLE public.alpha (id bigint PRIMARY KEY, val text);
INSERT INTO public.alpha SELECT g, 'a' || g FROM generate_series(1, 3000) g;
CREATE TABLE public.beta (id bigint PRIMARY KEY, val text);
INSERT INTO public.beta SELECT g, repeat('b', 100) || g FROM generate_series(1, 40000) g;
CREATE TABLE public.gamma (id bigint PRIMARY KEY, n integer);
INSERT INTO public.gamma SELECT g, g FROM generate_series(1, 700) g;
"""
TABLES = ("alpha", "beta", "gamma")
TIMEOUT = 180.0


@pytest.fixture(scope="module")
def tables_cluster(pg_cluster: PgCluster) -> Iterator[PgCluster]:
    """`pg_cluster` with the source (three tables in public) and two empty target databases."""
    pg_cluster.create_database(SOURCE_DB)
    pg_cluster.psql(SOURCE_SQL, SOURCE_DB)
    for db in (TARGET_DB, SHARED_DB):
        pg_cluster.create_database(db)
    yield pg_cluster
    drop_databases(pg_cluster, [SOURCE_DB, TARGET_DB, SHARED_DB])


class Account:
    """Endpoints and an instance on dms-local; tasks are created by each test."""

    def __init__(self, server: DmsLocalServer, cluster: PgCluster) -> None:
        self.dms = boto3_dms(server.url)
        self.url = server.url
        self.cluster = cluster
        self.source, self.target, self.instance = create_migration_path(
            self.dms, cluster, SOURCE_DB, TARGET_DB
        )
        self.shared = create_cluster_endpoint(self.dms, "shared", "target", cluster, SHARED_DB)

    def task(self, name: str, mappings: str, target: str = "", **extra: Any) -> str:
        return create_task(
            self.dms,
            name,
            source=self.source,
            target=target or self.target,
            instance=self.instance,
            table_mappings=mappings,
            **extra,
        )

    def attributes(self) -> dict[str, Any]:
        """The component's YAML attributes for this dms-local, with tables imported."""
        keys = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
        return {"aws_region": "us-east-1", "endpoint_url": self.url, **keys, "import_tables": True}

    def component(self) -> AWSDMSComponent:
        return AWSDMSComponent(**self.attributes(), generate_sensor=False)

    def statistics(self, arn: str) -> dict[str, dict[str, Any]]:
        tables = self.dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
        return {t["TableName"]: t for t in tables}

    def wait_status(self, arn: str, *statuses: str) -> dict[str, Any]:
        wait_until(
            lambda: describe_task(self.dms, arn)["Status"] in statuses,
            f"task in {statuses}",
            timeout=TIMEOUT,
        )
        return describe_task(self.dms, arn)

    def count(self, db: str, table: str) -> int:
        return int(self.cluster.psql(f"SELECT count(*) FROM {table}", db).strip())


@pytest.fixture
def account(server: DmsLocalServer, tables_cluster: PgCluster) -> Iterator[Account]:
    account = Account(server, tables_cluster)
    yield account
    for task in account.dms.describe_replication_tasks(WithoutSettings=True)["ReplicationTasks"]:
        if task["Status"] in ("running", "starting"):
            account.dms.stop_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"])
            account.wait_status(task["ReplicationTaskArn"], "stopped", "failed")


def build(component: AWSDMSComponent) -> tuple[dg.Definitions, list[str]]:
    state = component.discover()
    return component.build_defs_from_discovery(state), list(state.warnings)


def table_keys(defs: dg.Definitions) -> set[tuple[str, ...]]:
    return {
        tuple(key.path)
        for assets_def in defs.assets or []
        if isinstance(assets_def, dg.AssetsDefinition)
        for key in assets_def.keys
        if not key.path[-1].startswith("dms_")
    }


def materialize(
    defs: dg.Definitions, key: dg.AssetKey, run_config: dict[str, Any] | None = None
) -> dg.ExecuteInProcessResult:
    name = key.to_python_identifier()
    return dg.materialize(
        [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)],
        selection=[key],
        raise_on_error=False,
        run_config={"ops": {name: {"config": run_config}}} if run_config else None,
    )


def table_materializations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, ...], Any]:
    found = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
            if not materialization.asset_key.path[-1].startswith("dms_"):
                found[tuple(materialization.asset_key.path)] = materialization.metadata
    return found


def check_results(result: dg.ExecuteInProcessResult) -> dict[tuple[str, ...], bool]:
    return {
        tuple(c.asset_key.path): c.passed
        for c in result.get_asset_check_evaluations()
        if c.check_name == "dms_table_healthy"
    }


def test_wildcard_task_shows_its_tables_after_one_run_with_target_row_counts(
    account: Account,
) -> None:
    account.task("all-public", selection_rules("public", "%"))
    component = account.component()
    defs, warnings = build(component)
    assert table_keys(defs) == set()
    assert any("all-public" in w and "wildcard" in w for w in warnings), warnings

    assert materialize(defs, dg.AssetKey("dms_task_all_public")).success
    # Tasks writing: the refresh now reads the task's table statistics.
    defs, warnings = build(component)
    assert table_keys(defs) == {("public", t) for t in TABLES}
    assert not any("wildcard" in w for w in warnings), warnings
    spec = next(
        s for s in defs.resolve_all_asset_specs() if s.key == dg.AssetKey(["public", "alpha"])
    )
    assert {d.asset_key for d in spec.deps} == {dg.AssetKey("dms_task_all_public")}
    assert spec.metadata["dagster/table_name"] == f"{TARGET_DB}.public.alpha"

    # Rows change on the source; the next run reports what the target holds, table by table.
    account.cluster.psql("DELETE FROM public.gamma WHERE id <= 100", SOURCE_DB)
    try:
        result = materialize(defs, dg.AssetKey("dms_task_all_public"))
    finally:
        account.cluster.psql(
            "INSERT INTO public.gamma SELECT g, g FROM generate_series(1, 100) g", SOURCE_DB
        )
    assert result.success
    events = table_materializations(result)
    assert set(events) == {("public", t) for t in TABLES}
    for table in TABLES:
        metadata = events[("public", table)]
        assert metadata["dagster/row_count"].value == account.count(TARGET_DB, f"public.{table}")
        assert metadata["dms/table_state"].value == "Table completed"
    assert events[("public", "gamma")]["dagster/row_count"].value == 600
    assert check_results(result) == {("public", t): True for t in TABLES}


def test_transformation_rules_and_translation_shape_the_keys(account: Account) -> None:
    mappings = selection_mappings("public", "alpha")
    mappings["rules"] += [
        {
            "rule-type": "transformation",
            "rule-id": "2",
            "rule-name": "2",
            "rule-target": "schema",
            "object-locator": {"schema-name": "public"},
            "rule-action": "rename",
            "value": "warehouse",
        },
        {
            "rule-type": "transformation",
            "rule-id": "3",
            "rule-name": "3",
            "rule-target": "table",
            "object-locator": {"schema-name": "public", "table-name": "%"},
            "rule-action": "add-prefix",
            "value": "raw_",
        },
    ]
    account.task("renamed", json.dumps(mappings))
    defs, _ = build(account.component())
    # Exact names are known before the task ever ran.
    assert table_keys(defs) == {("warehouse", "raw_alpha")}
    # translation (YAML, as users write it) sees the table's names and its task.
    attributes = {
        **account.attributes(),
        "translation": {
            "key": "{{ 'tables/' ~ props.task ~ '/' ~ props.target_table "
            "if props.kind == 'table' else 'dms_task_' ~ props.identifier }}"
        },
    }
    with loaded(attributes) as (_, translated, _root):
        assert keys(translated) == {"tables/renamed/raw_alpha", "dms_task_renamed"}


def test_full_load_and_cdc_tasks_write_one_table_together(account: Account) -> None:
    mappings = selection_rules("public", "beta")
    loads = [account.task(f"beta-load-{n}", mappings, account.shared) for n in (1, 2)]
    cdc = account.task("beta-cdc", mappings, account.shared, migration_type="cdc")
    # All three prepare the same target table at the same time (PostgreSQL answers concurrent
    # CREATE TABLE of one name with a duplicate key on its catalog unless they take turns).
    for arn in (*loads, cdc):
        account.dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
    for arn in loads:
        loaded = account.wait_status(arn, "stopped", "failed")
        assert loaded["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", loaded
        assert account.statistics(arn)["beta"]["TableState"] == "Table completed"
    running = account.wait_status(cdc, "running", "failed", "stopped")
    assert running["Status"] == "running", running
    assert account.count(SHARED_DB, "public.beta") == 40000

    defs, _ = build(account.component())
    spec = next(
        s for s in defs.resolve_all_asset_specs() if s.key == dg.AssetKey(["public", "beta"])
    )
    assert {d.asset_key for d in spec.deps} == {
        dg.AssetKey("dms_task_beta_load_1"),
        dg.AssetKey("dms_task_beta_load_2"),
        dg.AssetKey("dms_task_beta_cdc"),
    }


def test_a_failing_table_fails_its_own_asset_check(account: Account) -> None:
    # The target table exists and refuses the rows: a load with DO_NOTHING keeps it and fails.
    account.cluster.psql(
        "DROP TABLE IF EXISTS public.gamma;"
        "CREATE TABLE public.gamma (id bigint PRIMARY KEY, n integer CHECK (n < 0));",
        TARGET_DB,
    )
    try:
        account.task(
            "gamma-bad",
            selection_rules("public", "gamma"),
            ReplicationTaskSettings=json.dumps(
                {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}}
            ),
        )
        defs, _ = build(account.component())
        result = materialize(defs, dg.AssetKey("dms_task_gamma_bad"))
    finally:
        account.cluster.psql("DROP TABLE public.gamma;", TARGET_DB)
    # The task finished (with a table in error); the table shows failed on its own asset.
    assert check_results(result) == {("public", "gamma"): False}
    assert table_materializations(result)[("public", "gamma")]["dms/table_state"].value == (
        "Table error"
    )
    [evaluation] = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "dms_table_healthy"
    ]
    assert "Table error" in (evaluation.description or ""), evaluation.description


def test_reload_tables_reloads_only_the_named_table_of_a_running_task(account: Account) -> None:
    arn = account.task("flc", selection_rules("public", "%"), migration_type="full-load-and-cdc")
    account.dms.start_replication_task(
        ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
    )
    account.wait_status(arn, "running")
    wait_until(
        lambda: (
            all(t["TableState"] == "Table completed" for t in account.statistics(arn).values())
            and len(account.statistics(arn)) == 3
        ),
        "every table loaded",
        timeout=TIMEOUT,
    )
    before = account.statistics(arn)
    defs, _ = build(account.component())
    result = materialize(defs, dg.AssetKey("dms_task_flc"), {"reload_tables": ["public.beta"]})
    assert result.success, result.get_step_failure_events()
    after = account.statistics(arn)
    assert after["beta"]["FullLoadReloaded"] is True
    assert after["beta"]["FullLoadEndTime"] != before["beta"]["FullLoadEndTime"]
    for untouched in ("alpha", "gamma"):
        assert after[untouched] == before[untouched] | {
            "LastUpdateTime": after[untouched]["LastUpdateTime"]
        }
    # The run then reports the running task and every table it writes.
    assert set(table_materializations(result)) == {("public", t) for t in TABLES}
    assert account.count(TARGET_DB, "public.beta") == 40000

    # Materializing a table asset of the running task reloads that table the same way.
    table_result = materialize(defs, dg.AssetKey(["public", "gamma"]))
    assert table_result.success, table_result.get_step_failure_events()
    assert account.statistics(arn)["gamma"]["FullLoadReloaded"] is True
    assert account.statistics(arn)["alpha"]["FullLoadReloaded"] is False


def test_reloading_a_table_of_a_stopped_task_explains_what_dms_allows(account: Account) -> None:
    arn = account.task("stopped-one", selection_rules("public", "alpha"))
    defs, _ = build(account.component())
    result = materialize(defs, dg.AssetKey(["public", "alpha"]))
    assert not result.success
    [failure] = result.get_step_failure_events()
    data = failure.step_failure_data.user_failure_data
    assert data is not None
    assert "only while the task is running" in (data.description or ""), data.description
    assert describe_task(account.dms, arn)["Status"] == "ready"


def test_s3_target_keys_name_the_bucket_folder_schema_and_table() -> None:
    def props(engine: str, folder: str | None, bucket: str | None = "bucket") -> TableProps:
        # source public.orders -> target sales.orders, written by task t
        names = ("public", "orders", "sales", "orders", "t", "arn", "e")
        return TableProps(*names, engine, "us-east-1", "warehouse", bucket, folder)

    assert default_table_key(props("s3", "raw/dms")) == dg.AssetKey(
        ["raw", "dms", "sales", "orders"]
    )
    assert default_table_key(props("s3", None)) == dg.AssetKey(["bucket", "sales", "orders"])
    assert default_table_key(props("postgres", None)) == dg.AssetKey(["sales", "orders"])
    assert table_name(props("postgres", None)) == "warehouse.sales.orders"
    assert table_name(props("s3", "raw")) == "sales.orders"


def test_sensor_reads_table_statistics_only_for_tasks_that_changed(account: Account) -> None:
    loaded_arn = account.task("sensed", selection_rules("public", "alpha"))
    account.task("idle", selection_rules("public", "gamma"))
    with counting_proxy(account.url) as proxy:
        component = AWSDMSComponent(**{**account.attributes(), "endpoint_url": proxy.url})
        defs, _ = build(component)
        sensor = defs.get_sensor_def("aws_dms_observation_sensor")
        with dg.instance_for_test() as instance:
            context = dg.build_sensor_context(instance=instance, definitions=defs)
            first = sensor.evaluate_tick(context)
            account.dms.start_replication_task(
                ReplicationTaskArn=loaded_arn, StartReplicationTaskType="start-replication"
            )
            account.wait_status(loaded_arn, "stopped")
            proxy.reset()
            second = sensor.evaluate_tick(
                dg.build_sensor_context(instance=instance, cursor=first.cursor, definitions=defs)
            )
    # Only the task that moved has its tables read: one listing, not one call per table or task.
    assert proxy.counts["DescribeTableStatistics"] == 1
    observed = {
        tuple(e.asset_key.path): e.metadata
        for e in second.asset_events
        if isinstance(e, dg.AssetObservation) and not e.asset_key.path[-1].startswith("dms_")
    }
    assert set(observed) == {("public", "alpha")}
    assert observed[("public", "alpha")]["dagster/row_count"].value == 3000
