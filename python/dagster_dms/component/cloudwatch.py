"""The CloudWatch metrics and log lines the component reads, degrading gracefully.

Least privilege is the norm: GetMetricData (batched) falls back to GetMetricStatistics, and a
missing permission becomes one clear note naming the IAM action instead of a failed run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dagster_dms._native import valid_metrics_period
from dagster_dms.client import DmsClient
from dagster_dms.errors import AccessDeniedError, DmsError, ResourceNotFoundError

# DMS publishes its metrics once a minute.
DEFAULT_PERIOD_SECONDS = 60
INSTANCE_METRICS = ("CPUUtilization", "FreeStorageSpace", "FreeableMemory")


@dataclass(frozen=True)
class MetricQuery:
    """One metric of one resource: the answer is its latest datapoint."""

    query_id: str
    metric: str
    dimensions: Mapping[str, str]


def valid_period(seconds: int) -> bool:
    """Whether CloudWatch takes `seconds` as a period (1, 5, 10, 20, 30 or whole minutes)."""
    return valid_metrics_period(seconds)


def latest_values(
    client: DmsClient,
    queries: Sequence[MetricQuery],
    *,
    lookback: dt.timedelta | None = None,
    period_seconds: int = DEFAULT_PERIOD_SECONDS,
    notes: list[str] | None = None,
) -> dict[str, float]:
    """The latest value of each query (by `query_id`): the Average over its newest period with
    data; queries without data are absent.

    The core reads them least privilege first (GetMetricData, else GetMetricStatistics) and says
    which permission was missing; here that becomes a note instead of a failed run. The default
    lookback is 15 periods (at least 2 minutes), so a short period does not ask for more
    datapoints than one answer holds.
    """
    if not queries:
        return {}
    if lookback is None:
        lookback = max(dt.timedelta(minutes=2), dt.timedelta(seconds=15 * period_seconds))
    end = dt.datetime.now(dt.timezone.utc)
    try:
        reading = client.read_metrics(
            [(q.query_id, q.metric, q.dimensions) for q in queries],
            end - lookback,
            end,
            period_seconds=period_seconds,
        )
    except DmsError as error:
        _note(notes, f"CloudWatch metrics unavailable: {error}")
        return {}
    for message in reading.notes:
        _note(notes, message)
    return {query_id: points[-1][1] for query_id, points in reading.series.items() if points}


def log_names(instance_identifier: str, task_resource_id: str) -> tuple[str, str]:
    """DMS's log group and stream of a task (ReplicationTaskSettings.Logging names the same)."""
    return f"dms-tasks-{instance_identifier}", f"dms-task-{task_resource_id}"


def error_log_tail(
    client: DmsClient,
    instance_identifier: str,
    task_resource_id: str,
    *,
    lines: int = 10,
    notes: list[str] | None = None,
) -> list[str]:
    """The task log's last error and warning lines (`]E:` / `]W:`), newest last."""
    group, stream = log_names(instance_identifier, task_resource_id)
    try:
        events = client.get_log_events(group, stream, limit=200, start_from_head=False)
    except AccessDeniedError:
        _note(notes, "logs:GetLogEvents is not allowed: the task log is not shown")
        return []
    except ResourceNotFoundError:
        _note(notes, f"no task log {group}/{stream}: is logging enabled in the task settings?")
        return []
    except DmsError as error:
        _note(notes, f"task log unavailable: {error}")
        return []
    messages = [e.message or "" for e in events]
    errors = [m for m in messages if "]E:" in m or "]W:" in m]
    return errors[-lines:]


def _note(notes: list[str] | None, message: str) -> None:
    if notes is not None and message not in notes:
        notes.append(message)
