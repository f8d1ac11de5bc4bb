"""The sensor's mapping of the core watcher's look to Dagster events and its cursor, without any
server: a look is built the way ``DmsClient.watch_tasks`` returns it."""

from __future__ import annotations

import json
import logging
from typing import Any

import dagster as dg
import pytest

from dagster_dms.client import TaskWatch, WatchResult
from dagster_dms.component.metadata import DmsMetadataSet
from dagster_dms.component.sensor import (
    DmsSensorCursor,
    WatchedTask,
    _reported_by_dagster,
    load_cursor,
    load_cursor_notes,
    tick_result,
)
from dagster_dms.component.state import TaskState
from dagster_dms.component.task_run import CHECK_CDC_LATENCY

THRESHOLD = 30.0
FINISHED_AT = "2026-12-06T09:00:00+00:00"


def watched(identifier: str, migration_type: str = "full-load") -> WatchedTask:
    arn = f"arn:aws:dms:us-east-1:123456789012:task:{identifier.upper()}"
    task = TaskState(identifier, arn, migration_type, "src", "tgt", "inst", "ready")
    return WatchedTask(task, dg.AssetKey(f"dms_task_{identifier}"), "rep-1")


LOAD = watched("load")
CDC = watched("cdc", "cdc")
BY_ARN = {w.task.arn: w for w in (LOAD, CDC)}


def watch(
    entry: WatchedTask,
    *,
    changed: bool = True,
    finished_at: str | None = None,
    latency: dict[str, float] | None = None,
    **facts: Any,
) -> TaskWatch:
    return TaskWatch(
        arn=entry.task.arn,
        facts={"status": "running", "stop_reason": "", "percent": None, **facts},
        changed=changed,
        full_load_finished_at=finished_at,
        cdc_latency_seconds=latency or {},
    )


def tick(
    *found: TaskWatch,
    missing: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
    reported: bool = False,
    log: logging.Logger | None = None,
) -> dg.SensorResult:
    look = WatchResult(tasks=list(found), missing=list(missing), notes=list(notes))
    return tick_result(
        look, BY_ARN, THRESHOLD, lambda key, at: reported, log or logging.getLogger("sensor")
    )


def test_a_changed_task_is_observed_with_its_facts_as_dms_metadata() -> None:
    result = tick(
        watch(LOAD, percent=40, tables_loaded=1),
        watch(CDC, changed=False, recovery_checkpoint="checkpoint:1"),
    )
    assert result.asset_events is not None
    (observation,) = result.asset_events
    assert isinstance(observation, dg.AssetObservation)
    assert observation.asset_key == LOAD.asset_key
    assert {k: v.value for k, v in observation.metadata.items()} == {
        "dms/status": "running",
        "dms/stop_reason": "",
        "dms/percent": 40,
        "dms/tables_loaded": 1,
    }


def test_a_full_load_finished_outside_dagster_is_materialized_once() -> None:
    stopped = watch(
        LOAD,
        finished_at=FINISHED_AT,
        status="stopped",
        stop_reason="Stop Reason FULL_LOAD_ONLY_FINISHED",
        stop_date=FINISHED_AT,
    )
    events = tick(stopped).asset_events or []
    assert [type(e) for e in events] == [dg.AssetObservation, dg.AssetMaterialization]
    materialization = events[1]
    assert isinstance(materialization, dg.AssetMaterialization)
    assert materialization.metadata["dms/reported_by"].value == "sensor"
    assert materialization.metadata["dms/stop_date"].value == FINISHED_AT
    # A run of the asset reported that finish already: only the observation remains.
    again = tick(stopped, reported=True).asset_events or []
    assert [type(e) for e in again] == [dg.AssetObservation]


@pytest.mark.parametrize(("worst", "passed"), [(12.5, True), (30.0, True), (30.1, False)])
def test_cdc_latency_is_judged_against_the_threshold(worst: float, passed: bool) -> None:
    found = watch(CDC, changed=False, latency={"CDCLatencySource": 1.0, "CDCLatencyTarget": worst})
    (evaluation,) = tick(found).asset_events or []
    assert isinstance(evaluation, dg.AssetCheckEvaluation)
    assert (evaluation.asset_key, evaluation.check_name) == (CDC.asset_key, CHECK_CDC_LATENCY)
    assert evaluation.passed is passed
    assert evaluation.metadata["CDCLatencyTarget_seconds"].value == worst


