"""Parts 1 and 2 of the benchmark: API efficiency at scale, and behaviour under throttling.

Seeds dms-local (``--seed``, so seeding costs no API call) with BENCH_TASKS tasks (600),
BENCH_ENDPOINTS endpoints (1000) and BENCH_INSTANCES instances (60), all tagged, within the
per-instance quotas (200 tasks, 100 endpoints). BENCH_RUNNING_CDC CDC tasks (100) are started and
held running (dms-local's ``--test-executor hold``) so the sensor has CloudWatch queries to make.

Measured, for AWSDMSComponent and for a straightforward per-resource boto3 pattern on the same
server: the state refresh (discover with a tag filter), the code-location load from the stored
state, and one sensor tick. Wall and CPU times are medians of BENCH_REPEAT (3) runs made
directly against dms-local; API calls are counted in a separate run through a counting proxy
(its own process), and cross-checked with dms-local's request counter.

Then BENCH_CLIENTS (20) concurrent clients poll DescribeReplicationTasks for
BENCH_DESCRIBE_SECONDS (20) against one client alone, the no-load reference
(bench/describe_latency.py says how).

Then dms-local is restarted with ``--fault-throttle`` (a bucket of 200, refilled at 8/s) and a
refresh and a tick run with the component's default retry settings, once with a full bucket and
once after another client drained it; the throttling errors met come from /_dms-local/faults.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import dagster as dg
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

import describe_latency
from common import bench_server, env_int, load_average, server_args
from dagster_dms import AWSDMSComponent
from dagster_dms.component.state import DmsState
from dagster_dms.testing.account import local_client, selection_mappings
from dagster_dms.testing.counting_proxy import CountingProxyProcess
from dagster_dms.testing.dms_local import DmsLocalServer

SENSOR = "aws_dms_observation_sensor"
MAPPINGS = selection_mappings(rule_name="all")


def seed_document(tasks: int, endpoints: int, instances: int) -> dict[str, Any]:
    """Every resource tagged owner=data-platform; env alternates prod/dev."""

    def tags(i: int) -> dict[str, str]:
        return {"owner": "data-platform", "env": "prod" if i % 2 == 0 else "dev"}

    half = endpoints // 2
    return {
        "instances": [
            {"ReplicationInstanceIdentifier": f"inst-{i:03d}", "Tags": tags(i)}
            for i in range(instances)
        ],
        "endpoints": [
            {
                "EndpointIdentifier": f"{'src' if i < half else 'dst'}-{i:04d}",
                "EndpointType": "source" if i < half else "target",
                "EngineName": "postgres",
                "ServerName": "127.0.0.1",
                "Port": 5432,
                "DatabaseName": "bench",
                "Username": "u",
                "Password": "p",
                "Tags": tags(i),
            }
            for i in range(endpoints)
        ],
        # Task i runs on instance i % instances with source i % half and target half + i % half:
        # each instance holds tasks/instances tasks and at most twice as many endpoints.
        "tasks": [
            {
                "ReplicationTaskIdentifier": f"task-{i:04d}",
                "SourceEndpoint": f"src-{i % half:04d}",
                "TargetEndpoint": f"dst-{half + i % half:04d}",
                "ReplicationInstance": f"inst-{i % instances:03d}",
                "MigrationType": "cdc" if i % 3 == 0 else "full-load",
                "TableMappings": MAPPINGS,
                "Tags": tags(i),
            }
            for i in range(tasks)
        ],
    }


def boto_client(service: str, url: str, retries: dict[str, Any] | None = None) -> Any:
    return local_client(url, service, config=Config(retries=retries or {"max_attempts": 1}))


def component(url: str, tag_filter: str) -> AWSDMSComponent:
    return AWSDMSComponent(
        aws_region="us-east-1",
        endpoint_url=url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        import_endpoints=True,
        import_replication_instances=True,
        filter_by_tags=tag_filter,
    )


# ---- the per-resource boto3 pattern ------------------------------------------------------------


def naive_refresh(url: str, key: str, value: str | None) -> dict[str, list[dict[str, Any]]]:
    """List each kind, then ListTagsForResource per ARN, keep what carries the tag."""
    dms = boto_client("dms", url)
    kinds = {
        "tasks": ("describe_replication_tasks", "ReplicationTasks", "ReplicationTaskArn"),
        "endpoints": ("describe_endpoints", "Endpoints", "EndpointArn"),
        "instances": (
            "describe_replication_instances",
            "ReplicationInstances",
            "ReplicationInstanceArn",
        ),
    }
    kept: dict[str, list[dict[str, Any]]] = {}
    for kind, (operation, field, arn_field) in kinds.items():
        kept[kind] = []
        for page in dms.get_paginator(operation).paginate(PaginationConfig={"PageSize": 100}):
            for item in page[field]:
                tags = dms.list_tags_for_resource(ResourceArn=item[arn_field])["TagList"]
                found = {t["Key"]: t.get("Value") for t in tags}
                if key in found and (value is None or found[key] == value):
                    kept[kind].append(item)
    return kept


def naive_tick(
    url: str,
    tasks: list[dict[str, Any]],
    instance_names: dict[str, str],
    retries: dict[str, Any] | None = None,
) -> int:
    """One DescribeReplicationTasks per task; for running CDC tasks, one GetMetricStatistics per
    latency metric. Returns how many tasks were described."""
    dms = boto_client("dms", url, retries)
    cloudwatch = boto_client("cloudwatch", url, retries)
    end = datetime.now(timezone.utc)
    seen = 0
    for task in tasks:
        (now,) = dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [task["ReplicationTaskArn"]]}]
        )["ReplicationTasks"]
        seen += 1
        if now["MigrationType"] != "full-load" and now["Status"] == "running":
            for metric in ("CDCLatencySource", "CDCLatencyTarget"):
                cloudwatch.get_metric_statistics(
                    Namespace="AWS/DMS",
                    MetricName=metric,
                    Dimensions=[
                        {
                            "Name": "ReplicationInstanceIdentifier",
                            "Value": instance_names[now["ReplicationInstanceArn"]],
                        },
                        {
                            "Name": "ReplicationTaskIdentifier",
                            "Value": now["ReplicationTaskArn"].rsplit(":", 1)[-1],
                        },
                    ],
                    StartTime=end - timedelta(minutes=15),
                    EndTime=end,
                    Period=60,
                    Statistics=["Average"],
                )
    return seen


# ---- measuring -----------------------------------------------------------------------------------


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall seconds, median CPU seconds of this process, and the last result."""
    walls: list[float] = []
    cpus: list[float] = []
    result: Any = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def counted(proxy: CountingProxyProcess, run: Callable[[], Any]) -> dict[str, int]:
    proxy.counts(reset=True)
    run()
    return proxy.counts(reset=True)


