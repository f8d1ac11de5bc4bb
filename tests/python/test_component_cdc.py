"""The component's CDC story on dms-local, end to end: cdc and full-load-and-cdc tasks materialize
once replicating, later changes reach the target and show in the metadata, the CDC latency check
passes, fails under an injected apply delay and passes again, and the sensor observes the running
task's latency and progress. Real PostgreSQL, real dms-local, nothing mocked."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import dagster as dg
import pytest

from dagster_dms import AWSDMSComponent
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_cluster_endpoint,
    create_task,
    local_client,
    selection_rules,
)
from dms_local_fixture import (  # noqa: F401  (the fixtures)
    boto3_dms,
    databases_fixture,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

SCHEMA_SQL = """
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id bigint PRIMARY KEY, amount numeric(12,2), note text);
"""
SEED_SQL = (
    "INSERT INTO shop.orders SELECT g, g * 0.5, 'order ' || g FROM generate_series(1, 1000) g;"
)
SEED_ROWS = 1000
# One statement per line, each its own source transaction: 50 inserts, 10 updates, 5 deletes.
CHANGES_SQL = "\n".join(
    [
        *(f"INSERT INTO shop.orders VALUES ({5000 + i}, {i}, 'new {i}');" for i in range(50)),
        *(f"UPDATE shop.orders SET note = 'changed' WHERE id = {i};" for i in range(1, 11)),
        *(f"DELETE FROM shop.orders WHERE id = {i};" for i in range(11, 16)),
    ]
)
MAPPINGS = selection_rules("shop", "orders", rule_name="shop")
KEY = "dms_task_orders_cdc"
CHECK = "cdc_latency_under_threshold"
THRESHOLD_SECONDS = 5.0
# dms-local publishes every 200 ms (the `server` fixture's DATA_PLANE_ARGS) and the component
# reads 1-second periods, so a change of latency shows within a second or two instead of
# CloudWatch's minute.
PERIOD_SECONDS = 1


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class Task:
    """One replication task between a source and a target database of the cluster."""

    def __init__(
        self,
        server: DmsLocalServer,
        cluster: PgCluster,
        made: list[str],
        name: str,
        migration_type: str,
    ) -> None:
        self.server = server
        self.cluster = cluster
        self.dms = boto3_dms(server.url)
        self.source = self._database(made, f"{name}_source", SCHEMA_SQL + SEED_SQL)
        # A cdc task replicates into existing tables: its target starts as a copy of the source.
        target_sql = SCHEMA_SQL + SEED_SQL if migration_type == "cdc" else ""
        self.target = self._database(made, f"{name}_target", target_sql)
        instance = create_available_instance(self.dms, "local")
        self.arn = create_task(
            self.dms,
            "orders-cdc",
            source=self._endpoint("orders-source", "source", self.source),
            target=self._endpoint("orders-target", "target", self.target),
            instance=instance,
            table_mappings=MAPPINGS,
            migration_type=migration_type,
        )

    def _database(self, made: list[str], name: str, sql: str) -> str:
        self.cluster.create_database(name)
        made.append(name)
        if sql:
            self.cluster.psql(sql, name)
        return name

    def _endpoint(self, name: str, kind: str, database: str) -> str:
        return create_cluster_endpoint(
            self.dms, name, kind, self.cluster, database, password="cdc-secret-pw"
        )

    def describe(self) -> dict[str, Any]:
        tasks = self.dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [self.arn]}]
        )["ReplicationTasks"]
        return dict(tasks[0])

    def capturing(self) -> bool:
        """Running with a stored position: the slot exists, so no later change is missed.

        `running` alone already says so (dms-local shows a CDC task `starting` until its slot
        holds a position); the stored checkpoint makes the test independent of that rule."""
        task = self.describe()
        assert task["Status"] == "running", task
        return "RecoveryCheckpoint" in task

    def in_sync(self) -> bool:
        table = "shop.orders"
        return self.cluster.table_checksum(self.source, table) == self.cluster.table_checksum(
            self.target, table
        )

    def table_statistics(self) -> dict[str, Any]:
        [table] = self.dms.describe_table_statistics(ReplicationTaskArn=self.arn)["TableStatistics"]
        return dict(table)

    def latest_metric(self, metric: str) -> float | None:
        end = dt.datetime.now(dt.timezone.utc)
        cloudwatch = self.server_client("cloudwatch")
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/DMS",
                            "MetricName": metric,
                            "Dimensions": [
                                {"Name": "ReplicationInstanceIdentifier", "Value": "local"},
                                {
                                    "Name": "ReplicationTaskIdentifier",
                                    "Value": self.arn.rsplit(":", 1)[1],
                                },
                            ],
                        },
                        "Period": PERIOD_SECONDS,
                        "Stat": "Average",
                    },
                }
            ],
            StartTime=end - dt.timedelta(minutes=2),
            EndTime=end + dt.timedelta(seconds=5),
            ScanBy="TimestampDescending",
        )["MetricDataResults"][0]
        return float(answer["Values"][0]) if answer["Values"] else None

    def server_client(self, service: str) -> Any:
        return local_client(self.server.url, service, max_attempts=None)

    def stop_and_delete(self) -> None:
        """Stopping and deleting the task drops its slot, so the databases can go."""
        if self.describe()["Status"] in ("starting", "running"):
            self.dms.stop_replication_task(ReplicationTaskArn=self.arn)
        wait_until(lambda: self.describe()["Status"] in ("stopped", "failed"), "the stop")
        self.dms.delete_replication_task(ReplicationTaskArn=self.arn)


class Writer:
    """Commits one insert every 100 ms on the source until stopped, through one psql session."""

    def __init__(self, cluster: PgCluster, database: str) -> None:
        self._process = subprocess.Popen(
            [str(cluster.bindir / "psql"), "-X", "-q", "-d", cluster.dsn(database)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.written = 0

    def _run(self) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        while not self._stop.wait(0.1):
            self.written += 1
            stdin.write(f"INSERT INTO shop.orders VALUES ({100000 + self.written}, 1, 'live');\n")
            stdin.flush()

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._process.communicate(timeout=30)


def build_defs(server: DmsLocalServer) -> dg.Definitions:
    component = AWSDMSComponent(
        aws_region="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        cdc_latency_threshold_seconds=THRESHOLD_SECONDS,
        cdc_metrics_period_seconds=PERIOD_SECONDS,
    )
    return component.build_defs_from_discovery(component.discover())


def materialize(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize([defs.get_assets_def(KEY)], instance=instance, raise_on_error=False)


def metadata_of(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [event] = result.get_asset_materialization_events()
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}


def check_of(result: dg.ExecuteInProcessResult) -> Any:
    [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == CHECK]
    return check


class SensorTicks:
    """Evaluates the component's sensor tick after tick, carrying the cursor along."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
        self.defs = defs
        self.instance = instance
        self.sensor = defs.get_sensor_def("aws_dms_observation_sensor")
        self.cursor: str | None = None
        self.observed: list[dg.AssetObservation] = []

    def tick(self) -> tuple[list[dg.AssetObservation], list[dg.AssetCheckEvaluation]]:
        result = self.sensor.evaluate_tick(
            dg.build_sensor_context(
                instance=self.instance, cursor=self.cursor, definitions=self.defs
            )
        )
        self.cursor = result.cursor
        events = result.asset_events
        observations = [e for e in events if isinstance(e, dg.AssetObservation)]
        evaluations = [e for e in events if isinstance(e, dg.AssetCheckEvaluation)]
        assert len(observations) + len(evaluations) == len(events), events
        self.observed.extend(observations)
        return observations, evaluations

    def until(
        self, condition: Callable[[dg.AssetCheckEvaluation], bool], what: str
    ) -> dg.AssetCheckEvaluation:
        """Ticks until the latency check's evaluation meets `condition`; returns it."""
        found: list[dg.AssetCheckEvaluation] = []

        def met() -> bool:
            _, evaluations = self.tick()
            found[:] = [e for e in evaluations if e.check_name == CHECK and condition(e)]
            return bool(found)

        wait_until(met, what)
        return found[0]


