"""One materialization of a serverless replication (StartReplication / StopReplication).

The core runs it exactly as it runs a task (``DmsClient.run_replication``): the same start-type
rules, waiting, backoff, cancellation and verdict from Status + StopReason. This module only turns
the judged result into Dagster events.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dagster as dg

from dagster_dms.client import DmsClient, ReplicationRunResult
from dagster_dms.component.state import ReplicationState
from dagster_dms.component.task_run import ProgressReporter, TaskRunSettings
from dagster_dms.errors import DmsError


def replication_metadata(result: ReplicationRunResult) -> dict[str, Any]:
    """What a finished replication run reports: status, verdict and progress."""
    replication = result.replication
    stats = replication.replication_stats
    metadata: dict[str, Any] = {
        "dms/status": replication.status or "",
        "dms/stop_reason": replication.stop_reason or "",
        "dms/outcome": result.outcome,
        "dms/phase": result.phase,
        "dms/verdict": result.message,
        "dms/start_type_sent": result.start_type_sent or "(not started: already running)",
        "dms/waited_seconds": round(result.waited_seconds, 1),
    }
    if stats is not None:
        metadata.update(
            {
                "dms/full_load_progress_percent": stats.full_load_progress_percent or 0,
                "dms/tables_loaded": stats.tables_loaded or 0,
                "dms/tables_errored": stats.tables_errored or 0,
                "dms/elapsed_time_millis": stats.elapsed_time_millis or 0,
            }
        )
    if replication.recovery_checkpoint:
        metadata["dms/recovery_checkpoint"] = replication.recovery_checkpoint
    if result.notes:
        metadata["dms/notes"] = "\n".join(result.notes)
    return metadata


def run_replication_asset(
    context: dg.AssetExecutionContext,
    client: DmsClient,
    replication: ReplicationState,
    settings: TaskRunSettings,
) -> Iterator[dg.MaterializeResult[None]]:
    """Runs the replication and yields its materialization; raises dg.Failure."""
    context.log.info(
        f"Starting serverless replication {replication.identifier} "
        f"({replication.replication_type}) with {settings.start_type}"
    )
    try:
        result = client.run_replication(
            replication.arn,
            settings.start_type,
            start_timeout=settings.start_timeout_seconds,
            completion_timeout=settings.completion_timeout_seconds,
            stop_on_cancel=settings.stop_task_on_termination,
            on_progress=ProgressReporter(context.log, replication.identifier),
            # Dagster's termination arrives as an exception raised inside this callback; the
            # core then stops the replication this run started and raises it again.
            should_stop=lambda: False,
        )
    except DmsError as error:
        raise dg.Failure(
            description=(
                f"Serverless replication {replication.identifier} could not be started: {error}"
            ),
            metadata={"dms/error": str(error)},
        ) from error
    for note in result.notes:
        context.log.info(f"{replication.identifier}: {note}")
    metadata = replication_metadata(result)
    if not result.succeeded:
        raise dg.Failure(
            description=(
                f"Serverless replication {replication.identifier} {result.outcome}: "
                f"{result.message}"
            ),
            metadata=metadata,
        )
    yield dg.MaterializeResult(asset_key=context.asset_key, metadata=metadata)
