"""DMS behaviours users notice, driven by boto3 against a real dms-local: pending instance
modifications, defaults for optional members sent empty, and the CloudWatch dimensions of a
serverless replication's metrics."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import create_available_instance, describe_instance, local_client
from dms_local_fixture import (  # noqa: F401  (the fixtures)
    FAST_ARGS,
    boto3_dms,
    databases_fixture,
    dms_local_fixture,
    select_schema,
    serving,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_full_load import create_pg_endpoint, wait_until


def available_instance(dms: Any, **members: Any) -> dict[str, Any]:
    return describe_instance(dms, create_available_instance(dms, "behaviour", **members))


# --- ModifyReplicationInstance: ApplyImmediately -----------------------------------------------


def test_modify_instance_keeps_changes_pending_until_applied_immediately(
    dms_local: DmsLocalServer,
) -> None:
    dms = boto3_dms(dms_local.url)
    before = available_instance(dms)
    arn = before["ReplicationInstanceArn"]
    assert before["PendingModifiedValues"] == {}

    # Without ApplyImmediately (false by default) DMS waits for the maintenance window: the
    # instance keeps its values and shows the change as pending.
    answer = dms.modify_replication_instance(
        ReplicationInstanceArn=arn,
        ReplicationInstanceClass="dms.c5.large",
        AllocatedStorage=100,
        MultiAZ=True,
        EngineVersion="3.5.4",
        NetworkType="DUAL",
        ApplyImmediately=False,
    )["ReplicationInstance"]
    pending = {
        "ReplicationInstanceClass": "dms.c5.large",
        "AllocatedStorage": 100,
        "MultiAZ": True,
        "EngineVersion": "3.5.4",
        "NetworkType": "DUAL",
    }
    for seen in (answer, describe_instance(dms, arn)):
        assert seen["PendingModifiedValues"] == pending, seen
        assert seen["ReplicationInstanceStatus"] == "available", seen
        for member in pending:
            assert seen[member] == before[member], member

    # Members that are not deferred apply at once, and the pending ones stay pending.
    answer = dms.modify_replication_instance(
        ReplicationInstanceArn=arn,
        PreferredMaintenanceWindow="mon:01:00-mon:02:00",
        AllocatedStorage=200,
    )["ReplicationInstance"]
    assert answer["PreferredMaintenanceWindow"] == "mon:01:00-mon:02:00"
    assert answer["PendingModifiedValues"] == {**pending, "AllocatedStorage": 200}
    assert answer["AllocatedStorage"] == before["AllocatedStorage"]

    # ApplyImmediately applies this change and every pending one: modifying, then available.
    answer = dms.modify_replication_instance(
        ReplicationInstanceArn=arn, EngineVersion="3.5.3", ApplyImmediately=True
    )["ReplicationInstance"]
    assert answer["ReplicationInstanceStatus"] == "modifying", answer
    assert answer["PendingModifiedValues"] == {}
    with pytest.raises(dms.exceptions.InvalidResourceStateFault):
        dms.modify_replication_instance(ReplicationInstanceArn=arn, AllocatedStorage=300)
    wait_until(lambda: describe_instance(dms, arn)["ReplicationInstanceStatus"] == "available", 30)
    after = describe_instance(dms, arn)
    assert after["PendingModifiedValues"] == {}
    assert after["ReplicationInstanceClass"] == "dms.c5.large"
    assert after["AllocatedStorage"] == 200
    assert after["MultiAZ"] is True
    assert after["EngineVersion"] == "3.5.3"
    assert after["NetworkType"] == "DUAL"

    # Invalid values are refused whether or not they would be applied now.
    with pytest.raises(dms.exceptions.ClientError) as raised:
        dms.modify_replication_instance(ReplicationInstanceArn=arn, AllocatedStorage=1)
    assert "AllocatedStorage" in raised.value.response["Error"]["Message"]
    assert describe_instance(dms, arn)["PendingModifiedValues"] == {}


# --- Optional members sent as "" -----------------------------------------------------------------


def test_empty_optional_members_get_the_defaults(dms_local: DmsLocalServer) -> None:
    dms = boto3_dms(dms_local.url)
    defaults = available_instance(dms)
    dms.delete_replication_instance(ReplicationInstanceArn=defaults["ReplicationInstanceArn"])
    empty = available_instance(
        dms,
        AvailabilityZone="",
        EngineVersion="",
        KmsKeyId="",
        PreferredMaintenanceWindow="",
        NetworkType="",
    )
    for member in (
        "AvailabilityZone",
        "EngineVersion",
        "PreferredMaintenanceWindow",
        "NetworkType",
    ):
        assert empty[member] == defaults[member], member
        assert empty[member] != "", member
    assert "KmsKeyId" not in empty

    # Modify: "" changes nothing either.
    answer = dms.modify_replication_instance(
        ReplicationInstanceArn=empty["ReplicationInstanceArn"],
        EngineVersion="",
        PreferredMaintenanceWindow="",
        NetworkType="",
        ApplyImmediately=True,
    )["ReplicationInstance"]
    assert answer["PendingModifiedValues"] == {}
    for member in ("EngineVersion", "PreferredMaintenanceWindow", "NetworkType"):
        assert answer[member] == defaults[member], member

    # A serverless config's ComputeConfig keeps no empty member.
    source = dms.create_endpoint(
        EndpointIdentifier="src", EndpointType="source", EngineName="postgres"
    )["Endpoint"]["EndpointArn"]
    target = dms.create_endpoint(
        EndpointIdentifier="dst", EndpointType="target", EngineName="postgres"
    )["Endpoint"]["EndpointArn"]
    compute = {
        "MaxCapacityUnits": 2,
        "AvailabilityZone": "",
        "KmsKeyId": "",
        "PreferredMaintenanceWindow": "",
        "ReplicationSubnetGroupId": "",
        "DnsNameServers": "",
    }
    config = dms.create_replication_config(
        ReplicationConfigIdentifier="empty-members",
        SourceEndpointArn=source,
        TargetEndpointArn=target,
        ComputeConfig=compute,
        ReplicationType="full-load",
        TableMappings=select_schema("app"),
    )["ReplicationConfig"]
    assert config["ComputeConfig"] == {"MaxCapacityUnits": 2}, config["ComputeConfig"]
    modified = dms.modify_replication_config(
        ReplicationConfigArn=config["ReplicationConfigArn"], ComputeConfig=compute
    )["ReplicationConfig"]
    assert modified["ComputeConfig"] == {"MaxCapacityUnits": 2}, modified["ComputeConfig"]


# --- ListMetrics for serverless replications -------------------------------------------------


@pytest.fixture()
def real_server(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch, databases: list[str]
) -> Iterator[DmsLocalServer]:
    """dms-local with its real data plane, publishing metrics every 200 ms; it ends before the
    databases are dropped."""
    with serving(tmp_path, monkeypatch, [*FAST_ARGS, "--metrics-interval-ms", "200"]) as server:
        yield server


def cloudwatch(server: DmsLocalServer) -> Any:
    return local_client(server.url, "cloudwatch")


def test_serverless_metrics_are_listed_with_dimensions_boto3_can_send_back(
    real_server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    for name, sql in (
        (
            "metrics_serverless_source",
            "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY);"
            " INSERT INTO app.t SELECT generate_series(1, 1000);",
        ),
        ("metrics_serverless_target", ""),
    ):
        pg_cluster.create_database(name)
        databases.append(name)
        if sql:
            pg_cluster.psql(sql, name)
    dms = boto3_dms(real_server.url)
    config = dms.create_replication_config(
        ReplicationConfigIdentifier="metrics-serverless",
        SourceEndpointArn=create_pg_endpoint(
            dms, pg_cluster, "src", "source", "metrics_serverless_source"
        ),
        TargetEndpointArn=create_pg_endpoint(
            dms, pg_cluster, "dst", "target", "metrics_serverless_target"
        ),
        ComputeConfig={"MaxCapacityUnits": 2},
        ReplicationType="full-load",
        TableMappings=select_schema("app"),
    )["ReplicationConfig"]
    arn = config["ReplicationConfigArn"]
    dms.start_replication(ReplicationConfigArn=arn, StartReplicationType="start-replication")

    def stopped() -> bool:
        replication = dms.describe_replications()["Replications"][0]
        assert replication["Status"] in ("starting", "running", "stopped"), replication
        return bool(replication["Status"] == "stopped")

    wait_until(stopped, timeout=120)
    cw = cloudwatch(real_server)
    # DMS names a serverless replication's metrics by ReplicationConfigId,
    # "<account>:<the config ARN's resource id>"; there is no instance.
    _, _, _, _, account, _, resource_id = arn.split(":")
    expected = [{"Name": "ReplicationConfigId", "Value": f"{account}:{resource_id}"}]

    def listed() -> list[dict[str, Any]]:
        return list(
            cw.list_metrics(Namespace="AWS/DMS", MetricName="FullLoadThroughputRowsTarget")[
                "Metrics"
            ]
        )

    wait_until(lambda: len(listed()) > 0, timeout=60)
    metrics = cw.list_metrics(Namespace="AWS/DMS")["Metrics"]
    assert metrics
    for metric in metrics:
        assert all(d["Value"] != "" for d in metric["Dimensions"]), metric
        assert metric["Dimensions"] == expected, metric

    # What ListMetrics answers, boto3 can send back (it refused an empty dimension value). The
    # metric is listed from its first interval on, which may come before any row was loaded: the
    # run's last interval, with the rows, is published at the publisher's next tick.
    def rows_published(metric: dict[str, Any]) -> bool:
        now = datetime.datetime.now(datetime.timezone.utc)
        points = cw.get_metric_statistics(
            Namespace="AWS/DMS",
            MetricName=metric["MetricName"],
            Dimensions=metric["Dimensions"],
            StartTime=now - datetime.timedelta(minutes=10),
            EndTime=now + datetime.timedelta(minutes=1),
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        return sum(p["Sum"] for p in points) > 0

    for metric in listed():
        wait_until(lambda metric=metric: rows_published(metric), timeout=60)
