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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import dagster as dg
from dagster_shared.serdes import deserialize_value, serialize_value, whitelist_for_serdes

from dagster_dms.client import MetricTask, TaskWatch
from dagster_dms.component import cloudwatch, tables
from dagster_dms.component.aws_settings import AwsSettings
from dagster_dms.component.state import TaskState
from dagster_dms.component.task_run import CHECK_CDC_LATENCY

# The cursor of the first releases: {"version": 1, "tasks": {arn: facts}}, still read.
_JSON_CURSOR_VERSION = 1


@whitelist_for_serdes
class DmsSensorCursor(NamedTuple):
    """What the sensor keeps between ticks: each watched task's facts at the last look, by ARN."""

    tasks: Mapping[str, Mapping[str, Any]]


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


def _metadata(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {f"dms/{k}": v for k, v in facts.items() if v is not None}


def _reported_by_dagster(instance: dg.DagsterInstance, key: dg.AssetKey, finished_at: str) -> bool:
    event = instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return False
    metadata = event.asset_materialization.metadata
    for name in ("dms/stop_date", "dms/full_load_finish_date"):
        value = metadata.get(name)
        if value is not None and getattr(value, "value", value) == finished_at:
            return True
    return False


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
        previous = load_cursor(context.cursor)
        client = settings.client()
        look = client.watch_tasks(
            [w.metric_task() for w in watched],
            previous,
            metrics_period_seconds=metrics_period_seconds,
        )
        events: list[dg.AssetObservation | dg.AssetMaterialization | dg.AssetCheckEvaluation] = []
        for found in look.tasks:
            entry = by_arn[found.arn]
            if found.changed:
                events.append(
                    dg.AssetObservation(asset_key=entry.asset_key, metadata=_metadata(found.facts))
                )
                # Table statistics only for tasks whose status or progress moved.
                if entry.table_keys:
                    events.extend(tables.observe_task_tables(client, found.arn, entry.table_keys))
            finished_at = found.full_load_finished_at
            if finished_at and not _reported_by_dagster(
                context.instance, entry.asset_key, finished_at
            ):
                events.append(
                    dg.AssetMaterialization(
                        asset_key=entry.asset_key,
                        description="Full load finished outside Dagster (seen by the sensor).",
                        metadata={**_metadata(found.facts), "dms/reported_by": "sensor"},
                    )
                )
        events.extend(_latency_evaluations(by_arn, look.tasks, cdc_latency_threshold_seconds))
        for note in look.notes:
            context.log.info(note)
        if look.missing:
            context.log.warning(
                f"{len(look.missing)} task(s) in the defs state no longer exist, e.g. "
                f"{by_arn[look.missing[0]].task.identifier}: refresh the defs state"
            )
        cursor = DmsSensorCursor(tasks={found.arn: found.facts for found in look.tasks})
        return dg.SensorResult(asset_events=events, cursor=serialize_value(cursor))

    return _sensor


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


def _load_json_cursor(cursor: str) -> dict[str, Mapping[str, Any]]:
    try:
        raw = json.loads(cursor)
    except ValueError:
        return {}
    if not isinstance(raw, dict) or raw.get("version") != _JSON_CURSOR_VERSION:
        return {}
    tasks = raw.get("tasks")
    return tasks if isinstance(tasks, dict) else {}
