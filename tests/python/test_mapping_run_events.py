"""The core's verdict on a run as Dagster events, without any server: the results are built the
way ``DmsClient.run_task`` / ``run_replication`` return them (models from API-shaped JSON)."""

from __future__ import annotations

import dataclasses
import inspect
import logging
from typing import Any

import dagster as dg
import pytest

from dagster_dms import models
from dagster_dms.client import DmsClient, ReplicationRunResult, TaskRunResult
from dagster_dms.component.replication_run import replication_event
from dagster_dms.component.state import ReplicationState, TaskState
from dagster_dms.component.task_run import (
    CHECK_CDC_LATENCY,
    CHECK_NO_ERRORED_TABLES,
    CHECK_VALIDATION,
    TaskRunSettings,
    run_events,
)

KEY = dg.AssetKey("dms_task_orders")
SETTINGS = TaskRunSettings(
    start_type="start-replication",
    start_timeout_seconds=60,
    completion_timeout_seconds=None,
    stop_task_on_termination=True,
    cdc_latency_threshold_seconds=30,
)


def task_state(migration_type: str, *, validation: bool = False) -> TaskState:
    arn = "arn:aws:dms:us-east-1:123456789012:task:ORDERS"
    state = TaskState("orders", arn, migration_type, "src", "tgt", "inst", "ready")
    return dataclasses.replace(state, validation_enabled=validation)


def table(name: str, state: str = "Table completed", **counts: Any) -> models.TableStatistics:
    return models.TableStatistics.from_api(
        {"SchemaName": "public", "TableName": name, "TableState": state, **counts}
    )


def task_result(
    outcome: str,
    migration_type: str = "full-load",
    *,
    tables: list[models.TableStatistics] | None = None,
    **task: Any,
) -> TaskRunResult:
    return TaskRunResult(
        outcome=outcome,
        phase="succeeded" if outcome == "succeeded" else "failed",
        task=models.ReplicationTask.from_api(
            {
                "MigrationType": migration_type,
                "Status": "stopped",
                "StopReason": "Stop Reason FULL_LOAD_ONLY_FINISHED",
                "ReplicationTaskStats": {
                    "FullLoadProgressPercent": 100,
                    "TablesLoaded": 2,
                    "TablesErrored": 0,
                    "StopDate": "2026-12-06T09:00:00Z",
                },
                **task,
            }
        ),
        started=True,
        start_type_sent="start-replication",
        message=f"the task {outcome}",
        notes=["sent start-replication: the task had never run"],
        waited_seconds=12.34,
        table_statistics=tables,
    )


