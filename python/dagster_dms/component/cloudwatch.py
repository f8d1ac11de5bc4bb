"""The CloudWatch metrics and log lines the component reads, degrading gracefully.

Least privilege is the norm: GetMetricData (batched) falls back to GetMetricStatistics, and a
missing permission becomes one clear note naming the IAM action instead of a failed run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dagster_dms import models
from dagster_dms.client import DmsClient
from dagster_dms.errors import AccessDeniedError, DmsError, ResourceNotFoundError

NAMESPACE = "AWS/DMS"
CDC_LATENCY_METRICS = ("CDCLatencySource", "CDCLatencyTarget")
# What the sensor reads of each running CDC task besides its latency: changes waiting to be
# applied. Throughput is left out: it moves with every write and would make every tick a change.
CDC_PROGRESS_METRICS = ("CDCIncomingChanges",)
# DMS publishes its metrics once a minute; CloudWatch periods below a minute are 1, 5, 10, 20, 30.
DEFAULT_PERIOD_SECONDS = 60
SHORT_PERIODS = (1, 5, 10, 20, 30)
INSTANCE_METRICS = ("CPUUtilization", "FreeStorageSpace", "FreeableMemory")


@dataclass(frozen=True)
class MetricQuery:
    """One metric of one resource: the answer is its latest datapoint."""

    query_id: str
    metric: str
    dimensions: Mapping[str, str]


def valid_period(seconds: int) -> bool:
    return seconds in SHORT_PERIODS or (seconds > 0 and seconds % 60 == 0)


def task_dimensions(instance_identifier: str, task_resource_id: str) -> dict[str, str]:
    return {
        "ReplicationInstanceIdentifier": instance_identifier,
        "ReplicationTaskIdentifier": task_resource_id,
    }


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

    One GetMetricData call per 500 queries; on AccessDenied, one GetMetricStatistics per query.
    The default lookback is 15 periods (at least 2 minutes), so a short period does not ask for
    more datapoints than one answer holds.
    """
    if not queries:
        return {}
    if lookback is None:
        lookback = max(dt.timedelta(minutes=2), dt.timedelta(seconds=15 * period_seconds))
    end = dt.datetime.now(dt.timezone.utc)
    start = end - lookback
    wire = [
        {
            "Id": q.query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": q.metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in q.dimensions.items()],
                },
                "Period": period_seconds,
                "Stat": "Average",
            },
            "ReturnData": True,
        }
        for q in queries
    ]
    try:
        results = client.get_metric_data(wire, start, end)
    except AccessDeniedError:
        _note(notes, "cloudwatch:GetMetricData is not allowed; using GetMetricStatistics")
        return _latest_by_statistics(client, queries, start, end, period_seconds, notes)
    except DmsError as error:
        _note(notes, f"CloudWatch metrics unavailable: {error}")
        return {}
    values: dict[str, float] = {}
    for result in results:
        if result.id and result.values and result.timestamps:
            newest = max(range(len(result.timestamps)), key=lambda i: result.timestamps[i])  # type: ignore[index]
            values[result.id] = float(result.values[newest])
    return values


def _latest_by_statistics(
    client: DmsClient,
    queries: Iterable[MetricQuery],
    start: dt.datetime,
    end: dt.datetime,
    period_seconds: int,
    notes: list[str] | None,
) -> dict[str, float]:
    values: dict[str, float] = {}
    for q in queries:
        try:
            answer = client.get_metric_statistics(
                namespace=NAMESPACE,
                metric_name=q.metric,
                dimensions=[models.Dimension(name=k, value=v) for k, v in q.dimensions.items()],
                start_time=start,
                end_time=end,
                period=period_seconds,
                statistics=["Average"],
            )
        except AccessDeniedError:
            _note(notes, "cloudwatch:GetMetricStatistics is not allowed: no metrics shown")
            return values
        except DmsError as error:
            _note(notes, f"CloudWatch metrics unavailable: {error}")
            return values
        points = [p for p in answer.datapoints or [] if p.timestamp and p.average is not None]
        if points:
            newest = max(points, key=lambda p: p.timestamp)  # type: ignore[arg-type,return-value]
            values[q.query_id] = float(newest.average)  # type: ignore[arg-type]
    return values


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
