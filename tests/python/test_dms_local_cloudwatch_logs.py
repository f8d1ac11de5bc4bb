"""dms-local's CloudWatch metrics and Logs after a real PostgreSQL full load, read by independent
clients: boto3 (CloudWatch over RPC v2 CBOR, Logs over JSON 1.1), the AWS CLI, signed
query-protocol and JSON 1.0 requests, and dmsctl (our own C++ clients)."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.model
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_cluster_endpoint,
    create_task,
    local_client,
    selection_rules,
)
from dms_local_fixture import FAST_ARGS
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

SOURCE_DB = "dms_local_cw_source"
TARGET_DB = "dms_local_cw_target"
ROWS = {"orders": 3000, "items": 700}
INTERVAL_S = 0.2  # --metrics-interval-ms 200
REGION = "us-east-1"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d \[[A-Z_]+ *\][IWE]:  .+$")
AWS_CLI = "/usr/bin/aws" if Path("/usr/bin/aws").exists() else shutil.which("aws")
XMLNS = {"cw": "http://monitoring.amazonaws.com/doc/2010-08-01/"}


def selection(table: str) -> str:
    return selection_rules("public", table, rule_name="pick")


def client(server: DmsLocalServer, service: str) -> Any:
    return local_client(server.url, service)


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


@dataclass
class Loaded:
    server: DmsLocalServer
    ok_arn: str
    ok_id: str  # the task's resource id (the ARN's last part)
    failed_arn: str
    failed_id: str
    failure: str
    start: datetime.datetime


@pytest.fixture(scope="module")
def loaded(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """One dms-local, one finished full load and one failed task, shared by the module's tests."""
    pg_cluster.create_database(SOURCE_DB)
    pg_cluster.create_database(TARGET_DB)
    pg_cluster.psql(
        "CREATE TABLE orders (id int PRIMARY KEY, note text);"
        "INSERT INTO orders SELECT g, repeat('x', 50) FROM generate_series(1, 3000) g;"
        "CREATE TABLE items (id int PRIMARY KEY, name text);"
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 700) g; ANALYZE;",
        SOURCE_DB,
    )
    state = tmp_path_factory.mktemp("cwlogs") / "state"
    server = DmsLocalServer(state, extra_args=[*FAST_ARGS, "--metrics-interval-ms", "200"])
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"})
    server.start()
    try:
        dms = client(server, "dms")

        source = create_cluster_endpoint(dms, "src", "source", pg_cluster, SOURCE_DB, password="pw")
        target = create_cluster_endpoint(dms, "dst", "target", pg_cluster, TARGET_DB, password="pw")
        instance = create_available_instance(dms, "local")
        logging_on = json.dumps({"Logging": {"EnableLogging": True}})

        def task(name: str, table: str) -> str:
            return create_task(
                dms,
                name,
                source=source,
                target=target,
                instance=instance,
                table_mappings=selection(table),
                ReplicationTaskSettings=logging_on,
            )

        ok_arn = task("cw-ok", "%")
        failed_arn = task("cw-missing", "no_such_table")
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=2)
        for arn in (ok_arn, failed_arn):
            dms.start_replication_task(
                ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
            )
        wait_until(lambda: status(dms, ok_arn)["Status"] == "stopped")
        wait_until(lambda: status(dms, failed_arn)["Status"] == "failed")
        done = status(dms, ok_arn)
        assert done["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", done
        failure = str(status(dms, failed_arn)["LastFailureMessage"])
        yield Loaded(
            server,
            ok_arn,
            ok_arn.rsplit(":", 1)[1],
            failed_arn,
            failed_arn.rsplit(":", 1)[1],
            failure,
            start,
        )
    finally:
        if server.process is not None:
            assert server.stop() == 0
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        pg_cluster.drop_database(SOURCE_DB)
        pg_cluster.drop_database(TARGET_DB)


def status(dms: Any, arn: str) -> dict[str, Any]:
    tasks = dms.describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
    )["ReplicationTasks"]
    return dict(tasks[0])