def events(
    state: TaskState,
    result: TaskRunResult,
    *,
    latency: dict[str, float] | None = None,
    log_tail: tuple[str, ...] = (),
    check_names: list[str] | None = None,
) -> list[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    return list(
        run_events(
            KEY,
            state,
            result,
            latency=latency or {},
            log_tail=log_tail,
            notes=[],
            settings=SETTINGS,
            check_names=check_names,
        )
    )


def test_a_succeeded_full_load_is_a_materialization_with_the_verdict_and_the_tables() -> None:
    result = task_result(
        "succeeded", tables=[table("orders", FullLoadRows=1000), table("items", FullLoadRows=7)]
    )
    materialization, check = events(task_state("full-load"), result)
    assert isinstance(materialization, dg.MaterializeResult)
    metadata = materialization.metadata or {}
    assert metadata["dms/outcome"] == "succeeded"
    assert metadata["dms/stop_reason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert metadata["dms/start_type_sent"] == "start-replication"
    assert metadata["dms/waited_seconds"] == 12.3
    assert metadata["dms/full_load_rows"] == 1007
    assert metadata["dms/stop_date"] == "2026-12-06T09:00:00+00:00"
    assert metadata["dms/notes"] == "sent start-replication: the task had never run"
    statistics = metadata["dms/table_statistics"]
    assert isinstance(statistics, dg.TableMetadataValue)
    assert [r.data["table"] for r in statistics.value.records] == ["orders", "items"]
    # A full load has no CDC counters, no checkpoint and no latency.
    assert not [k for k in metadata if k.startswith(("dms/cdc_", "dms/CDC"))]
    assert "dms/recovery_checkpoint" not in metadata
    assert isinstance(check, dg.AssetCheckResult)
    assert (check.check_name, check.passed) == (CHECK_NO_ERRORED_TABLES, True)


def test_an_errored_table_fails_its_check_and_validation_failures_fail_theirs() -> None:
    result = task_result(
        "succeeded",
        tables=[
            table("orders", "Table error"),
            table("items", ValidationFailedRecords=3, ValidationState="Mismatched records"),
        ],
    )
    _, errored, validation = events(task_state("full-load", validation=True), result)
    assert isinstance(errored, dg.AssetCheckResult)
    assert isinstance(validation, dg.AssetCheckResult)
    assert (errored.check_name, errored.passed) == (CHECK_NO_ERRORED_TABLES, False)
    assert errored.metadata["tables"].value == "public.orders"
    assert (validation.check_name, validation.passed) == (CHECK_VALIDATION, False)
    assert validation.metadata["validation_failed_records"].value == 3


def test_a_cdc_run_reports_changes_checkpoint_and_latency_against_the_threshold() -> None:
    result = task_result(
        "succeeded",
        "full-load-and-cdc",
        tables=[
            table("orders", Inserts=5, AppliedInserts=4, Deletes=1, AppliedDeletes=1),
            table("items", Inserts=2, AppliedInserts=2, Updates=3, AppliedUpdates=3),
        ],
        Status="running",
        StopReason="",
        RecoveryCheckpoint="checkpoint:V1#27#0/16B3A28",
    )
    latency = {"CDCLatencySource": 2.0, "CDCLatencyTarget": 45.5}
    materialization, _, check = events(task_state("full-load-and-cdc"), result, latency=latency)
    assert isinstance(materialization, dg.MaterializeResult)
    metadata = materialization.metadata or {}
    assert metadata["dms/cdc_inserts"] == 7
    assert metadata["dms/cdc_applied_inserts"] == 6
    assert metadata["dms/cdc_updates"] == 3
    assert metadata["dms/cdc_deletes"] == 1
    assert metadata["dms/recovery_checkpoint"] == "checkpoint:V1#27#0/16B3A28"
    assert metadata["dms/CDCLatencySource_seconds"] == 2.0
    assert metadata["dms/CDCLatencyTarget_seconds"] == 45.5
    assert isinstance(check, dg.AssetCheckResult)
    assert (check.check_name, check.passed) == (CHECK_CDC_LATENCY, False)
    assert check.metadata["threshold_seconds"].value == 30


def test_checks_not_selected_are_not_yielded() -> None:
    found = events(task_state("cdc"), task_result("succeeded", "cdc"), check_names=[])
    assert [type(event) for event in found] == [dg.MaterializeResult]


def test_a_failed_run_raises_a_failure_with_the_cause_and_the_log_tail() -> None:
    result = task_result(
        "failed",
        Status="failed",
        StopReason="Stop Reason FATAL_ERROR",
        LastFailureMessage="relation public.orders does not exist",
    )
    with pytest.raises(dg.Failure) as raised:
        events(task_state("full-load"), result, log_tail=("]E:  table not found",))
    failure = raised.value
    assert failure.description is not None
    assert failure.description.splitlines() == [
        "DMS task orders failed: the task failed",
        "LastFailureMessage: relation public.orders does not exist",
        "Last error lines of the task log:",
        "  ]E:  table not found",
    ]
    assert failure.metadata["dms/outcome"].value == "failed"
    assert failure.metadata["dms/log_tail"].value == "]E:  table not found"


REPLICATION = ReplicationState(
    "orders-serverless",
    "arn:aws:dms:us-east-1:123456789012:replication-config:CFG",
    "cdc",
    "src",
    "tgt",
)


def replication_result(outcome: str, stop_reason: str) -> ReplicationRunResult:
    return ReplicationRunResult(
        outcome=outcome,
        phase="succeeded" if outcome == "succeeded" else "failed",
        replication=models.Replication.from_api(
            {
                "Status": "stopped",
                "StopReason": stop_reason,
                "RecoveryCheckpoint": "checkpoint:V1#1",
                "ReplicationStats": {"TablesLoaded": 3, "FullLoadProgressPercent": 100},
            }
        ),
        started=False,
        start_type_sent="",
        message=f"judged {outcome}",
        notes=[],
        waited_seconds=1.0,
    )


def test_a_succeeded_replication_is_a_materialization_with_the_verdict() -> None:
    result = replication_result("succeeded", "Stop Reason STOPPED_AT_SERVER_TIME")
    event = replication_event(dg.AssetKey("dms_replication_x"), REPLICATION, result)
    metadata = event.metadata or {}
    assert metadata["dms/verdict"] == "judged succeeded"
    assert metadata["dms/stop_reason"] == "Stop Reason STOPPED_AT_SERVER_TIME"
    assert metadata["dms/start_type_sent"] == "(not started: already running)"
    assert metadata["dms/tables_loaded"] == 3
    assert metadata["dms/recovery_checkpoint"] == "checkpoint:V1#1"
    assert "dms/tables_queued" not in metadata  # a replication's statistics have none
    assert "dms/notes" not in metadata


def test_a_failed_replication_raises_a_failure_with_the_same_metadata() -> None:
    result = replication_result("failed", "Stop Reason FATAL_ERROR")
    with pytest.raises(dg.Failure, match="orders-serverless failed: judged failed") as raised:
        replication_event(dg.AssetKey("dms_replication_x"), REPLICATION, result)
    assert raised.value.metadata["dms/stop_reason"].value == "Stop Reason FATAL_ERROR"


def test_the_run_options_fit_both_runs_and_never_ask_to_stop() -> None:
    options = SETTINGS.run_options(logging.getLogger("run"), "orders")
    for run in (DmsClient.run_task, DmsClient.run_replication):
        assert set(options) <= set(inspect.signature(run).parameters), run.__name__
    assert options["start_timeout"] == 60
    assert options["stop_on_cancel"] is True
    assert options["should_stop"]() is False
