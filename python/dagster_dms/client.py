"""``DmsClient``: a typed client for AWS DMS, CloudWatch and CloudWatch Logs.

Every call goes through the C++ core (SigV4, the standard credential chain, retries, endpoint
resolution); the GIL is released while it waits on the network. Results are the typed shapes of
:mod:`dagster_dms.models`; errors are :class:`dagster_dms.errors.DmsError` subclasses.

The one-operation methods (``describe_endpoints``, ``start_replication_task``...) are generated
from the API model into :mod:`dagster_dms._operations`; this module adds the judged runs, the
discovery, the batched tag and metric reads and the few calls whose Python form is friendlier than
the wire's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dagster_dms import models
from dagster_dms._native import NativeClient
from dagster_dms._operation_calls import FilterSpec as FilterSpec
from dagster_dms._operation_calls import StartType, _epoch
from dagster_dms._operations import Operations

__all__ = [
    "AssessmentRunResult",
    "Discovered",
    "DmsClient",
    "StartType",
    "TaskProgress",
    "TaskRunResult",
    "WaitGoal",
]

WaitGoal = Literal["completion", "running", "stopped", "full-load-complete"]


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """One poll of a task being waited for."""

    status: str
    phase: str
    percent: int | None
    tables_loaded: int
    tables_loading: int
    tables_queued: int
    tables_errored: int
    waited_seconds: float
    message: str


@dataclass(frozen=True)
class TableReloadResult:
    """How a ReloadTables request and the wait for its tables ended."""

    succeeded: bool
    message: str
    table_statistics: list[models.TableStatistics]


@dataclass(frozen=True)
class AssessmentRunResult:
    """How a premigration assessment run ended, judged by the core: ``passed`` when its status is
    ``passed`` or ``warning``; ``finished`` is false when the wait ended first (timeout or
    cancellation)."""

    finished: bool
    passed: bool
    message: str
    run: models.ReplicationTaskAssessmentRun
    individual: list[models.ReplicationTaskIndividualAssessment]


@dataclass(frozen=True, slots=True)
class TaskRunResult:
    """How a run, wait or stop ended.

    ``outcome`` is ``succeeded``, ``failed``, ``timed-out`` or ``cancelled``; ``phase`` is the
    judged state of the task (``succeeded``, ``replicating``, ``failed``, ``stopped-by-user``...).
    """

    outcome: str
    phase: str
    task: models.ReplicationTask
    started: bool
    start_type_sent: str
    message: str
    notes: list[str]
    waited_seconds: float
    table_statistics: list[models.TableStatistics] | None = None
    table_statistics_error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome == "succeeded"


@dataclass(frozen=True, slots=True)
class ReplicationRunResult:
    """How a run of a serverless replication ended; the same judgement as :class:`TaskRunResult`."""

    outcome: str
    phase: str
    replication: models.Replication
    started: bool
    start_type_sent: str
    message: str
    notes: list[str]
    waited_seconds: float

    @property
    def succeeded(self) -> bool:
        return self.outcome == "succeeded"


@dataclass(frozen=True, slots=True)
class MetricReading:
    """What :meth:`DmsClient.read_metrics` read: datapoints per query id, oldest first."""

    series: dict[str, list[tuple[dt.datetime, float]]]
    source: str  # GetMetricData, GetMetricStatistics, or "" when neither was allowed
    notes: list[str]


@dataclass(frozen=True, slots=True)
class MetricTask:
    """A replication task whose CloudWatch metrics are read (DMS's dimensions: the instance
    identifier and the task ARN's resource id)."""

    arn: str
    instance_identifier: str
    resource_id: str
    cdc: bool = False


@dataclass(frozen=True, slots=True)
class TaskWatch:
    """One watched task as :meth:`DmsClient.watch_tasks` found it.

    ``facts`` are what a watcher remembers between looks (a JSON-able mapping: status, stop
    reason, progress, stop and finish times, recovery checkpoint, rounded CDC metrics);
    ``changed`` says whether they differ from the previous look's; ``full_load_finished_at`` is
    set when a full load completed since the previous look.
    """

    arn: str
    facts: dict[str, Any]
    changed: bool
    full_load_finished_at: str | None
    cdc_latency_seconds: dict[str, float]


@dataclass(frozen=True, slots=True)
class WatchResult:
    """What one look found: the tasks that exist, the watched ARNs that no longer do, and notes
    (for example a CloudWatch permission that was missing)."""

    tasks: list[TaskWatch]
    missing: list[str]
    notes: list[str]


@dataclass(frozen=True, slots=True)
class Discovered:
    """A resource found by :meth:`DmsClient.discover`, with its tags when they were read.

    ``selected`` is False for a resource the filters left out, returned only when asked for with
    ``include_unselected`` (its tags are then not read).
    """

    resource: Any
    tags: dict[str, str] = field(default_factory=dict)
    selected: bool = True


def _metric_task(task: MetricTask) -> dict[str, Any]:
    return {
        "arn": task.arn,
        "instance_identifier": task.instance_identifier,
        "resource_id": task.resource_id,
        "cdc": task.cdc,
    }


def _run_options(
    start_type: StartType,
    until: WaitGoal,
    start_timeout: float,
    completion_timeout: float | None,
    poll_interval: float,
    max_poll_interval: float,
    stop_on_cancel: bool,
    cdc_start_time: dt.datetime | None,
    cdc_start_position: str | None,
    cdc_stop_position: str | None,
) -> dict[str, Any]:
    """The core runner's options for a judged run (see orchestration_bindings.cpp)."""
    return {
        "mode": "run",
        "start_type": start_type,
        "until": until,
        "start_timeout_seconds": start_timeout,
        "completion_timeout_seconds": completion_timeout,
        "poll_interval_seconds": poll_interval,
        "max_poll_interval_seconds": max_poll_interval,
        "stop_on_cancel": stop_on_cancel,
        "cdc_start_time": _epoch(cdc_start_time) if cdc_start_time else None,
        "cdc_start_position": cdc_start_position,
        "cdc_stop_position": cdc_stop_position,
    }


def _progress_callback(
    on_progress: Callable[[TaskProgress], None] | None,
) -> Callable[[dict[str, Any]], None] | None:
    """Turns the core's progress dictionaries into :class:`TaskProgress` for a user callback."""
    if on_progress is None:
        return None
    callback = on_progress

    def progress_callback(progress: dict[str, Any]) -> None:
        callback(TaskProgress(**progress))

    return progress_callback


class DmsClient(Operations):
    """A client for DMS and the CloudWatch metrics and logs a DMS task produces.

    Configuration follows boto3: anything not given here comes from the environment
    (``AWS_REGION``, ``AWS_PROFILE``, ``AWS_ENDPOINT_URL_DMS``...), the shared config files, and the
    standard credential chain. ``endpoint_url`` applies to DMS, CloudWatch and Logs alike (one local
    endpoint such as dms-local serves them all).

    Raises :class:`dagster_dms.errors.ConfigurationError` at construction when the configuration
    cannot work (no region, unknown profile, bad URL); credentials are resolved on the first call.
    """

    def __init__(
        self,
        region_name: str | None = None,
        profile_name: str | None = None,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        max_attempts: int | None = None,
        retry_mode: str | None = None,
        verify: bool | str = True,
        *,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> None:
        # `verify` is a bool or, as in boto3, the path of a CA bundle to verify against.
        ca_bundle = verify if isinstance(verify, str) else None
        self._native = NativeClient(
            region_name,
            profile_name,
            endpoint_url,
            aws_access_key_id,
            aws_secret_access_key,
            aws_session_token,
            max_attempts,
            retry_mode,
            verify is not False,
            ca_bundle,
            connect_timeout,
            read_timeout,
        )
        self._profile_name = profile_name
        self._endpoint_url = endpoint_url

    def __repr__(self) -> str:
        parts = [f"region_name={self.region_name!r}"]
        if self._profile_name:
            parts.append(f"profile_name={self._profile_name!r}")
        if self._endpoint_url:
            parts.append(f"endpoint_url={self._endpoint_url!r}")
        return f"DmsClient({', '.join(parts)})"

    def endpoint(self, service: Literal["dms", "cloudwatch", "logs", "sts"] = "dms") -> str:
        """The endpoint URL this client uses for ``service``."""
        return self._native.endpoint(service)

    def credentials_provider(self) -> str:
        """Which provider of the chain supplied credentials (``environment``, ``profile``...)."""
        return self._native.credentials_provider()

    # ---- replication tasks -----------------------------------------------------------------

    def reload_tables(
        self,
        task: str,
        tables: Iterable[tuple[str, str]],
        reload_option: Literal["data-reload", "validate-only"] = "data-reload",
    ) -> str:
        """Reloads (schema, table) pairs of a running task; returns the task ARN."""
        response = self._invoke(
            "dms",
            "ReloadTables",
            {
                "ReplicationTaskArn": self._task_arn(task),
                "TablesToReload": [{"SchemaName": s, "TableName": t} for s, t in tables],
                "ReloadOption": reload_option,
            },
        )
        return str(response.get("ReplicationTaskArn", ""))

    def run_task(
        self,
        task: str,
        start_type: StartType = "start-replication",
        *,
        until: WaitGoal = "completion",
        start_timeout: float = 600.0,
        completion_timeout: float | None = None,
        poll_interval: float = 5.0,
        max_poll_interval: float = 30.0,
        stop_on_cancel: bool = True,
        cdc_start_time: dt.datetime | None = None,
        cdc_start_position: str | None = None,
        cdc_stop_position: str | None = None,
        table_statistics: bool = True,
        on_progress: Callable[[TaskProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> TaskRunResult:
        """Starts a task (or decides not to), waits the right way and judges the end.

        A task that has never run is sent ``start-replication`` whatever ``start_type`` says; one
        that ran before and is asked for ``start-replication`` gets ``reload-target`` (full load)
        or ``resume-processing`` (CDC); the result's ``notes`` say so. A task already running is
        waited for, not started again. Completion is judged from Status and StopReason: a full
        load that finished before ``running`` was seen is a success, a FATAL_ERROR stop is not.
        ``should_stop`` is polled while waiting; when it returns True the task this call started
        is stopped (``stop_on_cancel``) and the outcome is ``cancelled``.
        """
        options = _run_options(
            start_type,
            until,
            start_timeout,
            completion_timeout,
            poll_interval,
            max_poll_interval,
            stop_on_cancel,
            cdc_start_time,
            cdc_start_position,
            cdc_stop_position,
        )
        options["table_statistics"] = table_statistics
        return self._run(task, options, on_progress, should_stop)

    def wait_for_task(
        self,
        task: str,
        until: WaitGoal = "completion",
        *,
        timeout: float | None = None,
        poll_interval: float = 5.0,
        max_poll_interval: float = 30.0,
        on_progress: Callable[[TaskProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> TaskRunResult:
        """Waits for a task to reach ``until`` without starting it."""
        options = {
            "mode": "wait",
            "until": until,
            "completion_timeout_seconds": timeout,
            "start_timeout_seconds": timeout if timeout is not None else 600.0,
            "poll_interval_seconds": poll_interval,
            "max_poll_interval_seconds": max_poll_interval,
            "table_statistics": False,
        }
        return self._run(task, options, on_progress, should_stop)

    def stop_task(
        self,
        task: str,
        *,
        wait: bool = True,
        timeout: float | None = None,
        poll_interval: float = 5.0,
        on_progress: Callable[[TaskProgress], None] | None = None,
    ) -> TaskRunResult:
        """Stops a running task; with ``wait``, returns once it is ``stopped``."""
        options = {
            "mode": "stop",
            "wait": wait,
            "completion_timeout_seconds": timeout,
            "poll_interval_seconds": poll_interval,
            "table_statistics": False,
        }
        return self._run(task, options, on_progress, None)

    def _run(
        self,
        task: str,
        options: Mapping[str, Any],
        on_progress: Callable[[TaskProgress], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> TaskRunResult:
        raw: dict[str, Any] = json.loads(
            self._native.run_task(
                task, json.dumps(options), _progress_callback(on_progress), should_stop
            )
        )
        tables = raw.get("table_statistics")
        return TaskRunResult(
            outcome=raw["outcome"],
            phase=raw["phase"],
            task=models.ReplicationTask.from_api(raw["task"]),
            started=raw["started"],
            start_type_sent=raw["start_type_sent"],
            message=raw["message"],
            notes=list(raw["notes"]),
            waited_seconds=raw["waited_seconds"],
            table_statistics=(
                [models.TableStatistics.from_api(t) for t in tables] if tables is not None else None
            ),
            table_statistics_error=raw.get("table_statistics_error"),
        )

    def reload_tables_and_wait(
        self,
        task: str,
        tables: Iterable[tuple[str, str]],
        *,
        reload_option: str = "data-reload",
        timeout_seconds: float | None = None,
        poll_interval_seconds: float = 2.0,
        should_stop: Callable[[], bool] | None = None,
    ) -> TableReloadResult:
        """ReloadTables for (schema, table) source names of a running task, then waits until
        they have loaded again. What DMS refuses (a task that isn't running, a cdc-only task,
        more than 10 tables...) comes back as a failed result that says what DMS allows."""
        options: dict[str, Any] = {
            "tables": [[s, t] for s, t in tables],
            "reload_option": reload_option,
            "poll_interval_seconds": poll_interval_seconds,
        }
        if timeout_seconds is not None:
            options["timeout_seconds"] = timeout_seconds
        raw = json.loads(
            self._native.reload_tables(self._task_arn(task), json.dumps(options), should_stop)
        )
        return TableReloadResult(
            succeeded=raw["succeeded"],
            message=raw["message"],
            table_statistics=[models.TableStatistics.from_api(t) for t in raw["table_statistics"]],
        )

    def run_assessment(
        self,
        task: str,
        *,
        service_access_role_arn: str,
        result_bucket: str,
        result_folder: str = "",
        run_name: str = "",
        include_only: Sequence[str] = (),
        exclude: Sequence[str] = (),
        timeout_seconds: float | None = None,
        poll_interval_seconds: float = 5.0,
        on_progress: Callable[[models.ReplicationTaskAssessmentRun], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> AssessmentRunResult:
        """Starts a premigration assessment run on ``task`` (identifier or ARN), follows it to
        its end and judges it. An empty ``run_name`` gets a fresh one. When ``should_stop``
        returns true or the timeout passes, the run is cancelled."""
        options: dict[str, Any] = {
            "run_name": run_name,
            "service_access_role_arn": service_access_role_arn,
            "result_bucket": result_bucket,
            "result_folder": result_folder,
            "include_only": list(include_only),
            "exclude": list(exclude),
            "poll_interval_seconds": poll_interval_seconds,
        }
        if timeout_seconds is not None:
            options["timeout_seconds"] = timeout_seconds
        progress = None
        if on_progress is not None:
            callback = on_progress

            def progress(run: str) -> None:
                callback(models.ReplicationTaskAssessmentRun.from_api(json.loads(run)))

        raw = json.loads(
            self._native.run_assessment(
                self._task_arn(task), json.dumps(options), progress, should_stop
            )
        )
        return AssessmentRunResult(
            finished=raw["finished"],
            passed=raw["passed"],
            message=raw["message"],
            run=models.ReplicationTaskAssessmentRun.from_api(raw["run"]),
            individual=[
                models.ReplicationTaskIndividualAssessment.from_api(i) for i in raw["individual"]
            ],
        )

    # ---- discovery -------------------------------------------------------------------------

    def discover(
        self,
        kind: Literal["tasks", "endpoints", "instances", "replication-configs"] = "tasks",
        *,
        name_pattern: str | None = None,
        exclude_pattern: str | None = None,
        tags: str | None = None,
        read_tags: bool = False,
        with_settings: bool = False,
        include_unselected: bool = False,
    ) -> tuple[list[Discovered], list[str]]:
        """Lists resources, keeping names that match ``name_pattern`` (search semantics) and not
        ``exclude_pattern``, and whose tags satisfy ``tags`` (``"env,team=data"``).

        Returns the kept resources and warnings worth showing (e.g. filters that matched nothing).
        ``with_settings`` also reads tasks' table mappings and settings (same number of calls).
        ``include_unselected`` also returns what the filters left out, marked ``selected=False``,
        from the same listing (for callers that need every resource's name too).
        """
        model: type[models.ApiModel] = {
            "tasks": models.ReplicationTask,
            "endpoints": models.Endpoint,
            "instances": models.ReplicationInstance,
            "replication-configs": models.ReplicationConfig,
        }[kind]
        raw = json.loads(
            self._native.discover(
                kind,
                json.dumps(
                    {
                        "name_pattern": name_pattern,
                        "exclude_pattern": exclude_pattern,
                        "tags": tags,
                        "read_tags": read_tags,
                        "with_settings": with_settings,
                        "keep_unselected": include_unselected,
                    }
                ),
            )
        )
        items = [
            Discovered(resource=model.from_api(item["resource"]), tags=dict(item["tags"]))
            for item in raw["items"]
        ]
        items.extend(
            Discovered(resource=model.from_api(item), selected=False)
            for item in raw.get("unselected", [])
        )
        return items, list(raw["warnings"])

    # ---- tags ------------------------------------------------------------------------------

    def list_tags(self, arns: Sequence[str]) -> dict[str, dict[str, str]]:
        """Tags of each ARN, fetched in ResourceArnList batches."""
        tags: dict[str, dict[str, str]] = json.loads(self._native.tags_for_resources(list(arns)))
        return tags

    def add_tags(self, arn: str, tags: Mapping[str, str]) -> None:
        """Adds or overwrites tags on a resource."""
        self.add_tags_to_resource(arn, [models.Tag(key=k, value=v) for k, v in tags.items()])

    def remove_tags(self, arn: str, keys: Iterable[str]) -> None:
        """Removes tags by key."""
        self.remove_tags_from_resource(arn, list(keys))

    # ---- serverless replications -----------------------------------------------------------

    def run_replication(
        self,
        replication_config: str,
        start_type: StartType = "start-replication",
        *,
        until: WaitGoal = "completion",
        start_timeout: float = 600.0,
        completion_timeout: float | None = None,
        poll_interval: float = 5.0,
        max_poll_interval: float = 30.0,
        stop_on_cancel: bool = True,
        cdc_start_time: dt.datetime | None = None,
        cdc_start_position: str | None = None,
        cdc_stop_position: str | None = None,
        on_progress: Callable[[TaskProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> ReplicationRunResult:
        """Starts a serverless replication (or decides not to), waits and judges the end.

        ``replication_config`` is the replication config's ARN or identifier. The rules are those
        of :meth:`run_task`: start types follow DMS's rules for first and later runs, a running
        replication is waited for, and completion is judged from Status and StopReason (every
        stop reason that means the configured work was done, such as a reached
        ``CdcStopPosition``, is a success).
        """
        options = _run_options(
            start_type,
            until,
            start_timeout,
            completion_timeout,
            poll_interval,
            max_poll_interval,
            stop_on_cancel,
            cdc_start_time,
            cdc_start_position,
            cdc_stop_position,
        )
        raw: dict[str, Any] = json.loads(
            self._native.run_replication(
                replication_config,
                json.dumps(options),
                _progress_callback(on_progress),
                should_stop,
            )
        )
        return ReplicationRunResult(
            outcome=raw["outcome"],
            phase=raw["phase"],
            replication=models.Replication.from_api(raw["replication"]),
            started=raw["started"],
            start_type_sent=raw["start_type_sent"],
            message=raw["message"],
            notes=list(raw["notes"]),
            waited_seconds=raw["waited_seconds"],
        )

    # ---- CloudWatch metrics ----------------------------------------------------------------

    def read_metrics(
        self,
        queries: Sequence[tuple[str, str, Mapping[str, str]]],
        start: dt.datetime,
        end: dt.datetime,
        *,
        period_seconds: int = 60,
        statistic: str = "Average",
    ) -> MetricReading:
        """Datapoints of DMS metrics (namespace AWS/DMS), least privilege first.

        ``queries`` are ``(id, metric_name, dimensions)``. GetMetricData is used, one call per
        500 queries; without ``cloudwatch:GetMetricData`` each metric is read with
        GetMetricStatistics; without that either the series are empty. ``notes`` name the
        missing permission; other errors raise.
        """
        raw = json.loads(
            self._native.read_metrics(
                json.dumps(
                    {
                        "queries": [
                            {"id": qid, "metric": metric, "dimensions": dict(dimensions)}
                            for qid, metric, dimensions in queries
                        ],
                        "start": _epoch(start),
                        "end": _epoch(end),
                        "period_seconds": period_seconds,
                        "statistic": statistic,
                    }
                )
            )
        )
        return MetricReading(
            series={
                item["id"]: [
                    (dt.datetime.fromtimestamp(t, dt.timezone.utc), float(v))
                    for t, v in zip(item["timestamps"], item["values"], strict=True)
                ]
                for item in raw["series"]
            },
            source=raw["source"],
            notes=list(raw["notes"]),
        )

    def latest_cdc_metrics(
        self, tasks: Sequence[MetricTask], *, period_seconds: int = 60
    ) -> tuple[dict[str, dict[str, float]], list[str]]:
        """The latest CDCLatencySource, CDCLatencyTarget and CDCIncomingChanges of each task (by
        ARN; metrics without data are absent), in batched calls, and notes on missing
        permissions."""
        raw = json.loads(
            self._native.cdc_metrics(
                json.dumps(
                    {"tasks": [_metric_task(t) for t in tasks], "period_seconds": period_seconds}
                )
            )
        )
        metrics = {
            arn: {k: float(v) for k, v in values.items()} for arn, values in raw["metrics"].items()
        }
        return metrics, list(raw["notes"])

    def watch_tasks(
        self,
        tasks: Sequence[MetricTask],
        previous: Mapping[str, Mapping[str, Any]],
        *,
        metrics_period_seconds: int = 60,
    ) -> WatchResult:
        """One look at many tasks at a fixed cost: one paginated DescribeReplicationTasks and
        batched CloudWatch reads for the running CDC tasks. ``previous`` holds each task's
        ``facts`` from the last look (by ARN); the answer says what changed."""
        raw = json.loads(
            self._native.watch_tasks(
                json.dumps(
                    {
                        "tasks": [_metric_task(t) for t in tasks],
                        "previous": {arn: dict(facts) for arn, facts in previous.items()},
                        "period_seconds": metrics_period_seconds,
                    }
                )
            )
        )
        return WatchResult(
            tasks=[
                TaskWatch(
                    arn=item["arn"],
                    facts=dict(item["facts"]),
                    changed=bool(item["changed"]),
                    full_load_finished_at=item["full_load_finished_at"],
                    cdc_latency_seconds={
                        k: float(v) for k, v in item["cdc_latency_seconds"].items()
                    },
                )
                for item in raw["tasks"]
            ],
            missing=list(raw["missing"]),
            notes=list(raw["notes"]),
        )

    def get_metric_data(
        self,
        queries: Sequence[models.MetricDataQuery | Mapping[str, Any]],
        start_time: dt.datetime,
        end_time: dt.datetime,
    ) -> list[models.MetricDataResult]:
        """GetMetricData for any number of queries (batched by 500, following NextToken)."""
        wire = [q.to_api() if isinstance(q, models.ApiModel) else dict(q) for q in queries]
        request = {
            "MetricDataQueries": wire,
            "StartTime": _epoch(start_time),
            "EndTime": _epoch(end_time),
        }
        response = json.loads(self._native.metric_data_all(json.dumps(request)))
        return [
            models.MetricDataResult.from_api(r) for r in response.get("MetricDataResults") or []
        ]
