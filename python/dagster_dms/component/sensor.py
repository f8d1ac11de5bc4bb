"""The observation sensor: one paginated describe per tick for every selected task.

Each tick lists the tasks once (never one call per task), reads the CDC metrics of running CDC
tasks (CDCLatencySource/Target, CDCIncomingChanges) in batched GetMetricData calls, and compares
with the cursor. It emits observations only for tasks that changed (a running CDC task's
RecoveryCheckpoint and metrics count: its replication progress shows as it moves), a
materialization when a task started outside Dagster finished its full load, and CDC latency check
evaluations.
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
        "recovery_checkpoint": task.recovery_checkpoint,
    }


def cdc_facts(values: Mapping[str, float]) -> dict[str, float]:
    """A running CDC task's metrics as observed: rounded, so float noise is no change."""
    facts: dict[str, float] = {}
    for metric in cloudwatch.CDC_LATENCY_METRICS:
        if metric in values:
            facts[f"{metric}_seconds"] = round(values[metric], 1)
    for metric in cloudwatch.CDC_PROGRESS_METRICS:
        if metric in values:
            facts[metric] = round(values[metric], 1)
    return facts


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
        previous = _load_cursor(context.cursor)
        client = settings.client()
        listed = client.describe_replication_tasks()
        events: list[dg.AssetObservation | dg.AssetMaterialization | dg.AssetCheckEvaluation] = []
        seen: list[tuple[WatchedTask, dict[str, Any]]] = []
        for task in listed:
            entry = by_arn.get(task.replication_task_arn or "")
            if entry is not None:
                seen.append((entry, snapshot(task)))
        running_cdc = [e for e, now in seen if e.task.is_cdc and now["status"] == "running"]
        metrics = _cdc_metrics(client, running_cdc, metrics_period_seconds)
        current: dict[str, dict[str, Any]] = {}
        for entry, now in seen:
            now.update(cdc_facts(metrics.get(entry.task.arn, {})))
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
        events.extend(_latency_evaluations(running_cdc, metrics, cdc_latency_threshold_seconds))
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


def _cdc_metrics(
    client: Any, running_cdc: Sequence[WatchedTask], period_seconds: int
) -> dict[str, dict[str, float]]:
    """Each running CDC task's latest CDC metrics (by task ARN), in batched GetMetricData calls."""
    names = (*cloudwatch.CDC_LATENCY_METRICS, *cloudwatch.CDC_PROGRESS_METRICS)
    queries: list[cloudwatch.MetricQuery] = []
    for i, entry in enumerate(running_cdc):
        dims = cloudwatch.task_dimensions(entry.instance_identifier, entry.task.resource_id)
        for j, metric in enumerate(names):
            queries.append(cloudwatch.MetricQuery(f"t{i}m{j}", metric, dims))
    values = cloudwatch.latest_values(client, queries, period_seconds=period_seconds)
    return {
        entry.task.arn: {
            metric: values[f"t{i}m{j}"] for j, metric in enumerate(names) if f"t{i}m{j}" in values
        }
        for i, entry in enumerate(running_cdc)
    }


def _latency_evaluations(
    running_cdc: Sequence[WatchedTask],
    metrics: Mapping[str, Mapping[str, float]],
    threshold: float,
) -> list[dg.AssetCheckEvaluation]:
    evaluations: list[dg.AssetCheckEvaluation] = []
    for entry in running_cdc:
        values = metrics.get(entry.task.arn, {})
        latency = {m: values[m] for m in cloudwatch.CDC_LATENCY_METRICS if m in values}
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