def worst_latency(evaluation: dg.AssetCheckEvaluation | dg.AssetCheckResult) -> float:
    return max(
        cast(float, evaluation.metadata[f"{m}_seconds"].value)
        for m in ("CDCLatencySource", "CDCLatencyTarget")
    )


@pytest.mark.parametrize("migration_type", ["cdc", "full-load-and-cdc"])
def test_a_cdc_task_materializes_replicates_and_is_observed(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str], migration_type: str
) -> None:
    name = "component_" + migration_type.replace("-", "_")
    task = Task(server, pg_cluster, databases, name, migration_type)
    try:
        defs = build_defs(server)
        with dg.instance_for_test() as instance:
            first = materialize(defs, instance)
            assert first.success
            metadata = metadata_of(first)
            assert metadata["dms/status"] == "running"
            assert metadata["dms/phase"] == "replicating"
            assert metadata["dms/start_type_sent"] == "start-replication"
            if migration_type == "full-load-and-cdc":
                assert metadata["dms/full_load_rows"] == SEED_ROWS
                assert metadata["dms/full_load_progress_percent"] == 100
            # Judged by the run: passed, with the measured latency or a note that CloudWatch
            # has no datapoint yet.
            assert check_of(first).passed

            wait_until(task.capturing, "the replication slot")
            pg_cluster.psql(CHANGES_SQL, task.source)
            wait_until(task.in_sync, "the changes to reach the target")
            wait_until(lambda: task.table_statistics()["AppliedDeletes"] == 5, "the applied counts")
            wait_until(
                lambda: task.latest_metric("CDCLatencyTarget") is not None, "a latency datapoint"
            )

            # A running task is not started again: the run reports where it stands.
            again = materialize(defs, instance)
            assert again.success
            metadata = metadata_of(again)
            assert metadata["dms/start_type_sent"] == "(not started: already running)"
            assert "already running" in metadata["dms/notes"]
            assert metadata["dms/phase"] == "replicating"
            assert metadata["dms/recovery_checkpoint"].startswith("checkpoint:V1#")
            counts = {k: v for k, v in metadata.items() if k.startswith("dms/cdc_")}
            assert counts == {
                "dms/cdc_inserts": 50,
                "dms/cdc_applied_inserts": 50,
                "dms/cdc_updates": 10,
                "dms/cdc_applied_updates": 10,
                "dms/cdc_deletes": 5,
                "dms/cdc_applied_deletes": 5,
                "dms/cdc_ddls": 0,
                "dms/cdc_applied_ddls": 0,
            }
            [row] = metadata["dms/table_statistics"].records
            assert row.data["applied_inserts"] == 50 and row.data["table"] == "orders"
            for name in ("CDCLatencySource", "CDCLatencyTarget"):
                assert 0 <= metadata[f"dms/{name}_seconds"] < THRESHOLD_SECONDS, metadata
            check = check_of(again)
            assert check.passed
            assert check.metadata["threshold_seconds"].value == THRESHOLD_SECONDS
            assert "CDCLatencyTarget_seconds" in check.metadata

            # The sensor observes the running task with its latency and position. Once caught
            # up (latencies 0), a tick with nothing changed emits no observation, only the check.
            ticks = SensorTicks(defs, instance)
            observed: list[dg.AssetObservation] = []

            def caught_up() -> bool:
                observations, _ = ticks.tick()
                observed.extend(observations)
                facts = json.loads(ticks.cursor or "{}")["tasks"][task.arn]
                return bool(
                    facts.get("CDCLatencySource_seconds") == 0
                    and facts.get("CDCLatencyTarget_seconds") == 0
                    and facts.get("CDCIncomingChanges") == 0
                )

            wait_until(caught_up, "the sensor to see the task caught up")
            latest = observed[-1].metadata
            assert observed[-1].asset_key == dg.AssetKey(KEY)
            assert latest["dms/status"].value == "running"
            assert latest["dms/CDCLatencyTarget_seconds"].value == 0
            assert str(latest["dms/recovery_checkpoint"].value).startswith("checkpoint:V1#")
            observations, evaluations = ticks.tick()
            assert observations == []
            assert [(e.check_name, e.passed) for e in evaluations] == [(CHECK, True)]
            # A new change is CDC progress: the next tick observes the new position.
            pg_cluster.psql("INSERT INTO shop.orders VALUES (9999, 1, 'one more')", task.source)
            wait_until(task.in_sync, "one more change")
            wait_until(
                lambda: (
                    task.describe()["RecoveryCheckpoint"] != latest["dms/recovery_checkpoint"].value
                ),
                "the new position",
            )
            observations, _ = ticks.tick()
            assert [o.asset_key for o in observations] == [dg.AssetKey(KEY)]
    finally:
        task.stop_and_delete()


