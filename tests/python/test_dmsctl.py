"""dmsctl end to end: the real binary as a subprocess against a real moto server.

Set DMSCTL=/path/to/dmsctl to test a binary other than the one installed in this environment (a
debug build, for example).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from dagster_dms.testing.account import (
    MigrationPath,
    SeededAccount,
    create_postgres_endpoint,
    create_tagged_tasks,
)
from rewriting_proxy import Reply, Rewrite, RewritingProxy
from terminal_stderr import run_with_terminal_stderr

if TYPE_CHECKING:
    from conftest import MotoServer

ACCOUNT = "123456789012"
REGION = "us-east-1"
# Waits poll this often (seconds) so that the tests do not sit through DMS-sized intervals.
POLL = "0.1"


@pytest.fixture
def dmsctl(request: pytest.FixtureRequest) -> str:
    override = os.environ.get("DMSCTL")
    if override:
        return override
    return str(request.getfixturevalue("dmsctl_path"))


@dataclass
class Cli:
    """Runs dmsctl against one endpoint with the test's isolated AWS environment."""

    binary: str
    endpoint: str
    extra_env: dict[str, str] = field(default_factory=dict)

    def __call__(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env["DMSCTL_POLL_INTERVAL"] = POLL
        env.update(self.extra_env)
        return subprocess.run(
            [self.binary, "--endpoint-url", self.endpoint, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )

    def json(self, *args: str) -> Any:
        result = self("--output", "json", *args)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def cli(dmsctl: str, moto: MotoServer) -> Cli:
    return Cli(dmsctl, moto.url)


def task_arn(identifier: str) -> str:
    # moto names task ARNs after the identifier; AWS uses a generated resource id instead.
    return f"arn:aws:dms:{REGION}:{ACCOUNT}:task:{identifier}"


@pytest.fixture
def seeded(boto3_client: Callable[[str], Any]) -> SeededAccount:
    """One instance, a source and a target endpoint, and three tagged tasks."""
    dms = boto3_client("dms")
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="ri-main",
        ReplicationInstanceClass="dms.t3.medium",
        AllocatedStorage=100,
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    source = create_postgres_endpoint(
        dms,
        "orders-source",
        "source",
        server="source.db.internal",
        port=5432,
        database="orders",
        username="migrator",
        password="hunter2-do-not-print",
    )
    target = create_postgres_endpoint(
        dms,
        "orders-target",
        "target",
        server="target.db.internal",
        port=5433,
        database="warehouse",
        username="migrator",
        password=None,
    )
    tasks = {
        "prod-orders": {"migration_type": "full-load", "tags": {"env": "prod"}},
        "prod-orders-cdc": {"migration_type": "cdc", "tags": {"env": "prod", "team": "data"}},
        "dev-orders": {"migration_type": "full-load", "tags": {"env": "dev"}},
    }
    arns = create_tagged_tasks(
        dms,
        tasks,
        MigrationPath(source, target, instance),
        table_mappings=json.dumps({"rules": []}),
        ReplicationTaskSettings=json.dumps({"Logging": {"EnableLogging": True}}),
    )
    return SeededAccount(instance, source, target, arns)


def table_rows(stdout: str) -> list[list[str]]:
    """A table's data rows, split on runs of blanks (no cell in these tests holds a blank)."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    return [line.split() for line in lines[1:]]


def details(stdout: str) -> dict[str, str]:
    """A FIELD/VALUE block: field names may hold single blanks, two or more separate the value."""
    pairs = (re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in stdout.splitlines())
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def first_column(stdout: str) -> list[str]:
    return [row[0] for row in table_rows(stdout)]


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("dmsctl: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], stderr


# ---- global options ------------------------------------------------------------------------------


def test_version_prints_name_and_version(dmsctl: str) -> None:
    result = subprocess.run([dmsctl, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    words = result.stdout.split()
    assert words[0] == "dmsctl"
    assert words[1][0].isdigit() and words[1].count(".") >= 2


def test_help_documents_exit_codes(dmsctl: str) -> None:
    result = subprocess.run([dmsctl, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "Exit codes:" in result.stdout
    assert "3  a wait timed out" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["tasks"],
        ["tasks", "frobnicate"],
        ["tasks", "describe"],
        ["--output", "yaml", "tasks", "list"],
        ["tasks", "start", "x", "--type", "start-now"],
        ["tasks", "wait", "x", "--until", "done"],
    ],
)
def test_usage_errors_exit_2_on_one_line(cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.returncode == 2, result
    assert_one_line_error(result.stderr, "usage:")
    assert result.stdout == ""


def test_unreachable_endpoint_is_an_aws_error(dmsctl: str, aws_env: object) -> None:
    result = Cli(dmsctl, "http://127.0.0.1:9")("--max-attempts", "1", "tasks", "list")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "connection")


def test_global_options_may_follow_the_command(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("tasks", "list", "--output", "json", "--region", REGION)
    assert result.returncode == 0, result.stderr
    identifiers = {
        t["ReplicationTaskIdentifier"] for t in json.loads(result.stdout)["ReplicationTasks"]
    }
    assert identifiers == {"prod-orders", "prod-orders-cdc", "dev-orders"}


# ---- tasks list ----------------------------------------------------------------------------------


def test_tasks_list_table_shows_every_task(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("tasks", "list")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header[:2] == ["IDENTIFIER", "STATUS"]
    rows = {row[0]: row for row in table_rows(result.stdout)}
    assert set(rows) == {"prod-orders", "prod-orders-cdc", "dev-orders"}
    assert rows["prod-orders-cdc"][1] == "creating"
    assert rows["prod-orders-cdc"][2] == "cdc"
    assert rows["dev-orders"][-1] == task_arn("dev-orders")


FILTER_CASES = [
    (["--name-pattern", "^prod-"], {"prod-orders", "prod-orders-cdc"}),
    (["--name-pattern", "orders$"], {"prod-orders", "dev-orders"}),
    (["--exclude-pattern", "cdc"], {"prod-orders", "dev-orders"}),
    (["--name-pattern", "^prod", "--exclude-pattern", "cdc$"], {"prod-orders"}),
    (["--tag", "team"], {"prod-orders-cdc"}),
    (["--tag", "env=prod"], {"prod-orders", "prod-orders-cdc"}),
    (["--tag", "env=prod", "--tag", "team=data"], {"prod-orders-cdc"}),
    (["--tag", "env=dev", "--name-pattern", "orders"], {"dev-orders"}),
]


@pytest.mark.parametrize(("args", "expected"), FILTER_CASES)
def test_tasks_list_filters_json(
    cli: Cli, seeded: SeededAccount, args: list[str], expected: set[str]
) -> None:
    tasks = cli.json("tasks", "list", *args)["ReplicationTasks"]
    assert {t["ReplicationTaskIdentifier"] for t in tasks} == expected
    for task in tasks:
        assert task["ReplicationTaskArn"] == seeded.task_arns[task["ReplicationTaskIdentifier"]]
        assert task["MigrationType"] in ("full-load", "cdc")
        # Tags are read (and shown) exactly when a tag filter needs them.
        assert ("Tags" in task) == any(a == "--tag" for a in args)


@pytest.mark.parametrize(("args", "expected"), FILTER_CASES)
def test_tasks_list_filters_table(
    cli: Cli, seeded: SeededAccount, args: list[str], expected: set[str]
) -> None:
    result = cli("tasks", "list", *args)
    assert result.returncode == 0, result.stderr
    assert set(first_column(result.stdout)) == expected
    assert result.stderr == ""


def test_tasks_list_tags_in_json_and_table(cli: Cli, seeded: SeededAccount) -> None:
    tasks = cli.json("tasks", "list", "--tag", "team=data")["ReplicationTasks"]
    assert len(tasks) == 1
    assert sorted((t["Key"], t["Value"]) for t in tasks[0]["Tags"]) == [
        ("env", "prod"),
        ("team", "data"),
    ]
    result = cli("tasks", "list", "--tag", "team")
    assert "TAGS" in result.stdout.splitlines()[0]
    assert "env=prod,team=data" in result.stdout


def test_tasks_list_warns_when_filters_match_nothing(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("--output", "json", "tasks", "list", "--tag", "env=staging")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"ReplicationTasks": []}
    assert "warning" in result.stderr
    assert "matched none of the 3 replication tasks" in result.stderr


def test_tasks_list_warns_about_underscore_patterns(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("tasks", "list", "--name-pattern", "^prod_orders")
    assert result.returncode == 0
    assert first_column(result.stdout) == []
    assert "--name-pattern" in result.stderr
    assert "prod-orders" in result.stderr  # the hyphen form is suggested


def test_tasks_list_bad_regex_is_a_usage_error(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("tasks", "list", "--name-pattern", "prod-(orders")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "--name-pattern", "prod-(orders")
    result = cli("tasks", "list", "--exclude-pattern", "[a-")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "--exclude-pattern")


def test_tasks_list_bad_tag_is_a_usage_error(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("tasks", "list", "--tag", "=prod")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "--tag")


def test_tasks_list_empty_account(cli: Cli) -> None:
    assert cli.json("tasks", "list") == {"ReplicationTasks": []}
    result = cli("tasks", "list")
    assert result.returncode == 0
    assert result.stdout.split()[0] == "IDENTIFIER"
    assert table_rows(result.stdout) == []


# ---- tasks describe ------------------------------------------------------------------------------


def test_describe_by_identifier_and_by_arn(cli: Cli, seeded: SeededAccount) -> None:
    by_id = cli.json("tasks", "describe", "prod-orders-cdc")["ReplicationTask"]
    by_arn = cli.json("tasks", "describe", seeded.task_arns["prod-orders-cdc"])["ReplicationTask"]
    assert by_id == by_arn
    assert by_id["ReplicationTaskIdentifier"] == "prod-orders-cdc"
    assert by_id["MigrationType"] == "cdc"
    assert by_id["Status"] == "creating"
    assert by_id["SourceEndpointArn"] == seeded.source_arn
    assert by_id["ReplicationInstanceArn"] == seeded.instance_arn
    # Timestamps are epoch seconds, and recent.
    assert abs(by_id["ReplicationTaskCreationDate"] - time.time()) < 300
    assert json.loads(by_id["ReplicationTaskSettings"]) == {"Logging": {"EnableLogging": True}}

    table = cli("tasks", "describe", seeded.task_arns["prod-orders"])
    assert table.returncode == 0
    fields = details(table.stdout)
    assert fields["Identifier"] == "prod-orders"
    assert fields["ARN"] == seeded.task_arns["prod-orders"]
    assert fields["Status"] == "creating"


@pytest.mark.parametrize("name", ["no-such-task", task_arn("no-such-task")])
def test_describe_unknown_task_exits_1_with_one_line(
    cli: Cli, seeded: SeededAccount, name: str
) -> None:
    result = cli("tasks", "describe", name)
    assert result.returncode == 1
    assert result.stdout == ""
    assert_one_line_error(result.stderr, "ResourceNotFoundFault", f"'{name}'", REGION)


# ---- start / stop / wait -------------------------------------------------------------------------


def test_start_then_wait_until_running_then_stop(cli: Cli, seeded: SeededAccount) -> None:
    started = cli.json("tasks", "start", "prod-orders")
    assert started["Started"] is True
    assert started["StartReplicationTaskType"] == "start-replication"
    assert started["ReplicationTask"]["ReplicationTaskIdentifier"] == "prod-orders"
    assert started["ReplicationTask"]["Status"] in ("starting", "running")

    waited = cli(
        "tasks", "wait", seeded.task_arns["prod-orders"], "--until", "running", "--timeout", "10"
    )
    assert waited.returncode == 0, waited.stderr
    assert "Outcome: succeeded" in waited.stdout
    assert details(waited.stdout)["Status"] == "running"

    # Starting a running task does not start it again.
    again = cli.json("tasks", "start", "prod-orders")
    assert again["Started"] is False
    assert "already running" in again["Notes"][0]

    stopped = cli.json("tasks", "stop", "prod-orders")
    assert stopped["Outcome"] == "succeeded"
    assert stopped["ReplicationTask"]["Status"] in ("stopping", "stopped")
    described = cli.json("tasks", "describe", "prod-orders")["ReplicationTask"]
    assert described["Status"] == "stopped"


def test_stop_a_task_that_is_not_running(cli: Cli, seeded: SeededAccount) -> None:
    result = cli.json("tasks", "stop", "dev-orders")
    assert result["Outcome"] == "succeeded"
    assert "nothing to stop" in result["Notes"][0]


def test_start_wait_resumes_a_cdc_task_that_ran_before(cli: Cli, seeded: SeededAccount) -> None:
    assert cli("tasks", "start", "prod-orders-cdc").returncode == 0
    assert cli("tasks", "stop", "prod-orders-cdc").returncode == 0
    result = cli(
        "--output", "json", "tasks", "start", "prod-orders-cdc", "--wait", "--timeout", "20"
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["Outcome"] == "succeeded"
    assert document["Phase"] == "replicating"
    assert document["StartReplicationTaskType"] == "resume-processing"
    assert any("resume-processing" in note for note in document["Notes"])
    # Not a terminal: progress goes to stderr as plain lines, one per change.
    progress = [line for line in result.stderr.splitlines() if line.startswith("prod-orders-cdc:")]
    assert progress, result.stderr
    assert "\r" not in result.stderr
    assert "running (replicating)" in progress[-1]
    assert len(progress) == len(set(line.rsplit("[", 1)[0] for line in progress))


def test_progress_redraws_one_line_on_a_terminal(
    dmsctl: str, cli: Cli, seeded: SeededAccount
) -> None:
    assert cli("tasks", "start", "prod-orders").returncode == 0
    process, written = run_with_terminal_stderr(
        [
            dmsctl,
            "--endpoint-url",
            cli.endpoint,
            "tasks",
            "wait",
            "prod-orders",
            "--until",
            "stopped",
            "--timeout",
            "1",
        ],
        env=dict(os.environ, DMSCTL_POLL_INTERVAL=POLL),
        timeout=60,
        check=False,
    )
    assert process.returncode == 3
    screen = written.decode()
    # Every poll redraws the same line: carriage return + erase to the end of the line.
    redraws = screen.count("\r\x1b[K")
    assert redraws >= 2, screen
    assert "prod-orders: running (loading), 100% loaded" in screen
    assert "tables loaded 1, loading 0, queued 0, errored 0" in screen
    # The live line is ended before the one-line error, which stays on a line of its own.
    assert "\ndmsctl: timed out" in screen.replace("\r\n", "\n")


def test_unknown_profile_is_a_configuration_error(cli: Cli) -> None:
    result = cli("--profile", "no-such-profile", "tasks", "list")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "no-such-profile")


def test_wait_timeout_exits_3(cli: Cli, seeded: SeededAccount) -> None:
    assert cli("tasks", "start", "prod-orders").returncode == 0
    begun = time.monotonic()
    result = cli("tasks", "wait", "prod-orders", "--until", "stopped", "--timeout", "1")
    assert result.returncode == 3
    assert time.monotonic() - begun < 30
    assert "Outcome: timed-out" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("dmsctl:")]
    assert len(errors) == 1
    assert "timed out" in errors[0] and "prod-orders" in errors[0]


def test_wait_until_running_on_a_task_never_started_times_out(
    cli: Cli, seeded: SeededAccount
) -> None:
    result = cli(
        "--output", "json", "tasks", "wait", "dev-orders", "--until", "running", "--timeout", "1"
    )
    assert result.returncode == 3
    document = json.loads(result.stdout)
    assert document["Outcome"] == "timed-out"
    assert document["ReplicationTask"]["Status"] == "creating"


def test_start_unknown_task_exits_1(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("tasks", "start", "ghost", "--wait")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "ResourceNotFoundFault", "ghost")


# ---- endpoints and instances ---------------------------------------------------------------------


def test_endpoints_list(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("endpoints", "list")
    assert result.returncode == 0, result.stderr
    rows = {row[0]: row for row in table_rows(result.stdout)}
    assert set(rows) == {"orders-source", "orders-target"}
    assert rows["orders-source"][1:3] == ["source", "postgres"]
    assert "source.db.internal" in rows["orders-source"]
    assert "5433" in rows["orders-target"]

    endpoints = cli.json("endpoints", "list")["Endpoints"]
    by_id = {e["EndpointIdentifier"]: e for e in endpoints}
    assert by_id["orders-source"]["EndpointArn"] == seeded.source_arn
    assert by_id["orders-target"]["DatabaseName"] == "warehouse"
    assert by_id["orders-source"]["Username"] == "migrator"
    assert "hunter2-do-not-print" not in result.stdout + json.dumps(endpoints)

    filtered = cli.json("endpoints", "list", "--name-pattern", "target$")["Endpoints"]
    assert [e["EndpointIdentifier"] for e in filtered] == ["orders-target"]


def test_instances_list(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("instances", "list")
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert len(rows) == 1
    assert rows[0][0] == "ri-main"
    assert rows[0][1] == "dms.t3.medium"
    assert rows[0][-1] == seeded.instance_arn

    instances = cli.json("instances", "list")["ReplicationInstances"]
    assert len(instances) == 1
    assert instances[0]["ReplicationInstanceIdentifier"] == "ri-main"
    assert instances[0]["AllocatedStorage"] == 100


def test_endpoints_test_waits_for_success(cli: Cli, seeded: SeededAccount) -> None:
    result = cli(
        "--output",
        "json",
        "endpoints",
        "test",
        "orders-source",
        "--instance",
        seeded.instance_arn,
        "--wait",
        "--timeout",
        "20",
    )
    assert result.returncode == 0, result.stderr
    connection = json.loads(result.stdout)["Connection"]
    assert connection["Status"] == "successful"
    assert connection["EndpointArn"] == seeded.source_arn
    assert connection["ReplicationInstanceArn"] == seeded.instance_arn
    assert connection["EndpointIdentifier"] == "orders-source"


def test_endpoints_test_without_wait_reports_testing(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("endpoints", "test", seeded.target_arn, "--instance", "ri-main")
    assert result.returncode == 0, result.stderr
    fields = details(result.stdout)
    assert fields["Status"] == "testing"
    assert fields["Endpoint"] == "orders-target"


def test_endpoints_test_unknown_instance(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("endpoints", "test", "orders-source", "--instance", "ri-missing")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "ResourceNotFoundFault", "ri-missing")


# ---- logs ----------------------------------------------------------------------------------------


def put_log_lines(boto3_client: Callable[[str], Any], group: str, stream: str, count: int) -> None:
    logs = boto3_client("logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    start = int(time.time() * 1000) - 60_000
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[
            {"timestamp": start + i * 1000, "message": f"]I:  TASK_MANAGER line {i:02d}"}
            for i in range(count)
        ],
    )


def test_logs_tail_from_the_default_group_and_stream(
    cli: Cli, seeded: SeededAccount, boto3_client: Callable[[str], Any]
) -> None:
    # Group dms-tasks-<instance id>, stream dms-task-<task resource id>.
    put_log_lines(boto3_client, "dms-tasks-ri-main", "dms-task-prod-orders", 8)
    result = cli("logs", "prod-orders", "--tail", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(None, 1)[1] for line in lines] == [
        "]I:  TASK_MANAGER line 05",
        "]I:  TASK_MANAGER line 06",
        "]I:  TASK_MANAGER line 07",
    ]
    assert lines[0].split()[0].endswith("Z")

    document = cli.json("logs", seeded.task_arns["prod-orders"], "--tail", "2")
    assert document["LogGroupName"] == "dms-tasks-ri-main"
    assert document["LogStreamName"] == "dms-task-prod-orders"
    assert [e["Message"] for e in document["Events"]] == [
        "]I:  TASK_MANAGER line 06",
        "]I:  TASK_MANAGER line 07",
    ]
    first, second = (e["Timestamp"] for e in document["Events"])
    assert second - first == pytest.approx(1.0)
    assert abs(second - time.time()) < 300


def test_logs_prefers_names_from_the_task_settings(
    cli: Cli, seeded: SeededAccount, boto3_client: Callable[[str], Any]
) -> None:
    dms = boto3_client("dms")
    settings = {
        "Logging": {
            "EnableLogging": True,
            "CloudWatchLogGroup": "custom-group",
            "CloudWatchLogStream": "custom-stream",
        }
    }
    dms.create_replication_task(
        ReplicationTaskIdentifier="custom-logs",
        SourceEndpointArn=seeded.source_arn,
        TargetEndpointArn=seeded.target_arn,
        ReplicationInstanceArn=seeded.instance_arn,
        MigrationType="full-load",
        TableMappings="{}",
        ReplicationTaskSettings=json.dumps(settings),
    )
    put_log_lines(boto3_client, "custom-group", "custom-stream", 2)
    document = cli.json("logs", "custom-logs")
    assert (document["LogGroupName"], document["LogStreamName"]) == (
        "custom-group",
        "custom-stream",
    )
    assert len(document["Events"]) == 2


def test_logs_missing_stream_names_it(cli: Cli, seeded: SeededAccount) -> None:
    result = cli("logs", "dev-orders")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "dms-task-dev-orders", "dms-tasks-ri-main")


# ---- metrics -------------------------------------------------------------------------------------


def put_task_metrics(boto3_client: Callable[[str], Any], task: str) -> None:
    cloudwatch = boto3_client("cloudwatch")
    dimensions = [
        {"Name": "ReplicationInstanceIdentifier", "Value": "ri-main"},
        {"Name": "ReplicationTaskIdentifier", "Value": task},
    ]
    now = dt.datetime.now(dt.timezone.utc)
    data = []
    for minutes_ago, latency in ((20, 3.0), (10, 5.0), (2, 12.0)):
        data.append(
            {
                "MetricName": "CDCLatencySource",
                "Dimensions": dimensions,
                "Timestamp": now - dt.timedelta(minutes=minutes_ago),
                "Value": latency,
                "Unit": "Seconds",
            }
        )
    data.append(
        {
            "MetricName": "FullLoadThroughputRowsTarget",
            "Dimensions": dimensions,
            "Timestamp": now - dt.timedelta(minutes=5),
            "Value": 1500.0,
        }
    )
    # Same metric, another task: must not be mixed in.
    data.append(
        {
            "MetricName": "CDCLatencySource",
            "Dimensions": [dimensions[0], {"Name": "ReplicationTaskIdentifier", "Value": "other"}],
            "Timestamp": now - dt.timedelta(minutes=1),
            "Value": 999.0,
        }
    )
    cloudwatch.put_metric_data(Namespace="AWS/DMS", MetricData=data)


def test_metrics_json(cli: Cli, seeded: SeededAccount, boto3_client: Callable[[str], Any]) -> None:
    put_task_metrics(boto3_client, "prod-orders-cdc")
    document = cli.json("metrics", "prod-orders-cdc")
    assert document["ReplicationInstanceIdentifier"] == "ri-main"
    assert document["ReplicationTaskIdentifier"] == "prod-orders-cdc"
    assert document["Namespace"] == "AWS/DMS"
    assert document["Source"] == "GetMetricData"
    assert document["EndTime"] - document["StartTime"] == 3600
    metrics = {m["MetricName"]: m for m in document["Metrics"]}
    assert {"CDCLatencySource", "CDCLatencyTarget", "CDCIncomingChanges"} <= set(metrics)
    latency = metrics["CDCLatencySource"]
    assert latency["Values"] == [3.0, 5.0, 12.0]
    assert latency["Latest"] == 12.0
    assert latency["Timestamps"] == sorted(latency["Timestamps"])
    assert metrics["FullLoadThroughputRowsTarget"]["Latest"] == 1500.0
    assert metrics["CDCLatencyTarget"] == {
        "MetricName": "CDCLatencyTarget",
        "Latest": None,
        "Timestamps": [],
        "Values": [],
    }


def test_metrics_table(cli: Cli, seeded: SeededAccount, boto3_client: Callable[[str], Any]) -> None:
    put_task_metrics(boto3_client, "prod-orders-cdc")
    result = cli("metrics", seeded.task_arns["prod-orders-cdc"])
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert rows["CDCLatencySource"][1] == "12"
    assert rows["CDCLatencySource"][-1] == "3"
    assert rows["CDCLatencyTarget"][1:] == ["-", "-", "0"]
    assert rows["FullLoadThroughputRowsTarget"][1] == "1500"


# ---- behaviour moto cannot produce: a rewriting proxy in front of it -----------------------------


@pytest.fixture
def proxied(dmsctl: str, moto: MotoServer) -> Iterator[Callable[[Rewrite], Cli]]:
    servers: list[RewritingProxy] = []

    def start(rewrite: Rewrite) -> Cli:
        server = RewritingProxy(moto.url, rewrite)
        servers.append(server)
        return Cli(dmsctl, server.url)

    yield start
    for server in servers:
        server.close()


def test_metrics_fall_back_to_get_metric_statistics_on_access_denied(
    proxied: Callable[[Rewrite], Cli], seeded: SeededAccount, boto3_client: Callable[[str], Any]
) -> None:
    put_task_metrics(boto3_client, "prod-orders-cdc")
    denied: list[str] = []

    def deny_batched(
        operation: str, request: dict[str, Any], document: dict[str, Any]
    ) -> Reply | None:
        if operation != "GetMetricData":
            return None
        denied.append(operation)
        return 400, {
            "__type": "AccessDeniedException",
            "message": "User is not authorized to perform: cloudwatch:GetMetricData",
        }

    cli = proxied(deny_batched)
    result = cli("--output", "json", "metrics", "prod-orders-cdc")
    assert result.returncode == 0, result.stderr
    assert denied == ["GetMetricData"]
    document = json.loads(result.stdout)
    assert document["Source"] == "GetMetricStatistics"
    latency = {m["MetricName"]: m for m in document["Metrics"]}["CDCLatencySource"]
    assert latency["Values"] == [3.0, 5.0, 12.0]
    notes = [line for line in result.stderr.splitlines() if "GetMetricData" in line]
    assert len(notes) == 1
    assert "cloudwatch:GetMetricData" in notes[0]


def stopped_with(reason: str, failure: str = "") -> Rewrite:
    """Answers every DescribeReplicationTasks as if each task had stopped with `reason`."""

    def rewrite(operation: str, request: dict[str, Any], document: dict[str, Any]) -> Reply | None:
        if operation != "DescribeReplicationTasks":
            return None
        for task in document.get("ReplicationTasks", []):
            task["Status"] = "stopped"
            task["StopReason"] = reason
            if failure:
                task["LastFailureMessage"] = failure
        return 200, document

    return rewrite


def test_task_stopped_with_an_error_exits_4(
    proxied: Callable[[Rewrite], Cli], seeded: SeededAccount
) -> None:
    cli = proxied(stopped_with("Stop Reason FATAL_ERROR", "Last Error Cannot connect to source"))
    result = cli(
        "--output", "json", "tasks", "wait", "prod-orders", "--until", "running", "--timeout", "10"
    )
    assert result.returncode == 4
    document = json.loads(result.stdout)
    assert document["Outcome"] == "failed"
    assert document["Phase"] == "failed"
    errors = [line for line in result.stderr.splitlines() if line.startswith("dmsctl:")]
    assert len(errors) == 1
    assert "FATAL_ERROR" in errors[0] and "Cannot connect to source" in errors[0]


def test_full_load_finished_before_running_was_seen_is_success(
    proxied: Callable[[Rewrite], Cli], seeded: SeededAccount
) -> None:
    cli = proxied(stopped_with("Stop Reason FULL_LOAD_ONLY_FINISHED"))
    result = cli("tasks", "start", "prod-orders", "--wait", "--timeout", "10")
    assert result.returncode == 0, result.stderr
    assert "Outcome: succeeded" in result.stdout
    assert "FULL_LOAD_ONLY_FINISHED" in result.stdout


def test_failed_connection_test_exits_4_with_the_failure_message(
    proxied: Callable[[Rewrite], Cli], seeded: SeededAccount
) -> None:
    def fail(operation: str, request: dict[str, Any], document: dict[str, Any]) -> Reply | None:
        if operation != "DescribeConnections":
            return None
        for connection in document.get("Connections", []):
            connection["Status"] = "failed"
            connection["LastFailureMessage"] = "Could not connect to source.db.internal:5432"
        return 200, document

    cli = proxied(fail)
    result = cli("endpoints", "test", "orders-source", "--instance", "ri-main", "--wait")
    assert result.returncode == 4
    assert "failed" in result.stdout
    assert_one_line_error(
        result.stderr,
        "connection test failed",
        "ri-main",
        "orders-source",
        "Could not connect to source.db.internal:5432",
    )


CONFIG_ARN = f"arn:aws:dms:{REGION}:{ACCOUNT}:replication-config:ORDERSSERVERLESS"


def serverless_service(sent: list[tuple[str, dict[str, Any]]]) -> Rewrite:
    """Serverless replications, which moto does not implement: one config that ran before."""
    replication = {
        "ReplicationConfigIdentifier": "orders-serverless",
        "ReplicationConfigArn": CONFIG_ARN,
        "ReplicationType": "full-load-and-cdc",
        "Status": "stopped",
        "StopReason": "Stop Reason NORMAL",
        "ReplicationLastStopTime": 1700000000,
    }

    def answer(operation: str, request: dict[str, Any], document: dict[str, Any]) -> Reply | None:
        if operation == "DescribeReplicationConfigs":
            config = {
                "ReplicationConfigIdentifier": "orders-serverless",
                "ReplicationConfigArn": CONFIG_ARN,
                "ReplicationType": "full-load-and-cdc",
                "ReplicationConfigCreateTime": 1690000000.5,
            }
            return 200, {"ReplicationConfigs": [config]}
        if operation == "DescribeReplications":
            return 200, {"Replications": [replication]}
        if operation in ("StartReplication", "StopReplication"):
            sent.append((operation, request))
            status = "starting" if operation == "StartReplication" else "stopping"
            return 200, {"Replication": {**replication, "Status": status}}
        return None

    return answer


def test_replications_list_start_and_stop(
    proxied: Callable[[Rewrite], Cli], seeded: SeededAccount
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    cli = proxied(serverless_service(sent))

    listed = cli("replications", "list")
    assert listed.returncode == 0, listed.stderr
    assert table_rows(listed.stdout) == [
        ["orders-serverless", "full-load-and-cdc", "stopped", "NORMAL", CONFIG_ARN]
    ]
    document = cli.json("replications", "list")
    assert document["ReplicationConfigs"][0]["ReplicationConfigCreateTime"] == 1690000000.5
    assert document["Replications"][0]["Status"] == "stopped"

    # It ran before, so a start without --type resumes it.
    started = cli("--output", "json", "replications", "start", "orders-serverless")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["Replication"]["Status"] == "starting"
    assert sent[-1] == (
        "StartReplication",
        {"ReplicationConfigArn": CONFIG_ARN, "StartReplicationType": "resume-processing"},
    )
    assert "resume-processing" in started.stderr

    reloaded = cli("replications", "start", CONFIG_ARN, "--type", "reload-target")
    assert reloaded.returncode == 0, reloaded.stderr
    assert sent[-1][1]["StartReplicationType"] == "reload-target"
    assert details(reloaded.stdout)["Status"] == "starting"

    stopped = cli("replications", "stop", "orders-serverless")
    assert stopped.returncode == 0, stopped.stderr
    assert sent[-1] == ("StopReplication", {"ReplicationConfigArn": CONFIG_ARN})
    assert details(stopped.stdout)["Status"] == "stopping"


def test_tasks_tables_follows_every_page(
    proxied: Callable[[Rewrite], Cli], seeded: SeededAccount
) -> None:
    pages = {
        None: (["orders", "customers"], "page-2"),
        "page-2": (["invoices"], None),
    }
    asked: list[dict[str, Any]] = []

    def statistics(
        operation: str, request: dict[str, Any], document: dict[str, Any]
    ) -> Reply | None:
        if operation != "DescribeTableStatistics":
            return None
        asked.append(request)
        tables, marker = pages[request.get("Marker")]
        page: dict[str, Any] = {
            "ReplicationTaskArn": request["ReplicationTaskArn"],
            "TableStatistics": [
                {
                    "SchemaName": "public",
                    "TableName": name,
                    "TableState": "Table completed",
                    "FullLoadRows": 100 * (i + 1),
                    "Inserts": 0,
                    "LastUpdateTime": 1700000000,
                }
                for i, name in enumerate(tables)
            ],
        }
        if marker:
            page["Marker"] = marker
        return 200, page

    cli = proxied(statistics)
    document = cli.json("tasks", "tables", "prod-orders")
    assert document["ReplicationTaskArn"] == seeded.task_arns["prod-orders"]
    assert [t["TableName"] for t in document["TableStatistics"]] == [
        "orders",
        "customers",
        "invoices",
    ]
    assert [r.get("Marker") for r in asked] == [None, "page-2"]
    assert all(r["ReplicationTaskArn"] == seeded.task_arns["prod-orders"] for r in asked)

    table = cli("tasks", "tables", "prod-orders")
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()[0]
    assert header.split()[:3] == ["SCHEMA", "TABLE", "STATE"]
    assert "Table completed" in table.stdout
    assert "2023-11-14T22:13:20Z" in table.stdout