def test_the_cursor_keeps_every_task_and_reads_back() -> None:
    result = tick(watch(LOAD, percent=100), watch(CDC, changed=False, CDCIncomingChanges=4.0))
    assert result.cursor is not None
    assert load_cursor(result.cursor) == {
        LOAD.task.arn: {"status": "running", "stop_reason": "", "percent": 100},
        CDC.task.arn: {
            "status": "running",
            "stop_reason": "",
            "percent": None,
            "CDCIncomingChanges": 4.0,
        },
    }


def test_cursors_of_the_first_releases_and_unreadable_ones() -> None:
    facts = {"status": "stopped", "stop_reason": "Stop Reason NORMAL"}
    legacy = json.dumps({"version": 1, "tasks": {LOAD.task.arn: facts}})
    assert load_cursor(legacy) == {LOAD.task.arn: facts}
    for unreadable in (None, "", "not json", json.dumps({"version": 99, "tasks": {}}), "[1]"):
        assert load_cursor(unreadable) == {}


def test_missing_tasks_and_notes_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sensor")
    tick(
        watch(LOAD, changed=False),
        missing=(CDC.task.arn,),
        notes=("cloudwatch:GetMetricData is not allowed",),
    )
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "cloudwatch:GetMetricData is not allowed"),
        (
            "WARNING",
            "1 task(s) in the defs state no longer exist, e.g. cdc: refresh the defs state",
        ),
    ]


def test_a_note_is_warned_about_once_not_every_tick(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sensor")
    note = "cloudwatch:GetMetricData is not allowed"
    look = WatchResult(tasks=[watch(LOAD, changed=False)], missing=[], notes=[note])
    log = logging.getLogger("sensor")
    first = tick_result(look, BY_ARN, THRESHOLD, lambda key, at: False, log)
    assert load_cursor_notes(first.cursor) == [note]
    for _ in range(3):
        again = tick_result(
            look,
            BY_ARN,
            THRESHOLD,
            lambda key, at: False,
            log,
            reported_notes=load_cursor_notes(first.cursor),
        )
        assert load_cursor_notes(again.cursor) == [note]
    assert [r.getMessage() for r in caplog.records] == [note]
    # A cursor of an older release (no notes) or none at all: the note is new again.
    older = '{"__class__": "DmsSensorCursor", "tasks": {}}'
    assert load_cursor(older) == {} and load_cursor_notes(older) == []
    assert load_cursor_notes(None) == []


@pytest.mark.parametrize("field", ["stop_date", "full_load_finish_date"])
def test_a_finish_is_reported_when_the_latest_materialization_recorded_it(field: str) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        assert not _reported_by_dagster(instance, LOAD.asset_key, FINISHED_AT)
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=LOAD.asset_key,
                metadata={**DmsMetadataSet.of({field: FINISHED_AT}), "dms/unknown_key": [1]},
            )
        )
        assert _reported_by_dagster(instance, LOAD.asset_key, FINISHED_AT)
        assert not _reported_by_dagster(instance, LOAD.asset_key, "2026-12-07T00:00:00+00:00")


def test_the_cursor_is_a_serdes_record() -> None:
    cursor = DmsSensorCursor(tasks={LOAD.task.arn: {"status": "ready"}})
    assert load_cursor(dg.serialize_value(cursor)) == {LOAD.task.arn: {"status": "ready"}}


def test_table_assets_are_observed_only_for_changed_tasks_that_have_them() -> None:
    alpha = dg.AssetKey(["public", "alpha"])
    tabled = WatchedTask(LOAD.task, LOAD.asset_key, "rep-1", {("public", "alpha"): alpha})
    asked: list[str] = []

    def observe(entry: WatchedTask) -> list[dg.AssetObservation]:
        asked.append(entry.task.identifier)
        return [dg.AssetObservation(asset_key=alpha)]

    def one_tick(*found: TaskWatch) -> list[Any]:
        look = WatchResult(tasks=list(found), missing=[], notes=[])
        by_arn = {LOAD.task.arn: tabled, CDC.task.arn: CDC}
        result = tick_result(
            look, by_arn, THRESHOLD, lambda key, at: True, logging.getLogger("sensor"), observe
        )
        return list(result.asset_events or [])

    # A changed task with table assets: its tables are observed after the task's observation.
    events = one_tick(watch(tabled), watch(CDC))
    assert asked == ["load"]
    assert [e.asset_key for e in events] == [LOAD.asset_key, alpha, CDC.asset_key]
    # Unchanged: no table statistics are read.
    asked.clear()
    assert one_tick(watch(tabled, changed=False)) == []
    assert asked == []