def test_the_latency_check_follows_an_injected_apply_delay(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    task = Task(server, pg_cluster, databases, "component_lag", "cdc")
    try:
        defs = build_defs(server)
        with dg.instance_for_test() as instance:
            assert materialize(defs, instance).success
            wait_until(task.capturing, "the replication slot")
            ticks = SensorTicks(defs, instance)
            with Writer(pg_cluster, task.source) as writer:
                # No lag: changes are applied as they come and the check passes.
                passing = ticks.until(lambda e: e.passed, "a passing latency check")
                assert worst_latency(passing) <= THRESHOLD_SECONDS

                # Each commit now waits 2 s while a change arrives every 100 ms: the backlog,
                # and with it CDCLatencySource/Target, grows about a second per second.
                assert server.faults({"cdc_apply_delay_ms": 2000})["cdc_apply_delay_ms"] == 2000
                failing = ticks.until(lambda e: not e.passed, "a failing latency check")
                assert worst_latency(failing) > THRESHOLD_SECONDS
                assert failing.metadata["threshold_seconds"].value == THRESHOLD_SECONDS
                # The ticks observed the latency as it grew.
                lags = [
                    cast(float, value.value)
                    for o in ticks.observed
                    for name, value in o.metadata.items()
                    if name in ("dms/CDCLatencySource_seconds", "dms/CDCLatencyTarget_seconds")
                ]
                assert max(lags) > THRESHOLD_SECONDS, lags
                # A materialization now reports the check failing, with the measured values.
                lagging = materialize(defs, instance)
                assert lagging.success
                check = check_of(lagging)
                assert not check.passed
                assert worst_latency(check) > THRESHOLD_SECONDS, check.metadata
                metadata = metadata_of(lagging)
                for name in ("CDCLatencySource", "CDCLatencyTarget"):
                    measured = check.metadata[f"{name}_seconds"].value
                    assert metadata[f"dms/{name}_seconds"] == measured
                assert server.faults()["counters"]["cdc_commits_delayed"] > 0

                # Without the delay the backlog drains and the check passes again.
                server.faults({"cdc_apply_delay_ms": 0})
                ticks.until(lambda e: e.passed, "the latency check to pass again")
                assert writer.written > 0
            wait_until(task.in_sync, "every write to reach the target")

            # A stop is not held up by the delay: it cuts the wait of the commit in progress.
            delayed = server.faults()["counters"]["cdc_commits_delayed"]
            server.faults({"cdc_apply_delay_ms": 30000})
            pg_cluster.psql("INSERT INTO shop.orders VALUES (9999, 1, 'waits')", task.source)
            wait_until(
                lambda: server.faults()["counters"]["cdc_commits_delayed"] > delayed,
                "the commit to wait",
            )
            task.dms.stop_replication_task(ReplicationTaskArn=task.arn)
            wait_until(
                lambda: task.describe()["Status"] == "stopped",
                "the stop to end the 30 s wait early",
                timeout=20,
            )
            assert task.describe()["StopReason"] == "Stop Reason NORMAL"
    finally:
        task.stop_and_delete()