def task_dimensions(task_id: str) -> list[dict[str, str]]:
    return [
        {"Name": "ReplicationInstanceIdentifier", "Value": "local"},
        {"Name": "ReplicationTaskIdentifier", "Value": task_id},
    ]


def window(loaded: Loaded) -> dict[str, datetime.datetime]:
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2)
    return {"StartTime": loaded.start, "EndTime": end}


def metric_query(
    query_id: str,
    metric: str,
    dimensions: list[dict[str, str]],
    *,
    period: int = 60,
    stat: str = "Sum",
) -> dict[str, Any]:
    """One GetMetricData query of an AWS/DMS metric."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": "AWS/DMS", "MetricName": metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": stat,
        },
    }


def rows_moved(cloudwatch: Any, loaded: Loaded, metric: str) -> float:
    """Sum of the per-interval rates times the interval: the rows the metric says moved."""
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[metric_query("rows", metric, task_dimensions(loaded.ok_id))],
        **window(loaded),
    )
    return float(sum(answer["MetricDataResults"][0]["Values"])) * INTERVAL_S


def test_settings_name_the_log_group_and_stream(loaded: Loaded) -> None:
    dms = client(loaded.server, "dms")
    logging = json.loads(status(dms, loaded.ok_arn)["ReplicationTaskSettings"])["Logging"]
    assert logging["EnableLogging"] is True
    assert logging["CloudWatchLogGroup"] == "dms-tasks-local"
    assert logging["CloudWatchLogStream"] == f"dms-task-{loaded.ok_id}"

    # As in DMS: the names are filled only while logging is on, also across modifications.
    def modify(enabled: bool) -> dict[str, Any]:
        settings = json.dumps({"Logging": {"EnableLogging": enabled}})
        task = dms.modify_replication_task(
            ReplicationTaskArn=loaded.failed_arn, ReplicationTaskSettings=settings
        )["ReplicationTask"]
        return dict(json.loads(task["ReplicationTaskSettings"])["Logging"])

    off = modify(False)
    assert (off["CloudWatchLogGroup"], off["CloudWatchLogStream"]) == (None, None)
    on = modify(True)
    assert on["CloudWatchLogGroup"] == "dms-tasks-local"
    assert on["CloudWatchLogStream"] == f"dms-task-{loaded.failed_id}"


def test_task_log_lines_in_dms_format(loaded: Loaded) -> None:
    logs = client(loaded.server, "logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="dms-tasks-")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["dms-tasks-local"]
    streams = logs.describe_log_streams(logGroupName="dms-tasks-local")["logStreams"]
    assert {s["logStreamName"] for s in streams} == {
        f"dms-task-{loaded.ok_id}",
        f"dms-task-{loaded.failed_id}",
    }
    page = logs.get_log_events(
        logGroupName="dms-tasks-local",
        logStreamName=f"dms-task-{loaded.ok_id}",
        startFromHead=True,
    )
    lines = [e["message"] for e in page["events"]]
    assert lines and all(LINE.match(line) for line in lines), lines
    text = "\n".join(lines)
    assert "[TASK_MANAGER    ]I:  Task 'cw-ok' is starting" in text
    assert "]I:  Start loading table 'public'.'orders'" in text
    for table, rows in ROWS.items():
        assert re.search(rf"Load finished for table \S*{table}\S* .*{rows} rows received", text)
    assert "]I:  Task 'cw-ok' finished: Stop Reason FULL_LOAD_ONLY_FINISHED. 3700 rows" in text
    assert not any("]E:  " in line for line in lines)
    # Reading on from the end gives nothing, and the same token back.
    more = logs.get_log_events(
        logGroupName="dms-tasks-local",
        logStreamName=f"dms-task-{loaded.ok_id}",
        nextToken=page["nextForwardToken"],
    )
    assert more["events"] == [] and more["nextForwardToken"] == page["nextForwardToken"]
    # The newest two, then backwards from there.
    tail = logs.get_log_events(
        logGroupName="dms-tasks-local", logStreamName=f"dms-task-{loaded.ok_id}", limit=2
    )
    assert [e["message"] for e in tail["events"]] == lines[-2:]
    before = logs.get_log_events(
        logGroupName="dms-tasks-local",
        logStreamName=f"dms-task-{loaded.ok_id}",
        nextToken=tail["nextBackwardToken"],
        limit=1,
    )
    assert [e["message"] for e in before["events"]] == lines[-3:-2]


def test_failed_task_logs_an_error_line_with_the_failure(loaded: Loaded) -> None:
    logs = client(loaded.server, "logs")
    found = logs.filter_log_events(
        logGroupName="dms-tasks-local",
        logStreamNames=[f"dms-task-{loaded.failed_id}"],
        filterPattern='"]E:"',
    )["events"]
    assert found, "no E: line"
    assert any(loaded.failure in e["message"] for e in found), (loaded.failure, found)
    assert all(e["logStreamName"] == f"dms-task-{loaded.failed_id}" for e in found)
    with pytest.raises(ClientError) as missing:
        logs.get_log_events(logGroupName="dms-tasks-local", logStreamName="dms-task-NOPE")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_metrics_have_dms_dimensions_and_match_the_rows_loaded(loaded: Loaded) -> None:
    cloudwatch = client(loaded.server, "cloudwatch")
    listed = cloudwatch.list_metrics(
        Namespace="AWS/DMS",
        Dimensions=[{"Name": "ReplicationTaskIdentifier", "Value": loaded.ok_id}],
    )["Metrics"]
    names = {m["MetricName"] for m in listed}
    assert {
        "FullLoadThroughputRowsSource",
        "FullLoadThroughputRowsTarget",
        "FullLoadThroughputBandwidthSource",
        "FullLoadThroughputBandwidthTarget",
        "CPUUtilization",
        "MemoryUsage",
    } <= names
    for metric in listed:
        assert sorted(metric["Dimensions"], key=lambda d: d["Name"]) == task_dimensions(
            loaded.ok_id
        )
    total = sum(ROWS.values())
    # The last interval is published within one interval of the end of the run.
    wait_until(
        lambda: abs(rows_moved(cloudwatch, loaded, "FullLoadThroughputRowsTarget") - total) < 0.5,
        10,
    )
    assert rows_moved(cloudwatch, loaded, "FullLoadThroughputRowsSource") == pytest.approx(total)

    instance = cloudwatch.get_metric_statistics(
        Namespace="AWS/DMS",
        MetricName="FreeStorageSpace",
        Dimensions=[{"Name": "ReplicationInstanceIdentifier", "Value": "local"}],
        Period=60,
        Statistics=["Minimum", "Maximum", "SampleCount"],
        **window(loaded),
    )["Datapoints"]
    assert instance and all(p["Minimum"] > 0 and p["Unit"] == "Bytes" for p in instance)
    cpu = cloudwatch.get_metric_statistics(
        Namespace="AWS/DMS",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "ReplicationInstanceIdentifier", "Value": "local"}],
        Period=60,
        Statistics=["Maximum"],
        **window(loaded),
    )["Datapoints"]
    assert cpu and all(0 <= p["Maximum"] <= 100 for p in cpu)


def test_get_metric_data_pages_and_errors(loaded: Loaded) -> None:
    cloudwatch = client(loaded.server, "cloudwatch")
    instance = [{"Name": "ReplicationInstanceIdentifier", "Value": "local"}]
    query = metric_query("free", "FreeableMemory", instance, period=1, stat="Average")
    span = window(loaded)

    def whole_series() -> dict[str, Any]:
        span["EndTime"] = datetime.datetime.now(datetime.timezone.utc)
        return dict(
            cloudwatch.get_metric_data(
                MetricDataQueries=[query], ScanBy="TimestampAscending", **span
            )["MetricDataResults"][0]
        )

    # One-second buckets of 0.2-second samples: a few seconds of them to page through.
    wait_until(lambda: len(whole_series()["Values"]) >= 3, 10)
    whole = whole_series()
    assert len(whole["Values"]) >= 3 and whole["Timestamps"] == sorted(whole["Timestamps"])
    paged: list[float] = []
    token: dict[str, str] = {}
    while True:
        page = cloudwatch.get_metric_data(
            MetricDataQueries=[query], ScanBy="TimestampAscending", MaxDatapoints=2, **span, **token
        )
        paged += page["MetricDataResults"][0]["Values"]
        if "NextToken" not in page:
            break
        assert page["MetricDataResults"][0]["StatusCode"] == "PartialData"
        token = {"NextToken": page["NextToken"]}
    assert paged == whole["Values"]

    def code(call: Callable[[], Any]) -> tuple[str, str]:
        with pytest.raises(ClientError) as error:
            call()
        return error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]

    backwards = {"StartTime": span["EndTime"], "EndTime": span["StartTime"]}
    assert code(lambda: cloudwatch.get_metric_data(MetricDataQueries=[query], **backwards)) == (
        "InvalidParameterValue",
        "The parameter StartTime must be less than the parameter EndTime.",
    )
    math = [{"Id": "m", "Expression": "SUM(METRICS())"}]
    got = code(lambda: cloudwatch.get_metric_data(MetricDataQueries=math, **span))
    assert got[0] == "InvalidParameterValue" and "metric math" in got[1]
    assert (
        code(
            lambda: cloudwatch.get_metric_data(MetricDataQueries=[query], NextToken="bogus", **span)
        )[0]
        == "InvalidNextToken"
    )


def signed_post(
    server: DmsLocalServer, service: str, body: bytes, headers: dict[str, str]
) -> requests.Response:
    request = AWSRequest(method="POST", url=server.url + "/", data=body, headers=headers)
    SigV4Auth(Credentials("test", "test"), service, REGION).add_auth(request)
    return requests.post(server.url + "/", data=body, headers=dict(request.headers), timeout=30)


def test_query_protocol_get_metric_statistics(loaded: Loaded) -> None:
    span = window(loaded)
    form = {
        "Action": "GetMetricStatistics",
        "Version": "2010-08-01",
        "Namespace": "AWS/DMS",
        "MetricName": "FullLoadThroughputRowsTarget",
        "Dimensions.member.1.Name": "ReplicationInstanceIdentifier",
        "Dimensions.member.1.Value": "local",
        "Dimensions.member.2.Name": "ReplicationTaskIdentifier",
        "Dimensions.member.2.Value": loaded.ok_id,
        "StartTime": span["StartTime"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "EndTime": span["EndTime"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Period": "60",
        "Statistics.member.1": "Sum",
    }
    content = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    body = urllib.parse.urlencode(form).encode()
    answer = signed_post(loaded.server, "monitoring", body, content)
    assert answer.status_code == 200, answer.text
    root = ET.fromstring(answer.text)
    points = root.findall(".//cw:Datapoints/cw:member", XMLNS)
    assert points
    total = sum(float(p.findtext("cw:Sum", namespaces=XMLNS) or 0) for p in points)
    assert total * INTERVAL_S == pytest.approx(sum(ROWS.values()))
    stamp = points[0].findtext("cw:Timestamp", namespaces=XMLNS)
    assert stamp and stamp.endswith("Z")

    bad = signed_post(loaded.server, "monitoring", body.replace(b"Period=60", b"Period=7"), content)
    assert bad.status_code == 400
    error = ET.fromstring(bad.text)
    assert error.findtext(".//cw:Code", namespaces=XMLNS) == "InvalidParameterValue"
    unsigned = requests.post(loaded.server.url + "/", data=body, headers=content, timeout=30)
    assert unsigned.status_code >= 400


def test_json_10_protocol_as_our_cpp_client_sends_it(loaded: Loaded) -> None:
    body = json.dumps({"Namespace": "AWS/DMS", "MetricName": "MemoryUsage"}).encode()
    answer = signed_post(
        loaded.server,
        "monitoring",
        body,
        {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics",
        },
    )
    assert answer.status_code == 200, answer.text
    metrics = answer.json()["Metrics"]
    assert {m["Dimensions"][1]["Value"] for m in metrics} >= {loaded.ok_id}


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "query"])
def test_botocore_forced_to_cbor_or_query(
    loaded: Loaded, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore prefers JSON 1.0 for CloudWatch; putting another protocol first makes it speak that.
    monkeypatch.setattr(botocore.model, "PRIORITY_ORDERED_SUPPORTED_PROTOCOLS", (protocol,))
    cloudwatch = boto3.session.Session().client(
        "cloudwatch",
        endpoint_url=loaded.server.url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    assert cloudwatch.meta.service_model.resolved_protocol == protocol
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                **metric_query(
                    "rows", "FullLoadThroughputRowsTarget", task_dimensions(loaded.ok_id)
                ),
                "ReturnData": True,
            }
        ],
        **window(loaded),
    )["MetricDataResults"][0]
    assert sum(result["Values"]) * INTERVAL_S == pytest.approx(sum(ROWS.values()))
    assert all(isinstance(t, datetime.datetime) for t in result["Timestamps"])
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/DMS",
        MetricName="MemoryUsage",
        Dimensions=task_dimensions(loaded.ok_id),
        Period=60,
        Statistics=["Maximum"],
        **window(loaded),
    )["Datapoints"]
    assert points and all(p["Maximum"] > 0 and p["Unit"] == "Bytes" for p in points)
    assert isinstance(points[0]["Timestamp"], datetime.datetime)
    listed = cloudwatch.list_metrics(Namespace="AWS/DMS", MetricName="FreeableMemory")["Metrics"]
    assert listed == [
        {
            "Namespace": "AWS/DMS",
            "MetricName": "FreeableMemory",
            "Dimensions": [{"Name": "ReplicationInstanceIdentifier", "Value": "local"}],
        }
    ]
    with pytest.raises(ClientError) as error:
        cloudwatch.get_metric_statistics(
            Namespace="AWS/DMS",
            MetricName="MemoryUsage",
            Period=60,
            Statistics=["p99.9"],
            **window(loaded),
        )
    assert error.value.response["Error"]["Code"] == "InvalidParameterValue"


def dmsctl() -> str | None:
    return os.environ.get("DMSCTL") or shutil.which("dmsctl", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(dmsctl() is None, reason="dmsctl is not installed")
def test_dmsctl_reads_metrics_and_logs(loaded: Loaded) -> None:
    binary = dmsctl()
    assert binary is not None
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    base = [binary, "--endpoint-url", loaded.server.url, "--region", REGION, "--output", "json"]
    logs = subprocess.run(
        [*base, "logs", "cw-ok"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert logs.returncode == 0, logs.stderr
    assert "FULL_LOAD_ONLY_FINISHED" in logs.stdout
    metrics = subprocess.run(
        [*base, "metrics", "cw-ok"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert metrics.returncode == 0, metrics.stderr
    assert "FullLoadThroughputRowsTarget" in metrics.stdout


def aws_cli(loaded: Loaded, *args: str) -> dict[str, Any]:
    assert AWS_CLI is not None
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    done = subprocess.run(
        [
            AWS_CLI,
            *args,
            "--endpoint-url",
            loaded.server.url,
            "--region",
            REGION,
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.mark.skipif(AWS_CLI is None, reason="the AWS CLI is not installed")
def test_aws_cli_reads_metrics_and_logs(loaded: Loaded) -> None:
    span = window(loaded)
    queries = [metric_query("rows", "FullLoadThroughputRowsTarget", task_dimensions(loaded.ok_id))]
    data = aws_cli(
        loaded,
        "cloudwatch",
        "get-metric-data",
        "--metric-data-queries",
        json.dumps(queries),
        "--start-time",
        span["StartTime"].isoformat(),
        "--end-time",
        span["EndTime"].isoformat(),
    )
    total = sum(data["MetricDataResults"][0]["Values"]) * INTERVAL_S
    assert total == pytest.approx(sum(ROWS.values()))
    events = aws_cli(
        loaded,
        "logs",
        "get-log-events",
        "--log-group-name",
        "dms-tasks-local",
        "--log-stream-name",
        f"dms-task-{loaded.failed_id}",
        "--start-from-head",
    )["events"]
    assert any("]E:  " in e["message"] and loaded.failure in e["message"] for e in events)
