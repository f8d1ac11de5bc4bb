"""The observation sensor: one paginated describe per tick for every selected task.

Each tick lists the tasks once (never one call per task), reads CDC latency for running CDC
tasks in batched GetMetricData calls, and compares with the cursor. It emits observations only
for tasks that changed, a materialization when a task started outside Dagster finished its full
load, and CDC latency check evaluations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from dagster_dms import models
from dagster_dms.component import cloudwatch
from dagster_dms.component.aws_settings import AwsSettings
from dagster_dms.component.state import TaskState
from dagster_dms.component.task_run import CHECK_CDC_LATENCY

CURSOR_VERSION = 1
FULL_LOAD_FINISHED = "FULL_LOAD_ONLY_FINISHED"


@dataclass(frozen=True)
class WatchedTask:
    task: TaskState
    asset_key: dg.AssetKey
    instance_identifier: str


def snapshot(task: models.ReplicationTask) -> dict[str, Any]:
    """The facts whose change is worth an observation."""
    stats = task.replication_task_stats
    return {
        "status": task.status or "",
        "stop_reason": task.stop_reason or "",
        "percent": stats.full_load_progress_percent if stats else None,
        "tables_loaded": stats.tables_loaded if stats else None,
        "tables_errored": stats.tables_errored if stats else None,
        "stop_date": stats.stop_date.isoformat() if stats and stats.stop_date else None,
        "full_load_finish_date": (
            stats.full_load_finish_date.isoformat()
            if stats and stats.full_load_finish_date
            else None
        ),
    }


def finished_full_load(before: Mapping[str, Any] | None, now: Mapping[str, Any]) -> str | None:
    """The finish time of a full load completed since `before`, or None.

    A full-load task finishes `stopped` with FULL_LOAD_ONLY_FINISHED; a full-load-and-cdc task
    keeps running and records FullLoadFinishDate. A first sight (no `before`) reports nothing:
    the sensor does not replay history.
    """
    if before is None:
        return None
    if (
        now["status"] == "stopped"
        and FULL_LOAD_FINISHED in now["stop_reason"]
        and now["stop_date"]
        and now["stop_date"] != before.get("stop_date")
    ):
        return str(now["stop_date"])
    finish = now["full_load_finish_date"]
    if finish and finish != before.get("full_load_finish_date") and now["status"] == "running":
        return str(finish)
    return None


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
        previous = _load_cursor(context.cursor)
        client = settings.client()
        listed = client.describe_replication_tasks()
        events: list[dg.AssetObservation | dg.AssetMaterialization | dg.AssetCheckEvaluation] = []
        current: dict[str, dict[str, Any]] = {}
        running_cdc: list[WatchedTask] = []
        for task in listed:
            entry = by_arn.get(task.replication_task_arn or "")
            if entry is None:
                continue
            now = snapshot(task)
            current[entry.task.arn] = now
            before = previous.get(entry.task.arn)
            if now != before:
                events.append(
                    dg.AssetObservation(
                        asset_key=entry.asset_key,
                        metadata={f"dms/{k}": v for k, v in now.items() if v is not None},
                    )
                )
            finished_at = finished_full_load(before, now)
            if finished_at and not _reported_by_dagster(
                context.instance, entry.asset_key, finished_at
            ):
                events.append(
                    dg.AssetMaterialization(
                        asset_key=entry.asset_key,
                        description="Full load finished outside Dagster (seen by the sensor).",
                        metadata={
                            **{f"dms/{k}": v for k, v in now.items() if v is not None},
                            "dms/reported_by": "sensor",
                        },
                    )
                )
            if entry.task.is_cdc and now["status"] == "running":
                running_cdc.append(entry)
        events.extend(_latency_evaluations(client, running_cdc, cdc_latency_threshold_seconds))
        missing = sorted(set(by_arn) - set(current))
        if missing:
            context.log.warning(
                f"{len(missing)} task(s) in the defs state no longer exist, e.g. "
                f"{by_arn[missing[0]].task.identifier}: refresh the defs state"
            )
        return dg.SensorResult(
            asset_events=events,
            cursor=json.dumps({"version": CURSOR_VERSION, "tasks": current}, sort_keys=True),
        )

    return _sensor


def _latency_evaluations(
    client: Any, running_cdc: Sequence[WatchedTask], threshold: float
) -> list[dg.AssetCheckEvaluation]:
    queries: list[cloudwatch.MetricQuery] = []
    for i, entry in enumerate(running_cdc):
        dims = cloudwatch.task_dimensions(entry.instance_identifier, entry.task.resource_id)
        for j, metric in enumerate(cloudwatch.CDC_LATENCY_METRICS):
            queries.append(cloudwatch.MetricQuery(f"t{i}m{j}", metric, dims))
    values = cloudwatch.latest_values(client, queries)
    evaluations: list[dg.AssetCheckEvaluation] = []
    for i, entry in enumerate(running_cdc):
        latency = {
            metric: values[f"t{i}m{j}"]
            for j, metric in enumerate(cloudwatch.CDC_LATENCY_METRICS)
            if f"t{i}m{j}" in values
        }
        if not latency:
            continue
        worst = max(latency.values())
        evaluations.append(
            dg.AssetCheckEvaluation(
                asset_key=entry.asset_key,
                check_name=CHECK_CDC_LATENCY,
                passed=worst <= threshold,
                metadata={
                    "threshold_seconds": threshold,
                    **{f"{k}_seconds": v for k, v in latency.items()},
                },
            )
        )
    return evaluations


def _load_cursor(cursor: str | None) -> dict[str, dict[str, Any]]:
    if not cursor:
        return {}
    try:
        raw = json.loads(cursor)
    except ValueError:
        return {}
    if not isinstance(raw, dict) or raw.get("version") != CURSOR_VERSION:
        return {}
    tasks = raw.get("tasks")
    return tasks if isinstance(tasks, dict) else {}
