"""One materialization of a replication task: start it the right way, wait, report.

C++ decides the AWS side (what to send, how to wait, how to judge the end); this module turns the
judged result into Dagster events: progress lines in the run log, result metadata, check results
and a failure that explains itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from dagster_dms import models
from dagster_dms._native import is_table_errored, table_failure
from dagster_dms.client import (
    DmsClient,
    MetricTask,
    ReplicationRunResult,
    StartType,
    TaskProgress,
    TaskRunResult,
)
from dagster_dms.component import cloudwatch
from dagster_dms.component.diagnosis import diagnose_start_failure
from dagster_dms.component.metadata import DmsMetadataSet
from dagster_dms.component.state import TaskState
from dagster_dms.errors import DmsError

# Check names shared by the asset definitions, the materialization and the sensor.
CHECK_NO_ERRORED_TABLES = "no_errored_tables"
CHECK_CDC_LATENCY = "cdc_latency_under_threshold"
CHECK_VALIDATION = "no_validation_failures"


#: DMS's progress counters of a task or of a serverless replication.
RunStats = models.ReplicationTaskStats | models.ReplicationStats


@dataclass(frozen=True)
class TaskRunSettings:
    start_type: StartType
    start_timeout_seconds: float
    completion_timeout_seconds: float | None
    stop_task_on_termination: bool
    cdc_latency_threshold_seconds: float
    metrics_period_seconds: int = cloudwatch.DEFAULT_PERIOD_SECONDS

    def run_options(self, log: Any, identifier: str) -> dict[str, Any]:
        """The keyword arguments of ``DmsClient.run_task`` and ``run_replication`` for a run of
        ``identifier`` that logs its progress to ``log``."""
        return {
            "start_timeout": self.start_timeout_seconds,
            "completion_timeout": self.completion_timeout_seconds,
            "stop_on_cancel": self.stop_task_on_termination,
            "on_progress": ProgressReporter(log, identifier),
            # Dagster's termination arrives as an exception raised inside this callback; the
            # core then stops what this run started and raises it again.
            "should_stop": lambda: False,
        }


class ProgressReporter:
    """Writes a progress line when something changed, and at least once a minute."""

    def __init__(self, log: Any, task: str) -> None:
        self._log = log
        self._task = task
        self._last: tuple[object, ...] | None = None
        self._last_time = 0.0

    def __call__(self, progress: TaskProgress) -> None:
        key = (
            progress.status,
            progress.percent,
            progress.tables_loaded,
            progress.tables_loading,
            progress.tables_queued,
            progress.tables_errored,
        )
        now = time.monotonic()
        if key == self._last and now - self._last_time < 60:
            return
        self._last, self._last_time = key, now
        percent = f"{progress.percent}%" if progress.percent is not None else "-"
        self._log.info(
            f"{self._task}: {progress.status} {percent}, tables loaded {progress.tables_loaded}, "
            f"loading {progress.tables_loading}, queued {progress.tables_queued}, "
            f"errored {progress.tables_errored} ({progress.waited_seconds:.0f}s)"
        )


def cdc_latency(
    client: DmsClient,
    task: TaskState,
    instance_identifier: str,
    notes: list[str],
    period_seconds: int = cloudwatch.DEFAULT_PERIOD_SECONDS,
) -> dict[str, float]:
    """CDCLatencySource/Target (seconds) of a CDC task, from CloudWatch; missing ones absent."""
    try:
        metrics, found_notes = client.latest_cdc_metrics(
            [MetricTask(task.arn, instance_identifier, task.resource_id, cdc=True)],
            period_seconds=period_seconds,
        )
    except DmsError as error:
        notes.append(f"CloudWatch metrics unavailable: {error}")
        return {}
    notes.extend(n for n in found_notes if n not in notes)
    values = metrics.get(task.arn, {})
    return {name: value for name, value in values.items() if name.startswith("CDCLatency")}


def run_outcome_fields(
    result: TaskRunResult | ReplicationRunResult, stats: RunStats | None
) -> dict[str, Any]:
    """What every finished run reports, task or serverless replication: the core's verdict, what
    was sent and how long it took, the progress counters DMS reported, the run's notes."""
    fields: dict[str, Any] = {
        "outcome": result.outcome,
        "phase": result.phase,
        "start_type_sent": result.start_type_sent or "(not started: already running)",
        "waited_seconds": round(result.waited_seconds, 1),
        "notes": "\n".join(result.notes) or None,
    }
    if stats is not None:
        fields.update(
            full_load_progress_percent=stats.full_load_progress_percent or 0,
            tables_loaded=stats.tables_loaded or 0,
            tables_errored=stats.tables_errored or 0,
            elapsed_time_millis=stats.elapsed_time_millis or 0,
        )
    return fields


