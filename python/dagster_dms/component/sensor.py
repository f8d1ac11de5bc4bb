"""The observation sensor: one look at every selected task per tick, at a fixed cost.

The core's watcher (``DmsClient.watch_tasks``) lists the tasks once (never one call per task),
reads the CDC metrics of running CDC tasks in batched calls and compares with the facts the cursor
kept. This module turns what it found into Dagster events: observations for tasks that changed (a
running CDC task's RecoveryCheckpoint and metrics count: its replication progress shows as it
moves), a materialization when a task started outside Dagster finished its full load, and CDC
latency check evaluations.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import dagster as dg
from dagster_shared.serdes import deserialize_value, serialize_value, whitelist_for_serdes

from dagster_dms.client import MetricTask, TaskWatch, WatchResult
from dagster_dms.component import cloudwatch, tables
from dagster_dms.component.aws_settings import AwsSettings
from dagster_dms.component.metadata import DmsMetadataSet
from dagster_dms.component.state import TaskState
from dagster_dms.component.task_run import CHECK_CDC_LATENCY

# What the sensor records for a table asset: an observation of its statistics, its health check.
TableEvent = dg.AssetObservation | dg.AssetCheckEvaluation

# The cursor of the first releases: {"version": 1, "tasks": {arn: facts}}, still read.
_JSON_CURSOR_VERSION = 1


@whitelist_for_serdes
class DmsSensorCursor(NamedTuple):
    """What the sensor keeps between ticks: each watched task's facts at the last look, by ARN,
    and the notes already reported (a missing permission is warned about once, not every tick)."""

    tasks: Mapping[str, Mapping[str, Any]]
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class WatchedTask:
    task: TaskState
    asset_key: dg.AssetKey
    instance_identifier: str
    # import_tables: the task's table assets by source (schema, table).
    table_keys: Mapping[tuple[str, str], dg.AssetKey] = field(default_factory=dict)

    def metric_task(self) -> MetricTask:
        return MetricTask(
            arn=self.task.arn,
            instance_identifier=self.instance_identifier,
            resource_id=self.task.resource_id,
            cdc=self.task.is_cdc,
        )


def _metadata(facts: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A watched task's facts (and ``extra`` fields) as ``dms/`` metadata."""
    return DmsMetadataSet.of({**facts, **extra}).metadata()


def _reported_by_dagster(instance: dg.DagsterInstance, key: dg.AssetKey, finished_at: str) -> bool:
    event = instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return False
    metadata = event.asset_materialization.metadata
    # Only the two times are read: other entries of an older event need not fit today's fields.
    times = {name: metadata[name] for name in _FINISH_TIME_KEYS if name in metadata}
    reported = DmsMetadataSet.extract(times)
    return finished_at in (reported.stop_date, reported.full_load_finish_date)


_FINISH_TIME_KEYS = (DmsMetadataSet.key("stop_date"), DmsMetadataSet.key("full_load_finish_date"))


def build_observation_sensor(
    *,
    name: str,
    settings: AwsSettings,
    watched: Sequence[WatchedTask],
    minimum_interval_seconds: int,
    cdc_latency_threshold_seconds: float,
    metrics_period_seconds: int = cloudwatch.DEFAULT_PERIOD_SECONDS,
    description: str | None = None,
) -> dg.SensorDefinition:
    by_arn = {w.task.arn: w for w in watched}

    @dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=description
        or "Observes the DMS tasks of this component: status, progress, CDC latency.",
        asset_selection=[w.asset_key for w in watched],
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        client = settings.client()
        look = client.watch_tasks(
            [w.metric_task() for w in watched],
            load_cursor(context.cursor),
            metrics_period_seconds=metrics_period_seconds,
        )
        return tick_result(
            look,
            by_arn,
            cdc_latency_threshold_seconds,
            lambda key, finished_at: _reported_by_dagster(context.instance, key, finished_at),
            context.log,
            observe_tables=lambda entry: tables.observe_task_tables(
                client, entry.task.arn, entry.table_keys
            ),
            reported_notes=load_cursor_notes(context.cursor),
        )

    return _sensor


