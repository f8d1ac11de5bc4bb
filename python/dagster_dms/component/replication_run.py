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
from dagster_dms.component.metadata import DmsMetadataSet
from dagster_dms.component.state import ReplicationState
from dagster_dms.component.task_run import TaskRunSettings, run_outcome_fields
from dagster_dms.errors import DmsError


def replication_metadata(result: ReplicationRunResult) -> dict[str, Any]:
    """What a finished replication run reports: status, verdict and progress."""
    replication = result.replication
    fields = run_outcome_fields(result, replication.replication_stats)
    fields.update(
        status=replication.status or "",
        stop_reason=replication.stop_reason or "",
        verdict=result.message,
        recovery_checkpoint=replication.recovery_checkpoint or None,
    )
    return DmsMetadataSet.of(fields).metadata()


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
            **settings.run_options(context.log, replication.identifier),
        )
    except DmsError as error:
        raise dg.Failure(
            description=(
                f"Serverless replication {replication.identifier} could not be started: {error}"
            ),
            metadata=DmsMetadataSet(error=str(error)).metadata(),
        ) from error
    for note in result.notes:
        context.log.info(f"{replication.identifier}: {note}")
    yield replication_event(context.asset_key, replication, result)


def replication_event(
    asset_key: dg.AssetKey, replication: ReplicationState, result: ReplicationRunResult
) -> dg.MaterializeResult[None]:
    """The core's verdict as a Dagster event: a materialization when the run succeeded, else a
    ``dg.Failure`` with the same metadata."""
    metadata = replication_metadata(result)
    if not result.succeeded:
        raise dg.Failure(
            description=(
                f"Serverless replication {replication.identifier} {result.outcome}: "
                f"{result.message}"
            ),
            metadata=metadata,
        )
    return dg.MaterializeResult(asset_key=asset_key, metadata=metadata)