def result_metadata(result: TaskRunResult) -> dict[str, Any]:
    """What a finished run reports: status, progress, tables, rows, per-table statistics."""
    task = result.task
    stats = task.replication_task_stats
    fields = run_outcome_fields(result, stats)
    fields.update(status=task.status or "", stop_reason=task.stop_reason or "")
    if stats is not None:
        fields.update(
            tables_loading=stats.tables_loading or 0,
            tables_queued=stats.tables_queued or 0,
            stop_date=stats.stop_date.isoformat() if stats.stop_date is not None else None,
        )
    is_cdc = task.migration_type in ("cdc", "full-load-and-cdc")
    if is_cdc:
        fields["recovery_checkpoint"] = task.recovery_checkpoint or None
    tables = result.table_statistics
    if tables is not None:
        fields["full_load_rows"] = sum(t.full_load_rows or 0 for t in tables)
        if is_cdc:
            fields.update(cdc_change_counts(tables))
        fields["table_statistics"] = table_statistics_table(tables)
    else:
        fields["table_statistics_error"] = result.table_statistics_error or None
    return DmsMetadataSet.of(fields).metadata()


# The per-table statistics as a table: (column, its Dagster type, how to read it).
_TABLE_STATISTICS_COLUMNS: tuple[tuple[str, str, Callable[[models.TableStatistics], Any]], ...] = (
    ("schema", "string", lambda t: t.schema_name or ""),
    ("table", "string", lambda t: t.table_name or ""),
    ("state", "string", lambda t: t.table_state or ""),
    *(
        (name, "int", lambda t, name=name: getattr(t, name) or 0)
        for name in (
            "full_load_rows",
            "inserts",
            "updates",
            "deletes",
            "ddls",
            "applied_inserts",
            "applied_updates",
            "applied_deletes",
            "applied_ddls",
        )
    ),
    ("validation_state", "string", lambda t: t.validation_state or ""),
    ("validation_failed_records", "int", lambda t: t.validation_failed_records or 0),
)


def table_statistics_table(tables: Sequence[models.TableStatistics]) -> dg.TableMetadataValue:
    """DescribeTableStatistics as a table in the Dagster UI, one row a table."""
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord({name: read(t) for name, _, read in _TABLE_STATISTICS_COLUMNS})
            for t in tables
        ],
        schema=dg.TableSchema(
            columns=[dg.TableColumn(name, kind) for name, kind, _ in _TABLE_STATISTICS_COLUMNS]
        ),
    )


def cdc_change_counts(tables: Sequence[models.TableStatistics]) -> dict[str, int]:
    """The task's captured and applied changes, summed over its tables (DMS counts them per
    table in DescribeTableStatistics: Inserts..., AppliedInserts...), by metadata field."""
    counts: dict[str, int] = {}
    for kind in ("inserts", "updates", "deletes", "ddls"):
        counts[f"cdc_{kind}"] = sum(getattr(t, kind) or 0 for t in tables)
        counts[f"cdc_applied_{kind}"] = sum(getattr(t, f"applied_{kind}") or 0 for t in tables)
    return counts


def check_results(
    asset_key: dg.AssetKey,
    task: TaskState,
    result: TaskRunResult,
    latency: Mapping[str, float],
    settings: TaskRunSettings,
) -> list[dg.AssetCheckResult]:
    """The task's checks, judged from what the run saw."""
    checks: list[dg.AssetCheckResult] = []
    stats = result.task.replication_task_stats
    errored_tables = [
        f"{t.schema_name}.{t.table_name}"
        for t in result.table_statistics or []
        if is_table_errored(t.table_state or "")
    ]
    errored = max(stats.tables_errored or 0 if stats else 0, len(errored_tables))
    checks.append(
        dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=CHECK_NO_ERRORED_TABLES,
            passed=errored == 0,
            metadata={"tables_errored": errored, "tables": ", ".join(errored_tables)},
        )
    )
    if task.is_cdc:
        checks.append(latency_check_result(asset_key, latency, settings))
    if task.validation_enabled:
        verdict = validation_verdict(result.table_statistics or [])
        checks.append(
            dg.AssetCheckResult(
                asset_key=asset_key,
                check_name=CHECK_VALIDATION,
                passed=verdict.passed,
                description=verdict.description,
                metadata=verdict.metadata,
            )
        )
    return checks


#: How many failing tables a validation check names in its description and metadata.
VALIDATION_TABLES_SHOWN = 10


@dataclass(frozen=True)
class ValidationVerdict:
    passed: bool
    description: str
    metadata: dict[str, Any]


def validation_verdict(tables: Sequence[models.TableStatistics]) -> ValidationVerdict:
    """The task's data validation, judged table by table: it fails when a table's
    ValidationState is a failed validation (orchestrate::table_failure decides which) or a table
    counts failed records. Names the first failing tables with their state and counts."""
    failing: list[str] = []
    failed_records = 0
    for table in tables:
        failed = table.validation_failed_records or 0
        failed_records += failed
        state = table.validation_state or ""
        if failed == 0 and table_failure("", state) is None:
            continue
        line = f"{table.schema_name}.{table.table_name}: {state} ({failed} failed"
        line += f", {table.validation_suspended_records or 0} suspended records)"
        if table.validation_state_details:
            line += f" {table.validation_state_details}"
        failing.append(line)
    pending = sum(t.validation_pending_records or 0 for t in tables)
    metadata: dict[str, Any] = {
        "validation_failed_records": failed_records,
        "validation_pending_records": pending,
        "tables_failing_validation": len(failing),
        "first_failures": "\n".join(failing[:VALIDATION_TABLES_SHOWN]),
    }
    if not failing:
        return ValidationVerdict(True, "No table failed validation.", metadata)
    shown = "; ".join(failing[:VALIDATION_TABLES_SHOWN])
    more = len(failing) - VALIDATION_TABLES_SHOWN
    if more > 0:
        shown += f"; and {more} more table(s)"
    return ValidationVerdict(
        False,
        f"{failed_records} record(s) failed validation in {len(failing)} table(s): {shown}",
        metadata,
    )


