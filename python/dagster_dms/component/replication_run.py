"""One materialization of a serverless replication (StartReplication / StopReplication).

The same waiting rules as tasks: a finished full load is a success even when `running` was never
seen, a stop for any other reason or `failed` is a failure, CDC succeeds once replicating, and a
terminated run stops the replication it started.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import dagster as dg

from dagster_dms import models
from dagster_dms.client import DmsClient, StartType
from dagster_dms.component.state import ReplicationState
from dagster_dms.component.task_run import TaskRunSettings

FULL_LOAD_FINISHED = "FULL_LOAD_ONLY_FINISHED"
# Statuses in which a replication is still being prepared or started.
_TRANSIENT_FAILURE_WORDS = ("fail", "error")


@dataclass(frozen=True)
class Verdict:
    done: bool
    succeeded: bool
    message: str


def judge(replication: models.Replication, replication_type: str) -> Verdict:
    """Reads Status + StopReason the way a task's are read."""
    status = (replication.status or "").lower()
    reason = replication.stop_reason or ""
    stats = replication.replication_stats
    if status == "stopped":
        if FULL_LOAD_FINISHED in reason:
            return Verdict(True, True, "full load finished")
        return Verdict(True, False, f"stopped: {reason or 'no stop reason'}")
    if any(word in status for word in _TRANSIENT_FAILURE_WORDS):
        messages = "; ".join(replication.failure_messages or []) or "no failure message"
        return Verdict(True, False, f"{status}: {messages}")
    if status == "running" and replication_type != "full-load":
        if replication_type == "cdc":
            return Verdict(True, True, "replicating")
        if stats is not None and (
            stats.full_load_finish_date is not None or stats.full_load_progress_percent == 100
        ):
            return Verdict(True, True, "full load finished; replicating")
    return Verdict(False, False, status or "unknown")


def _describe(client: DmsClient, arn: str) -> models.Replication | None:
    found = client.describe_replications({"replication-config-arn": arn})
    return found[0] if found else None


def effective_start_type(current: models.Replication | None, requested: StartType) -> StartType:
    """start-replication on a first run; after one, resume (CDC) or reload (full load)."""
    ran_before = (
        current is not None
        and (current.replication_stats is not None)
        and (current.replication_stats.start_date is not None)
    )
    if not ran_before:
        if requested == "resume-processing":
            raise dg.Failure(
                "resume-processing continues a previous run, but this replication has never "
                "run: use start-replication for its first run"
            )
        return "start-replication"
    return requested


def run_replication_asset(
    context: dg.AssetExecutionContext,
    client: DmsClient,
    replication: ReplicationState,
    settings: TaskRunSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dg.MaterializeResult[None]]:
    arn = replication.arn
    current = _describe(client, arn)
    started = False
    if current is None or (current.status or "").lower() not in ("running", "starting"):
        start_type = effective_start_type(current, settings.start_type)
        context.log.info(f"Starting serverless replication {replication.identifier}: {start_type}")
        client.start_replication(arn, start_type)
        started = True
    begun = time.monotonic()
    interval = 5.0
    try:
        while True:
            current = _describe(client, arn)
            if current is None:
                raise dg.Failure(f"Serverless replication {replication.identifier} disappeared")
            verdict = judge(current, replication.replication_type)
            stats = current.replication_stats
            context.log.info(
                f"{replication.identifier}: {current.status} "
                f"{stats.full_load_progress_percent if stats else '-'}%, "
                f"tables loaded {stats.tables_loaded if stats else '-'}"
            )
            if verdict.done:
                break
            waited = time.monotonic() - begun
            limit = settings.completion_timeout_seconds
            if limit is not None and waited > limit:
                raise dg.Failure(
                    f"Serverless replication {replication.identifier} did not finish within "
                    f"{limit:.0f}s (status {current.status})"
                )
            sleep(interval)
            interval = min(interval * 1.5, 30.0)
    except BaseException:
        # Termination (or any error) stops what this run started, then goes on failing.
        if started and settings.stop_task_on_termination:
            try:
                client.stop_replication(arn)
            except Exception as error:  # the original error matters more
                context.log.warning(f"could not stop {replication.identifier}: {error}")
        raise
    metadata: dict[str, str | int] = {
        "dms/status": current.status or "",
        "dms/stop_reason": current.stop_reason or "",
        "dms/verdict": verdict.message,
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
    if not verdict.succeeded:
        raise dg.Failure(
            f"Serverless replication {replication.identifier} {verdict.message}", metadata=metadata
        )
    yield dg.MaterializeResult(asset_key=context.asset_key, metadata=metadata)