def tick_result(
    look: WatchResult,
    by_arn: Mapping[str, WatchedTask],
    cdc_latency_threshold_seconds: float,
    already_reported: Callable[[dg.AssetKey, str], bool],
    log: logging.Logger | dg.DagsterLogManager,
    observe_tables: Callable[[WatchedTask], Sequence[TableEvent]] | None = None,
    reported_notes: Sequence[str] = (),
) -> dg.SensorResult:
    """What one look of the watcher becomes: an observation for each task whose facts changed, a
    materialization for a full load that finished outside Dagster (``already_reported(key,
    finished_at)`` says whether a run reported it already), CDC latency check evaluations, and
    the cursor that remembers every task's facts for the next look. ``observe_tables(entry)``
    gives the table assets' events of a changed task with table assets (import_tables): table
    statistics are read only for tasks whose status or progress moved. Notes (what could not be
    read) are warnings, each once: ``reported_notes`` are the previous tick's."""
    events: list[dg.AssetObservation | dg.AssetMaterialization | dg.AssetCheckEvaluation] = []
    for found in look.tasks:
        entry = by_arn[found.arn]
        if found.changed:
            events.append(
                dg.AssetObservation(asset_key=entry.asset_key, metadata=_metadata(found.facts))
            )
            if entry.table_keys and observe_tables is not None:
                events.extend(observe_tables(entry))
        finished_at = found.full_load_finished_at
        if finished_at and not already_reported(entry.asset_key, finished_at):
            events.append(
                dg.AssetMaterialization(
                    asset_key=entry.asset_key,
                    description="Full load finished outside Dagster (seen by the sensor).",
                    metadata=_metadata(found.facts, reported_by="sensor"),
                )
            )
    events.extend(_latency_evaluations(by_arn, look.tasks, cdc_latency_threshold_seconds))
    for note in look.notes:
        if note not in reported_notes:
            log.warning(note)
    if look.missing:
        log.warning(
            f"{len(look.missing)} task(s) in the defs state no longer exist, e.g. "
            f"{by_arn[look.missing[0]].task.identifier}: refresh the defs state"
        )
    cursor = DmsSensorCursor(
        tasks={found.arn: found.facts for found in look.tasks}, notes=list(look.notes)
    )
    return dg.SensorResult(asset_events=events, cursor=serialize_value(cursor))


def _latency_evaluations(
    by_arn: Mapping[str, WatchedTask], found: Sequence[TaskWatch], threshold: float
) -> list[dg.AssetCheckEvaluation]:
    evaluations: list[dg.AssetCheckEvaluation] = []
    for watch in found:
        latency = watch.cdc_latency_seconds
        if not latency:
            continue
        evaluations.append(
            dg.AssetCheckEvaluation(
                asset_key=by_arn[watch.arn].asset_key,
                check_name=CHECK_CDC_LATENCY,
                passed=max(latency.values()) <= threshold,
                metadata={
                    "threshold_seconds": threshold,
                    **{f"{k}_seconds": v for k, v in latency.items()},
                },
            )
        )
    return evaluations


def load_cursor(cursor: str | None) -> dict[str, Mapping[str, Any]]:
    """Each task's facts from the cursor; an unreadable cursor is a first look."""
    if not cursor:
        return {}
    try:
        loaded = deserialize_value(cursor, DmsSensorCursor)
    except Exception:
        return _load_json_cursor(cursor)
    return dict(loaded.tasks)


def load_cursor_notes(cursor: str | None) -> list[str]:
    """The notes the previous tick reported; none for an older or unreadable cursor."""
    try:
        return list(deserialize_value(cursor, DmsSensorCursor).notes) if cursor else []
    except Exception:
        return []


def _load_json_cursor(cursor: str) -> dict[str, Mapping[str, Any]]:
    try:
        raw = json.loads(cursor)
    except ValueError:
        return {}
    if not isinstance(raw, dict) or raw.get("version") != _JSON_CURSOR_VERSION:
        return {}
    tasks = raw.get("tasks")
    return tasks if isinstance(tasks, dict) else {}
