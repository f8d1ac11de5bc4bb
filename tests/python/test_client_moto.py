"""DmsClient against a real moto server: every DMS operation moto implements, filters, errors,
and CloudWatch metrics and Logs seeded with boto3."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
import typing
from collections.abc import Callable
from typing import Any

import pytest

from conftest import MotoServer
from dagster_dms import DmsClient, ResourceNotFoundError, ServiceError, models
from dagster_dms.errors import ConfigurationError, InvalidResourceStateError
from dagster_dms.testing.account import SeededAccount, seed_account

TASKS = {
    "prod-orders-full-load": {"tags": {"env": "prod", "team": "orders"}},
    "prod-orders-cdc": {"migration_type": "full-load-and-cdc", "tags": {"env": "prod"}},
    "prod-untagged": {},
    "dev-orders": {"tags": {"env": "dev", "team": "orders"}},
    "test-catalog": {"tags": {"env": "test"}},
}


@pytest.fixture
def seeded(boto3_client: Callable[[str], Any]) -> SeededAccount:
    return seed_account(boto3_client("dms"), TASKS)


@pytest.fixture
def client(moto: MotoServer) -> DmsClient:
    return DmsClient(region_name="us-east-1", endpoint_url=moto.url)


def test_describe_replication_tasks_returns_typed_tasks(
    client: DmsClient, seeded: SeededAccount
) -> None:
    tasks = client.describe_replication_tasks()
    assert sorted(t.replication_task_identifier or "" for t in tasks) == sorted(TASKS)
    task = next(t for t in tasks if t.replication_task_identifier == "prod-orders-cdc")
    assert task.migration_type == "full-load-and-cdc"
    assert task.replication_task_arn == seeded.task_arns["prod-orders-cdc"]
    assert task.replication_task_creation_date is not None
    assert task.replication_task_creation_date.tzinfo is not None


def test_filters_that_match_nothing_give_an_empty_list(
    client: DmsClient, seeded: SeededAccount
) -> None:
    assert client.describe_replication_tasks({"replication-task-id": "no-such-task"}) == []


def test_describe_one_task_by_identifier_and_by_arn(
    client: DmsClient, seeded: SeededAccount
) -> None:
    by_id = client.describe_replication_task("dev-orders")
    by_arn = client.describe_replication_task(seeded.task_arns["dev-orders"])
    assert (
        by_id.replication_task_arn == by_arn.replication_task_arn == seeded.task_arns["dev-orders"]
    )


def test_missing_task_raises_resource_not_found_with_aws_details(client: DmsClient) -> None:
    with pytest.raises(ResourceNotFoundError) as raised:
        client.stop_replication_task("arn:aws:dms:us-east-1:123456789012:task:NOPE")
    error = raised.value
    assert error.code == "ResourceNotFoundFault"
    assert error.http_status == 400
    assert error.operation == "StopReplicationTask"
    assert "ResourceNotFoundFault" in str(error)


def test_start_and_stop_a_task(client: DmsClient, seeded: SeededAccount) -> None:
    started = client.start_replication_task("prod-orders-full-load")
    assert started.status in {"starting", "running"}
    stopped = client.stop_replication_task("prod-orders-full-load")
    assert stopped.status == "stopped"
    with pytest.raises(InvalidResourceStateError):
        client.stop_replication_task("prod-orders-full-load")


def test_run_task_waits_for_an_already_running_cdc_task(
    client: DmsClient, seeded: SeededAccount
) -> None:
    client.start_replication_task("prod-orders-cdc")
    seen: list[str] = []
    result = client.run_task(
        "prod-orders-cdc",
        poll_interval=0.05,
        table_statistics=False,
        on_progress=lambda p: seen.append(p.status),
    )
    assert result.succeeded, result.message
    assert result.phase == "replicating"
    assert not result.started
    assert any("already running" in note for note in result.notes)
    assert seen and seen[-1] == "running"


def test_wait_times_out_with_a_clear_outcome(client: DmsClient, seeded: SeededAccount) -> None:
    client.start_replication_task("prod-orders-full-load")
    result = client.wait_for_task(
        "prod-orders-full-load", "stopped", timeout=0.3, poll_interval=0.05
    )
    assert result.outcome == "timed-out"
    assert "prod-orders-full-load" in result.message


def test_discover_filters_by_name_and_tags(client: DmsClient, seeded: SeededAccount) -> None:
    found, warnings = client.discover(
        "tasks", name_pattern="^prod-", exclude_pattern="test|dev", tags="env"
    )
    assert sorted(d.resource.replication_task_identifier for d in found) == [
        "prod-orders-cdc",
        "prod-orders-full-load",
    ]
    assert warnings == []
    found, _ = client.discover("tasks", tags="env=prod,team=orders")
    assert [d.resource.replication_task_identifier for d in found] == ["prod-orders-full-load"]
    assert found[0].tags == {"env": "prod", "team": "orders"}


def test_discover_warns_when_the_filters_match_nothing(
    client: DmsClient, seeded: SeededAccount
) -> None:
    found, warnings = client.discover("tasks", name_pattern="^prod_.*")
    assert found == []
    assert any("matched none of the 5" in w for w in warnings)


def test_bad_pattern_is_a_value_error_naming_the_field(
    client: DmsClient, seeded: SeededAccount
) -> None:
    with pytest.raises(ValueError, match="filter_by_name_pattern"):
        client.discover("tasks", name_pattern="([")


def test_endpoints_instances_and_connections(client: DmsClient, seeded: SeededAccount) -> None:
    endpoints = client.describe_endpoints()
    assert sorted(e.endpoint_identifier or "" for e in endpoints) == [
        "src-postgres",
        "tgt-postgres",
    ]
    assert all("never-shown" not in repr(e) for e in endpoints)
    sources = client.describe_endpoints({"endpoint-type": "source"})
    assert [e.endpoint_identifier for e in sources] == ["src-postgres"]
    instances = client.describe_replication_instances()
    assert [i.replication_instance_identifier for i in instances] == ["rep-instance-1"]
    connection = client.test_connection(seeded.source_arn, seeded.instance_arn)
    assert connection.endpoint_arn == seeded.source_arn
    connections = client.describe_connections({"endpoint-arn": seeded.source_arn})
    assert [c.replication_instance_arn for c in connections] == [seeded.instance_arn]


def test_tags_of_many_resources(client: DmsClient, seeded: SeededAccount) -> None:
    arns = list(seeded.task_arns.values())
    tags = client.list_tags(arns)
    assert tags[seeded.task_arns["dev-orders"]] == {"env": "dev", "team": "orders"}
    assert tags[seeded.task_arns["prod-untagged"]] == {}


def test_create_and_delete_through_typed_parameters(
    client: DmsClient, seeded: SeededAccount
) -> None:
    endpoint = client.create_endpoint(
        endpoint_identifier="extra-target",
        endpoint_type="target",
        engine_name="postgres",
        server_name="localhost",
        port=5432,
        database_name="db",
        username="u",
        password="pw-that-must-not-print",
    )
    assert endpoint.endpoint_identifier == "extra-target"
    assert endpoint.endpoint_arn is not None
    deleted = client.delete_endpoint(endpoint.endpoint_arn)
    assert deleted.endpoint_arn == endpoint.endpoint_arn
    with pytest.raises(TypeError):
        client.create_endpoint(endpoint_identifer="typo")


def test_get_metric_data_reads_what_boto3_put(
    client: DmsClient, boto3_client: Callable[[str], Any], seeded: SeededAccount
) -> None:
    cloudwatch = boto3_client("cloudwatch")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    dimensions = [
        {"Name": "ReplicationInstanceIdentifier", "Value": "rep-instance-1"},
        {"Name": "ReplicationTaskIdentifier", "Value": "ABCDEF"},
    ]
    for minutes_ago, value in [(3, 12.0), (2, 30.0), (1, 7.0)]:
        cloudwatch.put_metric_data(
            Namespace="AWS/DMS",
            MetricData=[
                {
                    "MetricName": "CDCLatencySource",
                    "Dimensions": dimensions,
                    "Timestamp": now - dt.timedelta(minutes=minutes_ago),
                    "Value": value,
                    "Unit": "Seconds",
                }
            ],
        )
    results = client.get_metric_data(
        [
            {
                "Id": "latency",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/DMS",
                        "MetricName": "CDCLatencySource",
                        "Dimensions": dimensions,
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        now - dt.timedelta(minutes=10),
        now,
    )
    assert [r.id for r in results] == ["latency"]
    assert sorted(results[0].values or []) == [7.0, 12.0, 30.0]


def test_log_events_read_what_boto3_wrote(
    client: DmsClient, boto3_client: Callable[[str], Any]
) -> None:
    logs = boto3_client("logs")
    logs.create_log_group(logGroupName="dms-tasks-rep-instance-1")
    logs.create_log_stream(logGroupName="dms-tasks-rep-instance-1", logStreamName="dms-task-ABC")
    now_ms = int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)
    logs.put_log_events(
        logGroupName="dms-tasks-rep-instance-1",
        logStreamName="dms-task-ABC",
        logEvents=[
            {"timestamp": now_ms + i, "message": f"[TASK_MANAGER    ]I:  line {i}"}
            for i in range(5)
        ],
    )
    events = client.get_log_events("dms-tasks-rep-instance-1", "dms-task-ABC", start_from_head=True)
    assert [e.message for e in events] == [f"[TASK_MANAGER    ]I:  line {i}" for i in range(5)]
    streams = client.describe_log_streams("dms-tasks-rep-instance-1")
    assert [s.log_stream_name for s in streams] == ["dms-task-ABC"]


def test_generic_call_validates_against_the_model(client: DmsClient, seeded: SeededAccount) -> None:
    with pytest.raises(ValueError, match="MaxRecords"):
        client.call("DescribeEndpoints", {"MaxRecords": "many"})
    with pytest.raises(ValueError, match="NoSuchOperation"):
        client.call("NoSuchOperation", {})


def test_service_errors_keep_the_request_id_and_status(client: DmsClient) -> None:
    with pytest.raises(ServiceError) as raised:
        client.delete_endpoint("arn:aws:dms:us-east-1:123456789012:endpoint:NOPE")
    assert raised.value.http_status >= 400
    assert raised.value.code


def test_no_region_is_a_configuration_error(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ConfigurationError, match="region"):
        DmsClient()


def test_repr_shows_no_secret(moto: MotoServer) -> None:
    client = DmsClient(
        region_name="eu-west-1",
        endpoint_url=moto.url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="super-secret-value",
        aws_session_token="session-token-value",
    )
    text = repr(client)
    assert "eu-west-1" in text
    assert "super-secret-value" not in text and "session-token-value" not in text
    assert client.credentials_provider() == "explicit"


def test_instance_and_task_lifecycle_through_typed_parameters(
    client: DmsClient, seeded: SeededAccount
) -> None:
    instance = client.create_replication_instance(
        replication_instance_identifier="Extra-Instance",
        replication_instance_class="dms.t3.micro",
    )
    assert instance.replication_instance_arn is not None
    modified = client.modify_replication_instance(
        replication_instance_arn=instance.replication_instance_arn,
        replication_instance_class="dms.t3.large",
        apply_immediately=True,
    )
    assert modified.replication_instance_class == "dms.t3.large"
    client.delete_replication_instance(instance.replication_instance_arn)
    assert [i.replication_instance_arn for i in client.describe_replication_instances()] == [
        seeded.instance_arn
    ]
    task = client.create_replication_task(
        replication_task_identifier="extra-task",
        source_endpoint_arn=seeded.source_arn,
        target_endpoint_arn=seeded.target_arn,
        replication_instance_arn=seeded.instance_arn,
        migration_type="cdc",
        table_mappings='{"rules": []}',
    )
    assert task.migration_type == "cdc"
    deleted = client.delete_replication_task("extra-task")
    assert deleted.replication_task_arn == task.replication_task_arn
    assert client.describe_replication_tasks({"replication-task-id": "extra-task"}) == []


def _method_name(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


# Operations whose method keeps a friendlier form written by hand.
HAND_WRITTEN = {"ReloadTables": "reload_tables", "GetMetricData": "get_metric_data"}


def test_every_operation_has_a_typed_documented_method() -> None:
    tables = [models.DMS_OPERATIONS, models.CLOUDWATCH_OPERATIONS, models.LOGS_OPERATIONS]
    for operation in [name for table in tables for name in table]:
        name = HAND_WRITTEN.get(operation, _method_name(operation))
        method = getattr(DmsClient, name, None)
        assert method is not None, f"DmsClient has no method for {operation}"
        assert method.__doc__ and len(method.__doc__) > 10, name
        hints = typing.get_type_hints(method)
        assert "return" in hints, name
        parameters = list(inspect.signature(method).parameters.values())[1:]
        assert all(p.name in hints for p in parameters), name


def _shape(method: Callable[..., Any]) -> list[tuple[str, str, Any]]:
    return [
        (p.name, p.kind.name, p.default)
        for p in list(inspect.signature(method).parameters.values())[1:]
    ]


def test_documented_signatures_are_kept() -> None:
    empty = inspect.Parameter.empty
    assert _shape(DmsClient.start_replication_task) == [
        ("task", "POSITIONAL_OR_KEYWORD", empty),
        ("start_type", "POSITIONAL_OR_KEYWORD", "start-replication"),
        ("cdc_start_time", "KEYWORD_ONLY", None),
        ("cdc_start_position", "KEYWORD_ONLY", None),
        ("cdc_stop_position", "KEYWORD_ONLY", None),
    ]
    assert _shape(DmsClient.describe_replication_tasks) == [
        ("filters", "POSITIONAL_OR_KEYWORD", None),
        ("without_settings", "KEYWORD_ONLY", True),
    ]
    assert _shape(DmsClient.describe_table_statistics) == [
        ("task", "POSITIONAL_OR_KEYWORD", empty),
        ("filters", "POSITIONAL_OR_KEYWORD", None),
    ]
    assert _shape(DmsClient.test_connection) == [
        ("endpoint_arn", "POSITIONAL_OR_KEYWORD", empty),
        ("replication_instance_arn", "POSITIONAL_OR_KEYWORD", empty),
    ]
    assert _shape(DmsClient.get_log_events)[:2] == [
        ("log_group_name", "POSITIONAL_OR_KEYWORD", empty),
        ("log_stream_name", "POSITIONAL_OR_KEYWORD", empty),
    ]
    assert _shape(DmsClient.describe_log_streams)[0] == (
        "log_group_name",
        "POSITIONAL_OR_KEYWORD",
        empty,
    )
    assert _shape(DmsClient.stop_replication) == [
        ("replication_config_arn", "POSITIONAL_OR_KEYWORD", empty)
    ]
    for name in ["describe_endpoints", "describe_connections", "describe_replications"]:
        assert _shape(getattr(DmsClient, name)) == [("filters", "POSITIONAL_OR_KEYWORD", None)]
    assert _shape(DmsClient.describe_account_attributes) == []


def test_generated_wrapper_of_an_operation_without_a_hand_written_form(
    client: DmsClient, seeded: SeededAccount
) -> None:
    tags = client.list_tags_for_resource(resource_arn=seeded.task_arns["dev-orders"])
    assert sorted((t.key, t.value) for t in tags) == [("env", "dev"), ("team", "orders")]
    assert all(isinstance(t, models.Tag) for t in tags)


def test_logs_and_metrics_listings_by_name(
    client: DmsClient, boto3_client: Callable[[str], Any]
) -> None:
    logs = boto3_client("logs")
    for group in ["dms-tasks-a", "dms-tasks-b"]:
        logs.create_log_group(logGroupName=group)
    groups = client.describe_log_groups(log_group_name_prefix="dms-tasks-")
    assert sorted(g.log_group_name or "" for g in groups) == ["dms-tasks-a", "dms-tasks-b"]
    # The core's generic listing path, which the DMS listings take too, for another service.
    every = json.loads(client._native.list_all("logs", "DescribeLogGroups", "{}"))
    assert sorted(g["logGroupName"] for g in every) == ["dms-tasks-a", "dms-tasks-b"]
    with pytest.raises(ValueError, match="DescribeLogStreams"):
        client._native.list_all("logs", "GetLogEvents", "{}")
    assert client.list_metrics(namespace="AWS/DMS").metrics == []