_INSTANCE: list[dg.DagsterInstance] = []


def tick_once(defs: dg.Definitions, cursor: str | None = None) -> tuple[int, str | None]:
    """One tick; the Dagster instance is made once, outside the measured time."""
    if not _INSTANCE:
        _INSTANCE.append(dg.DagsterInstance.ephemeral())
    sensor = defs.get_sensor_def(SENSOR)
    result = sensor.evaluate_tick(
        dg.build_sensor_context(instance=_INSTANCE[0], definitions=defs, cursor=cursor)
    )
    return len(result.asset_events or []), result.cursor


def start_cdc(url: str, count: int, start_type: str) -> None:
    dms = boto_client("dms", url, {"mode": "adaptive", "max_attempts": 10})
    paginator = dms.get_paginator("describe_replication_tasks")
    tasks = [t for page in paginator.paginate() for t in page["ReplicationTasks"]]
    cdc = [t for t in tasks if t["MigrationType"] == "cdc"][:count]
    for task in cdc:
        dms.start_replication_task(
            ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType=start_type
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pages = paginator.paginate(
            Filters=[{"Name": "migration-type", "Values": ["cdc"]}],
        )
        running = sum(
            1 for page in pages for t in page["ReplicationTasks"] if t["Status"] == "running"
        )
        if running >= len(cdc):
            return
        time.sleep(0.5)
    raise RuntimeError("the CDC tasks did not reach running")


def run(work: Path) -> dict[str, Any]:
    tasks_n = env_int("BENCH_TASKS", 600)
    endpoints_n = env_int("BENCH_ENDPOINTS", 1000)
    instances_n = env_int("BENCH_INSTANCES", 60)
    running_cdc = env_int("BENCH_RUNNING_CDC", 100)
    repeat = env_int("BENCH_REPEAT", 3)
    seed = work / "seed.json"
    seed.write_text(json.dumps(seed_document(tasks_n, endpoints_n, instances_n)))
    base_args = ["--test-executor", "hold", "--task-start-delay-ms", "100"]
    server = bench_server(work / "api-state", [*base_args, "--seed", str(seed)])
    out: dict[str, Any] = {
        "tasks": tasks_n,
        "endpoints": endpoints_n,
        "instances": instances_n,
        "running_cdc": running_cdc,
        "repeat": repeat,
    }
    t0 = time.perf_counter()
    server.start()
    out["seed_seconds"] = time.perf_counter() - t0
    proxy: CountingProxyProcess | None = None
    try:
        start_cdc(server.url, running_cdc, "start-replication")
        proxy = counter = CountingProxyProcess(server.url, work)
        out["load_average_before"] = load_average()

        # (a) refresh with a tag filter: env=prod selects half of every kind.
        wall, cpu, state = timed(lambda: component(server.url, "env=prod").discover(), repeat)
        calls = counted(counter, lambda: component(counter.url, "env=prod").discover())
        out["refresh"] = {
            "wall": wall,
            "cpu": cpu,
            "calls": calls,
            "selected": [len(state.tasks), len(state.endpoints), len(state.instances)],
        }
        wall, cpu, kept = timed(lambda: naive_refresh(server.url, "env", "prod"), repeat)
        calls = counted(counter, lambda: naive_refresh(counter.url, "env", "prod"))
        out["naive_refresh"] = {
            "wall": wall,
            "cpu": cpu,
            "calls": calls,
            "selected": [len(kept["tasks"]), len(kept["endpoints"]), len(kept["instances"])],
        }

        # (b) code-location load from the stored state (owner=data-platform: every task, so the
        # sensor below watches all of them).
        watching = component(counter.url, "owner=data-platform")
        state_path = work / "state.json"
        state_path.write_text(watching.discover().to_json())
        out["state_bytes"] = state_path.stat().st_size

        def load() -> dg.Definitions:
            return watching.build_defs_from_discovery(
                DmsState.from_json(state_path.read_text(encoding="utf-8"))
            )

        before = server.faults()["counters"]["requests"] if "counters" in server.faults() else None
        counter.counts(reset=True)
        wall, cpu, defs = timed(load, repeat)
        load_calls = counter.counts(reset=True)
        after = server.faults()["counters"]["requests"] if before is not None else None
        out["load"] = {
            "wall": wall,
            "cpu": cpu,
            "calls": load_calls,
            "server_requests": None if before is None else after - before,
            "assets": len(list(defs.assets or [])),
        }

        # (c) one sensor tick: the first (no cursor: every task is an observation) and a steady
        # one (cursor of the previous tick: only changes are reported).
        direct_defs = component(server.url, "owner=data-platform").build_defs_from_discovery(
            DmsState.from_json(state_path.read_text(encoding="utf-8"))
        )
        _, first_cursor = tick_once(direct_defs)
        wall, cpu, (events, _) = timed(lambda: tick_once(direct_defs), repeat)
        swall, scpu, _ = timed(lambda: tick_once(direct_defs, first_cursor), repeat)
        calls = counted(counter, lambda: tick_once(defs))
        out["tick"] = {
            "wall": wall,
            "cpu": cpu,
            "steady_wall": swall,
            "steady_cpu": scpu,
            "calls": calls,
            "events": events,
            "metric_queries": 2 * running_cdc,
            "budget": math.ceil(tasks_n / 100) + math.ceil(2 * running_cdc / 500),
        }
        listed = [
            t
            for page in boto_client("dms", server.url)
            .get_paginator("describe_replication_tasks")
            .paginate()
            for t in page["ReplicationTasks"]
        ]
        names = {
            i["ReplicationInstanceArn"]: i["ReplicationInstanceIdentifier"]
            for i in boto_client("dms", server.url).describe_replication_instances()[
                "ReplicationInstances"
            ]
        }
        wall, cpu, _ = timed(lambda: naive_tick(server.url, listed, names), repeat)
        calls = counted(counter, lambda: naive_tick(counter.url, listed, names))
        out["naive_tick"] = {"wall": wall, "cpu": cpu, "calls": calls}
        out["describe_load_average_before"] = load_average()
        out["describe_latency"] = describe_latency.under_load(
            server.url,
            [t["ReplicationTaskArn"] for t in listed],
            env_int("BENCH_CLIENTS", 20),
            env_int("BENCH_DESCRIBE_SECONDS", 20),
        )
        out["load_average_after"] = load_average()
        proxy.close()
        proxy = None

        out["throttle"] = throttled(server, base_args, state_path, running_cdc)
    finally:
        if proxy is not None:
            proxy.close()
        server.stop()
    return out


def throttled(
    server: DmsLocalServer, base_args: list[str], state_path: Path, running_cdc: int
) -> dict[str, Any]:
    """Part 2: the same refresh and tick with --fault-throttle, full bucket then drained."""
    server.stop()
    server.extra_args = server_args([*base_args, "--fault-throttle"])
    server.start()
    start_cdc(server.url, running_cdc, "resume-processing")
    results: dict[str, Any] = {"settings": server.faults()}
    listed = [
        t
        for page in boto_client("dms", server.url, {"mode": "adaptive", "max_attempts": 10})
        .get_paginator("describe_replication_tasks")
        .paginate()
        for t in page["ReplicationTasks"]
    ]
    names = {
        i["ReplicationInstanceArn"]: i["ReplicationInstanceIdentifier"]
        for i in boto_client(
            "dms", server.url, {"mode": "adaptive", "max_attempts": 10}
        ).describe_replication_instances()["ReplicationInstances"]
    }

    def refresh() -> Any:
        return component(server.url, "owner=data-platform").discover()

    # Built before the measured steps: building them takes seconds, time in which the bucket
    # would refill.
    defs = component(server.url, "owner=data-platform").build_defs_from_discovery(
        DmsState.from_json(state_path.read_text(encoding="utf-8"))
    )

    def tick() -> Any:
        return tick_once(defs)

    def boto_tick() -> Any:
        # The same retry settings as the component's defaults: standard mode, 3 attempts.
        return naive_tick(server.url, listed, names, {"mode": "standard", "max_attempts": 3})

    scenarios: list[tuple[str, bool, list[tuple[str, Callable[[], Any]]]]] = [
        ("full bucket", False, [("refresh", refresh), ("tick", tick)]),
        ("drained bucket", True, [("refresh", refresh), ("tick", tick)]),
        ("per-task pattern, full bucket", False, [("tick", boto_tick)]),
    ]
    for scenario, drain, steps in scenarios:
        row: dict[str, Any] = {"load_average": load_average()}
        for name, step in steps:
            time.sleep(200 / 8 + 1)  # let the bucket refill
            if drain:  # another client empties the bucket first, as on a busy account
                dms = boto_client("dms", server.url)
                for _ in range(400):
                    try:
                        dms.describe_account_attributes()
                    except ClientError as error:
                        if error.response["Error"]["Code"] == "ThrottlingException":
                            break
            server.faults({"reset_counters": True})
            wall = time.perf_counter()
            try:
                step()
                outcome = "ok"
            except Exception as error:
                outcome = f"failed: {type(error).__name__}: {str(error)[:200]}"
            row[name] = {
                "wall": time.perf_counter() - wall,
                "outcome": outcome,
                "counters": server.faults()["counters"],
            }
        results[scenario] = row
    return results


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dms-bench-") as tmp:
        print(json.dumps(run(Path(tmp)), indent=2, default=str), file=sys.stdout)
