"""DMS events in dms-local: DescribeEvents for task and instance state changes (with DMS's
categories and messages, its filters, time window and pagination), DescribeEventCategories and
event subscriptions, through boto3 on a real dms-local; the full-load task really moves data
between PostgreSQL databases."""

from __future__ import annotations

import datetime
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_migration_path,
    create_postgres_endpoint,
    create_task,
    describe_instance,
    describe_task,
    wait_until,
)
from dms_local_fixture import (  # noqa: F401  (the fixtures)
    FAST_ARGS,
    boto3_dms,
    databases_fixture,
    dms_local_fixture,
    select_schema,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_cdc import make_db
from test_dms_local_full_load import dmsctl

TOPIC = "arn:aws:sns:us-east-1:000000000000:dms-events"


def events(dms: Any, **request: Any) -> list[dict[str, Any]]:
    """Every event DescribeEvents lists for `request`, following its markers."""
    found: list[dict[str, Any]] = []
    for page in dms.get_paginator("describe_events").paginate(**request):
        found.extend(page["Events"])
    return found


def messages(dms: Any, **request: Any) -> list[str]:
    return [event["Message"] for event in events(dms, **request)]


def task_events(dms: Any, task: str) -> list[str]:
    return messages(dms, SourceType="replication-task", SourceIdentifier=task)


def held_task(dms: Any, identifier: str) -> str:
    """A `ready` task on an available instance, for the hold executor (no data moves, so its
    endpoints name a database nobody serves)."""
    instance = create_available_instance(dms, "events-held")
    source, target = (
        create_postgres_endpoint(
            dms, name, kind, port=5432, database="none", username="dms", password=None
        )
        for name, kind in (("held-src", "source"), ("held-dst", "target"))
    )
    return create_task(dms, identifier, source=source, target=target, instance=instance)


def error_of(call: Any, **request: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**request)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_describe_events_lists_the_tasks_start_and_its_full_load_completion(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(
        pg_cluster,
        databases,
        "events_source",
        "CREATE SCHEMA app; CREATE TABLE app.items (id int PRIMARY KEY, name text);"
        "INSERT INTO app.items SELECT g, 'item ' || g FROM generate_series(1, 500) AS g;",
    )
    target = make_db(pg_cluster, databases, "events_target", "")
    dms = boto3_dms(server.url)
    path = create_migration_path(dms, pg_cluster, source, target)
    arn = create_task(
        dms,
        "load-items",
        source=path.source,
        target=path.target,
        instance=path.instance,
        table_mappings=select_schema("app"),
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_until(
        lambda: describe_task(dms, arn).get("StopReason") == "Stop Reason FULL_LOAD_ONLY_FINISHED",
        "full load finished",
    )
    assert pg_cluster.psql("SELECT count(*) FROM app.items", target).strip() == "500"

    listed = events(dms, SourceType="replication-task", SourceIdentifier="load-items")
    assert [event["Message"] for event in listed] == [
        "Replication task has been created.",
        "Replication task has started.",
        "Replication task has stopped. Stop Reason FULL_LOAD_ONLY_FINISHED.",
    ]
    assert [event["EventCategories"] for event in listed] == [
        ["creation"],
        ["state change"],
        ["state change"],
    ]
    assert {event["SourceType"] for event in listed} == {"replication-task"}
    assert listed[0]["Date"] <= listed[1]["Date"] <= listed[2]["Date"]
    # The instance's events are there too, and the filter on the instance keeps both kinds.
    assert "Replication instance has been created." in messages(
        dms, SourceType="replication-instance", SourceIdentifier="local"
    )
    by_instance = messages(dms, Filters=[{"Name": "replication-instance-id", "Values": ["local"]}])
    assert "Replication task has started." in by_instance
    assert "Replication instance has been created." in by_instance
    assert messages(dms, Filters=[{"Name": "replication-instance-id", "Values": ["other"]}]) == []

    # Events live in the state store: a restart keeps them.
    server.restart()
    dms = boto3_dms(server.url)
    assert [
        event["Message"]
        for event in events(dms, SourceType="replication-task", SourceIdentifier="load-items")
    ] == [event["Message"] for event in listed]

    dms.delete_replication_task(ReplicationTaskArn=arn)
    assert task_events(dms, "load-items")[-1] == "Replication task has been deleted."
    deleted = events(dms, SourceType="replication-task", EventCategories=["deletion"])
    assert [event["SourceIdentifier"] for event in deleted] == ["load-items"]


def test_a_run_that_fails_is_a_failure_event(dms_local: DmsLocalServer) -> None:
    dms = boto3_dms(dms_local.url)
    arn = held_task(dms, "held")
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_until(lambda: describe_task(dms, arn)["Status"] == "running", "task running")
    # Killed while the task runs: the restarted server fails the interrupted run.
    dms_local.restart(signal.SIGKILL)
    dms = boto3_dms(dms_local.url)
    assert describe_task(dms, arn)["Status"] == "failed"
    failures = events(dms, SourceType="replication-task", EventCategories=["failure"])
    assert len(failures) == 1
    assert failures[0]["SourceIdentifier"] == "held"
    assert failures[0]["Message"].startswith("Replication task has failed. Reason: ")
    assert failures[0]["Message"].endswith("Stop Reason FATAL_ERROR.")


def test_instance_creation_modification_and_deletion(dms_local: DmsLocalServer) -> None:
    dms = boto3_dms(dms_local.url)
    arn = create_available_instance(dms, "events-rep")
    instance = {"SourceType": "replication-instance", "SourceIdentifier": "events-rep"}
    assert messages(dms, **instance) == [
        "Replication instance is being created.",
        "Replication instance has been created.",
    ]
    dms.modify_replication_instance(
        ReplicationInstanceArn=arn,
        ReplicationInstanceClass="dms.c5.large",
        AllocatedStorage=100,
        ApplyImmediately=True,
    )
    wait_until(
        lambda: describe_instance(dms, arn)["ReplicationInstanceStatus"] == "available",
        "instance modified",
    )
    changes = events(dms, **instance, EventCategories=["configuration change"])
    assert [event["Message"] for event in changes] == [
        "The replication instance class for this replication instance is being changed.",
        "The storage for the replication instance is being increased.",
        "The replication instance class for this replication instance has changed.",
        "The storage for the replication instance has been increased.",
    ]
    dms.delete_replication_instance(ReplicationInstanceArn=arn)
    assert messages(dms, **instance, EventCategories=["deletion"]) == [
        "Replication instance is being deleted.",
        "Replication instance has been deleted.",
    ]


def test_time_window_and_pagination(dms_local: DmsLocalServer) -> None:
    dms = boto3_dms(dms_local.url)
    arn = held_task(dms, "paged")
    for number in range(24):
        dms.modify_replication_task(
            ReplicationTaskArn=arn, TableMappings=select_schema(f"s{number}")
        )
    task = {"SourceType": "replication-task", "SourceIdentifier": "paged"}
    first = dms.describe_events(**task, MaxRecords=20)
    assert len(first["Events"]) == 20
    rest = dms.describe_events(**task, MaxRecords=20, Marker=first["Marker"])
    assert "Marker" not in rest
    listed = [event["Message"] for event in first["Events"] + rest["Events"]]
    assert (
        listed
        == ["Replication task has been created."] + ["Replication task has been modified."] * 24
    )

    now = datetime.datetime.now(datetime.timezone.utc)
    hour = datetime.timedelta(hours=1)
    assert len(events(dms, **task, StartTime=now - hour, EndTime=now + hour)) == 25
    assert events(dms, **task, StartTime=now + hour) == []
    assert events(dms, **task, EndTime=now - hour) == []
    assert len(events(dms, **task, Duration=5)) == 25
    assert events(dms, **task, StartTime=now - 2 * hour, Duration=30) == []


@pytest.mark.parametrize(
    ("request_members", "code", "names"),
    [
        ({"MaxRecords": 19}, "InvalidParameterValueException", "MaxRecords"),
        ({"MaxRecords": 101}, "InvalidParameterValueException", "MaxRecords"),
        ({"SourceType": "endpoint"}, "InvalidParameterValueException", "SourceType"),
        ({"SourceIdentifier": "x"}, "InvalidParameterValueException", "SourceType"),
        (
            {"SourceType": "replication-task", "EventCategories": ["low storage"]},
            "InvalidParameterValueException",
            "low storage",
        ),
        ({"EventCategories": ["nonsense"]}, "InvalidParameterValueException", "nonsense"),
        ({"Duration": 0}, "InvalidParameterValueException", "Duration"),
        (
            {
                "StartTime": datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc),
                "EndTime": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
            },
            "InvalidParameterValueException",
            "StartTime",
        ),
        (
            {"Filters": [{"Name": "replication-task-id", "Values": ["x"]}]},
            "InvalidParameterValueException",
            "replication-task-id",
        ),
    ],
)
def test_describe_events_refuses_bad_requests(
    dms_local: DmsLocalServer, request_members: dict[str, Any], code: str, names: str
) -> None:
    got_code, message = error_of(boto3_dms(dms_local.url).describe_events, **request_members)
    assert got_code == code
    assert names in message


def test_event_categories(dms_local: DmsLocalServer) -> None:
    dms = boto3_dms(dms_local.url)
    groups = {
        group["SourceType"]: group["EventCategories"]
        for group in dms.describe_event_categories()["EventCategoryGroupList"]
    }
    assert set(groups) == {"replication-instance", "replication-task"}
    assert set(groups["replication-task"]) == {
        "configuration change",
        "state change",
        "deletion",
        "creation",
        "failure",
    }
    assert "low storage" in groups["replication-instance"]
    only = dms.describe_event_categories(SourceType="replication-task")["EventCategoryGroupList"]
    assert [group["SourceType"] for group in only] == ["replication-task"]
    code, message = error_of(dms.describe_event_categories, SourceType="endpoint")
    assert code == "InvalidParameterValueException"
    assert "SourceType" in message


def test_event_subscription_lifecycle(dms_local: DmsLocalServer) -> None:
    dms = boto3_dms(dms_local.url)
    created = dms.create_event_subscription(
        SubscriptionName="task-failures",
        SnsTopicArn=TOPIC,
        SourceType="replication-task",
        EventCategories=["failure", "state change"],
        Tags=[{"Key": "team", "Value": "data"}],
    )["EventSubscription"]
    assert created["CustSubscriptionId"] == "task-failures"
    assert created["CustomerAwsId"] == "000000000000"
    assert created["Status"] == "active"
    assert created["Enabled"] is True
    assert created["SnsTopicArn"] == TOPIC
    assert created["EventCategoriesList"] == ["failure", "state change"]
    assert created["SubscriptionCreationTime"]

    code, _ = error_of(
        dms.create_event_subscription, SubscriptionName="task-failures", SnsTopicArn=TOPIC
    )
    assert code == "ResourceAlreadyExistsFault"
    dms.create_event_subscription(SubscriptionName="everything", SnsTopicArn=TOPIC)
    listed = dms.describe_event_subscriptions()["EventSubscriptionsList"]
    assert [item["CustSubscriptionId"] for item in listed] == ["everything", "task-failures"]
    named = dms.describe_event_subscriptions(SubscriptionName="everything")
    assert [item["CustSubscriptionId"] for item in named["EventSubscriptionsList"]] == [
        "everything"
    ]
    by_id = dms.describe_event_subscriptions(
        Filters=[{"Name": "event-subscription-id", "Values": ["task-failures"]}]
    )["EventSubscriptionsList"]
    assert [item["CustSubscriptionId"] for item in by_id] == ["task-failures"]

    modified = dms.modify_event_subscription(
        SubscriptionName="task-failures", EventCategories=["failure"], Enabled=False
    )["EventSubscription"]
    assert modified["EventCategoriesList"] == ["failure"]
    assert modified["Enabled"] is False
    code, _ = error_of(dms.modify_event_subscription, SubscriptionName="nobody")
    assert code == "ResourceNotFoundFault"

    deleted = dms.delete_event_subscription(SubscriptionName="task-failures")["EventSubscription"]
    assert deleted["Status"] == "deleting"
    code, _ = error_of(dms.describe_event_subscriptions, SubscriptionName="task-failures")
    assert code == "ResourceNotFoundFault"
    code, _ = error_of(dms.delete_event_subscription, SubscriptionName="task-failures")
    assert code == "ResourceNotFoundFault"


@pytest.mark.parametrize(
    ("request_members", "code", "names"),
    [
        ({"SnsTopicArn": "my-topic"}, "SNSInvalidTopicFault", "SnsTopicArn"),
        ({"SubscriptionName": "bad_name"}, "InvalidParameterValueException", "SubscriptionName"),
        (
            {"SourceType": "replication-instance", "EventCategories": ["state change"]},
            "InvalidParameterValueException",
            "state change",
        ),
        (
            {"SourceType": "replication-task", "SourceIds": ["no-such-task"]},
            "ResourceNotFoundFault",
            "no-such-task",
        ),
        ({"SourceIds": ["no-such-task"]}, "InvalidParameterValueException", "SourceType"),
    ],
)
def test_create_event_subscription_refuses_bad_requests(
    dms_local: DmsLocalServer, request_members: dict[str, Any], code: str, names: str
) -> None:
    dms = boto3_dms(dms_local.url)
    request = {"SubscriptionName": "refused", "SnsTopicArn": TOPIC, **request_members}
    got_code, message = error_of(dms.create_event_subscription, **request)
    assert (got_code, names in message) == (code, True)
    assert dms.describe_event_subscriptions()["EventSubscriptionsList"] == []


@pytest.fixture(name="logged_server")
def logged_server_fixture(tmp_path: Path) -> Iterator[DmsLocalServer]:
    """A dms-local (hold executor) whose output goes to `tmp_path`/dms-local.log."""
    server = DmsLocalServer(
        tmp_path / "state",
        extra_args=[*FAST_ARGS, "--test-executor", "hold"],
        log_file=tmp_path / "dms-local.log",
    )
    server.start()
    try:
        yield server
    finally:
        assert server.stop() == 0


def test_subscriptions_deliver_matching_events_as_log_lines(
    logged_server: DmsLocalServer, tmp_path: Path
) -> None:
    dms = boto3_dms(logged_server.url)
    dms.create_event_subscription(
        SubscriptionName="task-creations",
        SnsTopicArn=TOPIC,
        SourceType="replication-task",
        EventCategories=["creation"],
    )
    dms.create_event_subscription(SubscriptionName="switched-off", SnsTopicArn=TOPIC, Enabled=False)
    dms.create_event_subscription(
        SubscriptionName="instances-only", SnsTopicArn=TOPIC, SourceType="replication-instance"
    )
    held_task(dms, "announced")
    log = tmp_path / "dms-local.log"

    def delivered() -> list[str]:
        return [line for line in log.read_text().splitlines() if "event subscription" in line]

    wait_until(lambda: any("task-creations" in line for line in delivered()), "task delivery")
    wait_until(lambda: any("instances-only" in line for line in delivered()), "instance delivery")
    task_lines = [line for line in delivered() if "task-creations" in line]
    assert len(task_lines) == 1
    assert "Event ID: DMS-EVENT-0074" in task_lines[0]
    assert "Identifier: announced" in task_lines[0]
    assert TOPIC in task_lines[0]
    assert all("switched-off" not in line for line in delivered())
    assert all(
        "Identifier: announced" not in line for line in delivered() if "instances-only" in line
    )


def test_dmsctl_events(dms_local: DmsLocalServer) -> None:
    create_available_instance(boto3_dms(dms_local.url), "cli-rep")
    instance = ("--source-type", "replication-instance", "--source-id", "cli-rep")
    done = dmsctl(dms_local, "--output", "json", "events", *instance)
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)["Events"]
    assert [event["Message"] for event in listed] == [
        "Replication instance is being created.",
        "Replication instance has been created.",
    ]
    assert listed[0]["EventCategories"] == ["creation"]
    table = dmsctl(dms_local, "events", "--category", "creation")
    assert table.returncode == 0, table.stderr
    assert "MESSAGE" in table.stdout
    assert "Replication instance has been created." in table.stdout
    refused = dmsctl(dms_local, "events", "--source-id", "cli-rep")
    assert refused.returncode == 2
    assert "--source-type" in refused.stderr