def latency_check_result(
    asset_key: dg.AssetKey, latency: Mapping[str, float], settings: TaskRunSettings
) -> dg.AssetCheckResult:
    threshold = settings.cdc_latency_threshold_seconds
    if not latency:
        return dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=CHECK_CDC_LATENCY,
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description="No CDC latency datapoints yet (CloudWatch publishes once a minute).",
            metadata={"threshold_seconds": threshold},
        )
    worst = max(latency.values())
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=CHECK_CDC_LATENCY,
        passed=worst <= threshold,
        metadata={
            "threshold_seconds": threshold,
            **{f"{name}_seconds": value for name, value in latency.items()},
        },
    )


def run_task_asset(
    context: dg.AssetExecutionContext,
    client: DmsClient,
    task: TaskState,
    instance_identifier: str,
    settings: TaskRunSettings,
    check_names: Sequence[str],
    on_tables: Callable[[dg.AssetExecutionContext, Sequence[models.TableStatistics] | None], None]
    | None = None,
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    """Runs the task and yields its materialization, then its checks; raises dg.Failure.
    `on_tables` gets the table statistics first, even when the run failed (per-table assets)."""
    asset_key = context.asset_key
    context.log.info(
        f"Starting DMS task {task.identifier} ({task.migration_type}) with {settings.start_type}"
    )
    try:
        result = client.run_task(
            task.arn, settings.start_type, **settings.run_options(context.log, task.identifier)
        )
    except DmsError as error:
        findings = diagnose_start_failure(client, task, error)
        raise dg.Failure(
            description=_explain(
                f"DMS task {task.identifier} could not be started: {error}", findings
            ),
            metadata=DmsMetadataSet(error=str(error), diagnosis="\n".join(findings)).metadata(),
        ) from error
    for note in result.notes:
        context.log.info(f"{task.identifier}: {note}")
    if on_tables is not None:
        on_tables(context, result.table_statistics)
    notes: list[str] = []
    latency: dict[str, float] = {}
    tail: list[str] = []
    if task.is_cdc and result.succeeded:
        latency = cdc_latency(
            client, task, instance_identifier, notes, settings.metrics_period_seconds
        )
    if not result.succeeded:
        tail = cloudwatch.error_log_tail(client, instance_identifier, task.resource_id, notes=notes)
    # What a missing permission hid is said once per run, beside the metadata that lacks it.
    for missing in [result.table_statistics_error, *notes]:
        if missing:
            context.log.warning(f"{task.identifier}: {missing}")
    yield from run_events(
        asset_key,
        task,
        result,
        latency=latency,
        log_tail=tail,
        notes=notes,
        settings=settings,
        check_names=check_names,
    )


def run_events(
    asset_key: dg.AssetKey,
    task: TaskState,
    result: TaskRunResult,
    *,
    latency: Mapping[str, float],
    log_tail: Sequence[str],
    notes: Sequence[str],
    settings: TaskRunSettings,
    check_names: Sequence[str] | None = None,
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    """The core's verdict as Dagster events: a success is a materialization (with the CDC
    latency read after it) followed by the checks in ``check_names`` (all when None); anything
    else raises a ``dg.Failure`` that explains itself (LastFailureMessage, the task log's last
    error lines, notes)."""
    metadata = result_metadata(result)
    if not result.succeeded:
        failure = result.task.last_failure_message or ""
        lines = [f"DMS task {task.identifier} {result.outcome}: {result.message}"]
        if failure and failure not in result.message:
            lines.append(f"LastFailureMessage: {failure}")
        if log_tail:
            lines.append("Last error lines of the task log:")
            lines.extend(f"  {line}" for line in log_tail)
        lines.extend(notes)
        raise dg.Failure(
            description="\n".join(lines),
            metadata={**metadata, **DmsMetadataSet(log_tail="\n".join(log_tail))},
        )
    extra: dict[str, Any] = {f"{name}_seconds": value for name, value in latency.items()}
    if notes:
        extra["metric_notes"] = "\n".join(notes)
    metadata.update(DmsMetadataSet.of(extra))
    yield dg.MaterializeResult(asset_key=asset_key, metadata=metadata)
    for check in check_results(asset_key, task, result, latency, settings):
        if check_names is None or check.check_name in check_names:
            yield check


def _explain(message: str, findings: Sequence[str]) -> str:
    if not findings:
        return message
    return message + "\nLikely cause:\n" + "\n".join(f"- {f}" for f in findings)
