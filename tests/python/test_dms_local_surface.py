"""The parts of the DMS API a workflow or an infrastructure tool touches beyond tasks, endpoints
and instances, through boto3 and the AWS CLI against a real dms-local: replication subnet groups,
the read-only catalogue, RebootReplicationInstance and DeleteConnection."""

from __future__ import annotations

from typing import Any

import pytest

from api_calls import aws_dms_cli as aws_cli
from api_calls import error_of
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_postgres_endpoint,
    create_task,
    describe_instance,
    describe_task,
    local_client,
    wait_until,
)
from dms_local_fixture import dms_local_fixture  # noqa: F401  (the fixture)

SUBNETS = ["subnet-0a1b2c3d", "subnet-0b1b2c3d", "subnet-0c1b2c3d"]


def postgres_endpoint(dms: Any, name: str, kind: str, *, port: int) -> str:
    return create_postgres_endpoint(
        dms, name, kind, port=port, database="app", username="dms", password="unused"
    )


def create_group(dms: Any, name: str, subnets: list[str] = SUBNETS, **extra: Any) -> Any:
    return dms.create_replication_subnet_group(
        ReplicationSubnetGroupIdentifier=name,
        ReplicationSubnetGroupDescription=f"{name} subnets",
        SubnetIds=subnets,
        **extra,
    )["ReplicationSubnetGroup"]


def test_subnet_group_answer_spreads_subnets_over_zones(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    group = create_group(
        dms, "Private", [*SUBNETS, SUBNETS[0]], Tags=[{"Key": "team", "Value": "data"}]
    )
    assert group["ReplicationSubnetGroupIdentifier"] == "private"
    assert group["SubnetGroupStatus"] == "Complete"
    assert group["VpcId"].startswith("vpc-")
    # Duplicates collapse; the subnets are spread over the region's zones in sorted order.
    assert [
        (s["SubnetIdentifier"], s["SubnetAvailabilityZone"]["Name"], s["SubnetStatus"])
        for s in group["Subnets"]
    ] == [
        ("subnet-0a1b2c3d", "us-east-1a", "Active"),
        ("subnet-0b1b2c3d", "us-east-1b", "Active"),
        ("subnet-0c1b2c3d", "us-east-1c", "Active"),
    ]
    arn = "arn:aws:dms:us-east-1:000000000000:subgrp:private"
    assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"] == [
        {"Key": "team", "Value": "data"}
    ]


@pytest.mark.parametrize(
    ("name", "subnets", "code", "named"),
    [
        ("default", SUBNETS, "InvalidParameterValueException", "default"),
        ("bad name", SUBNETS, "InvalidParameterValueException", "ReplicationSubnetGroupIdentifier"),
        ("x" * 256, SUBNETS, "InvalidParameterValueException", "ReplicationSubnetGroupIdentifier"),
        ("one-zone", SUBNETS[:1], "ReplicationSubnetGroupDoesNotCoverEnoughAZs", "2 AZs"),
        ("typo", ["subnet-0a1b2c3d", "subnet-XYZ"], "InvalidSubnet", "subnet-XYZ"),
        ("none", [], "InvalidParameterValueException", "SubnetIds"),
    ],
)
def test_subnet_group_refuses_bad_input(
    dms_local: DmsLocalServer, name: str, subnets: list[str], code: str, named: str
) -> None:
    dms = local_client(dms_local.url)
    got_code, message = error_of(lambda: create_group(dms, name, subnets))
    assert (got_code, named in message) == (code, True), message


def test_subnet_group_description_without_control_characters(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    code, message = error_of(
        lambda: dms.create_replication_subnet_group(
            ReplicationSubnetGroupIdentifier="g",
            ReplicationSubnetGroupDescription="line\x01",
            SubnetIds=SUBNETS,
        )
    )
    assert code == "InvalidParameterValueException"
    assert "ReplicationSubnetGroupDescription" in message


def test_subnet_groups_page_and_filter(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    names = [f"group-{i:02d}" for i in range(45)]
    for name in names:
        create_group(dms, name)
    pages = dms.get_paginator("describe_replication_subnet_groups").paginate(
        PaginationConfig={"PageSize": 20}
    )
    sizes, seen = [], []
    for page in pages:
        sizes.append(len(page["ReplicationSubnetGroups"]))
        seen += [g["ReplicationSubnetGroupIdentifier"] for g in page["ReplicationSubnetGroups"]]
    assert (sizes, seen) == ([20, 20, 5], names)
    picked = dms.describe_replication_subnet_groups(
        Filters=[{"Name": "replication-subnet-group-id", "Values": ["group-07", "GROUP-09"]}]
    )["ReplicationSubnetGroups"]
    assert [g["ReplicationSubnetGroupIdentifier"] for g in picked] == ["group-07"]
    code, message = error_of(
        lambda: dms.describe_replication_subnet_groups(
            Filters=[{"Name": "vpc-id", "Values": ["vpc-1"]}]
        )
    )
    assert code == "InvalidParameterValueException" and "vpc-id" in message
    code, _ = error_of(lambda: dms.describe_replication_subnet_groups(MaxRecords=5))
    assert code == "InvalidParameterValueException"


def test_subnet_group_modify_replaces_subnets(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    create_group(dms, "g")
    modified = dms.modify_replication_subnet_group(
        ReplicationSubnetGroupIdentifier="G", SubnetIds=SUBNETS[1:]
    )["ReplicationSubnetGroup"]
    assert [s["SubnetIdentifier"] for s in modified["Subnets"]] == SUBNETS[1:]
    # The description is kept when not given.
    assert modified["ReplicationSubnetGroupDescription"] == "g subnets"
    code, _ = error_of(
        lambda: dms.modify_replication_subnet_group(
            ReplicationSubnetGroupIdentifier="g", SubnetIds=SUBNETS[:1]
        )
    )
    assert code == "ReplicationSubnetGroupDoesNotCoverEnoughAZs"
    code, message = error_of(
        lambda: dms.modify_replication_subnet_group(
            ReplicationSubnetGroupIdentifier="missing", SubnetIds=SUBNETS
        )
    )
    assert (code, "missing" in message) == ("ResourceNotFoundFault", True)


def test_subnet_group_in_use_until_its_instance_is_deleted(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    create_group(dms, "g")
    instance = create_available_instance(dms, "rep-in-g", ReplicationSubnetGroupIdentifier="g")
    described = dms.describe_replication_instances()["ReplicationInstances"][0]
    assert described["ReplicationSubnetGroup"]["ReplicationSubnetGroupIdentifier"] == "g"
    code, message = error_of(
        lambda: dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier="g")
    )
    assert (code, "rep-in-g" in message) == ("InvalidResourceStateFault", True)
    dms.delete_replication_instance(ReplicationInstanceArn=instance)
    dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier="g")
    assert dms.describe_replication_subnet_groups()["ReplicationSubnetGroups"] == []


def test_subnet_groups_through_the_aws_cli(dms_local: DmsLocalServer) -> None:
    created = aws_cli(
        dms_local,
        "create-replication-subnet-group",
        "--replication-subnet-group-identifier",
        "cli-group",
        "--replication-subnet-group-description",
        "from the CLI",
        "--subnet-ids",
        *SUBNETS[:2],
    )
    assert created["ReplicationSubnetGroup"]["ReplicationSubnetGroupIdentifier"] == "cli-group"
    listed = aws_cli(dms_local, "describe-replication-subnet-groups")
    assert [g["ReplicationSubnetGroupDescription"] for g in listed["ReplicationSubnetGroups"]] == [
        "from the CLI"
    ]
    aws_cli(
        dms_local,
        "delete-replication-subnet-group",
        "--replication-subnet-group-identifier",
        "cli-group",
    )
    missing = aws_cli(
        dms_local,
        "delete-replication-subnet-group",
        "--replication-subnet-group-identifier",
        "cli-group",
        check=False,
    )
    assert missing.returncode != 0 and "ResourceNotFoundFault" in missing.stderr


def every_page(dms: Any, operation: str, member: str, **kwargs: Any) -> tuple[list[int], list[Any]]:
    """The page sizes and the items of a listing read 20 at a time with boto3's paginator."""
    sizes: list[int] = []
    items: list[Any] = []
    pages = dms.get_paginator(operation).paginate(**kwargs, PaginationConfig={"PageSize": 20})
    for page in pages:
        sizes.append(len(page[member]))
        items += page[member]
    return sizes, items


def test_orderable_instances_page_through_classes_and_versions(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    sizes, items = every_page(
        dms, "describe_orderable_replication_instances", "OrderableReplicationInstances"
    )
    # 14 classes for each of the 3 engine versions.
    assert sizes == [20, 20, 2]
    classes = {i["ReplicationInstanceClass"] for i in items}
    assert {"dms.t3.micro", "dms.c5.large", "dms.r5.large"} <= classes
    micro = next(i for i in items if i["ReplicationInstanceClass"] == "dms.t3.micro")
    assert (micro["MinAllocatedStorage"], micro["MaxAllocatedStorage"]) == (5, 6144)
    assert micro["AvailabilityZones"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    versions = [v["Version"] for v in dms.describe_engine_versions()["EngineVersions"]]
    assert {i["EngineVersion"] for i in items} == set(versions)
    # A new instance gets an engine version the catalogue lists.
    instance = create_available_instance(dms, "rep-catalogue")
    assert describe_instance(dms, instance)["EngineVersion"] in versions


def test_engine_versions_offer_later_versions_as_upgrades(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    versions = dms.describe_engine_versions()["EngineVersions"]
    names = [v["Version"] for v in versions]
    assert names == sorted(names) and len(names) >= 2
    for index, version in enumerate(versions):
        assert version["AvailableUpgrades"] == names[index + 1 :]
        assert version["ReleaseStatus"] == "prod"


def test_endpoint_types_list_what_dms_local_runs(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    types = dms.describe_endpoint_types()["SupportedEndpointTypes"]
    assert {(t["EngineName"], t["EndpointType"]) for t in types} == {
        ("postgres", "source"),
        ("postgres", "target"),
        ("aurora-postgresql", "source"),
        ("aurora-postgresql", "target"),
        ("s3", "target"),
        ("mysql", "source"),
        ("mariadb", "source"),
        ("aurora", "source"),
    }
    targets = dms.describe_endpoint_types(
        Filters=[
            {"Name": "engine-name", "Values": ["postgres", "s3"]},
            {"Name": "endpoint-type", "Values": ["TARGET"]},
        ]
    )["SupportedEndpointTypes"]
    assert [(t["EngineName"], t["EngineDisplayName"]) for t in targets] == [
        ("postgres", "PostgreSQL"),
        ("s3", "Amazon S3"),
    ]
    # Every engine listed is one CreateEndpoint accepts; one it refuses is not listed.
    oracle = {"EngineName": "oracle", "ServerName": "localhost", "Port": 1521}
    code, message = error_of(
        lambda: dms.create_endpoint(EndpointIdentifier="ora", EndpointType="source", **oracle)
    )
    assert code == "InvalidParameterValueException" and "postgres" in message
    assert all(t["EngineName"] != "oracle" for t in types)


def test_endpoint_settings_per_engine(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    # botocore has no paginator for DescribeEndpointSettings: one page of 100 holds them all.
    postgres = dms.describe_endpoint_settings(EngineName="postgres")["EndpointSettings"]
    by_name = {s["Name"]: s for s in postgres}
    assert by_name["pluginName"]["EnumValues"] == ["no-preference", "test-decoding", "pglogical"]
    assert (
        by_name["heartbeatFrequency"]["Units"],
        by_name["heartbeatFrequency"]["DefaultValue"],
    ) == (
        "minutes",
        "5",
    )
    s3 = dms.describe_endpoint_settings(EngineName="s3")["EndpointSettings"]
    assert len(s3) == 19
    assert {"bucketFolder", "cdcMaxBatchInterval", "timestampColumnName"} <= {s["Name"] for s in s3}
    first = dms.describe_endpoint_settings(EngineName="s3", MaxRecords=5)
    assert len(first["EndpointSettings"]) == 5 and "Marker" in first
    rest = dms.describe_endpoint_settings(EngineName="s3", MaxRecords=100, Marker=first["Marker"])
    assert first["EndpointSettings"] + rest["EndpointSettings"] == s3
    code, message = error_of(lambda: dms.describe_endpoint_settings(EngineName="oracle"))
    assert code == "InvalidParameterValueException" and "EngineName" in message


def test_catalogue_through_the_aws_cli(dms_local: DmsLocalServer) -> None:
    types = aws_cli(dms_local, "describe-endpoint-types", "--filters", "Name=engine-name,Values=s3")
    assert [t["EndpointType"] for t in types["SupportedEndpointTypes"]] == ["target"]
    # The CLI follows every Marker itself.
    orderable = aws_cli(dms_local, "describe-orderable-replication-instances")
    assert len(orderable["OrderableReplicationInstances"]) == 42


def test_reboot_stops_the_tasks_and_comes_back_available(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    source = postgres_endpoint(dms, "src", "source", port=5432)
    target = postgres_endpoint(dms, "dst", "target", port=5432)
    instance = create_available_instance(dms, "rep-reboot")
    task = create_task(dms, "held", source=source, target=target, instance=instance)
    dms.start_replication_task(
        ReplicationTaskArn=task, StartReplicationTaskType="start-replication"
    )
    wait_until(lambda: describe_task(dms, task)["Status"] == "running", "task running")

    rebooted = dms.reboot_replication_instance(ReplicationInstanceArn=instance)
    assert rebooted["ReplicationInstance"]["ReplicationInstanceStatus"] == "rebooting"
    code, _ = error_of(lambda: dms.reboot_replication_instance(ReplicationInstanceArn=instance))
    assert code == "InvalidResourceStateFault"
    wait_until(lambda: describe_task(dms, task)["Status"] == "stopped", "task stopped by reboot")
    wait_until(
        lambda: describe_instance(dms, instance)["ReplicationInstanceStatus"] == "available",
        "instance available after reboot",
    )
    # The interrupted task resumes where it stopped.
    dms.start_replication_task(
        ReplicationTaskArn=task, StartReplicationTaskType="resume-processing"
    )
    wait_until(lambda: describe_task(dms, task)["Status"] == "running", "task resumed")
    dms.stop_replication_task(ReplicationTaskArn=task)


def test_reboot_refuses_failover_without_multi_az(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    instance = create_available_instance(dms, "rep-single-az")
    code, message = error_of(
        lambda: dms.reboot_replication_instance(ReplicationInstanceArn=instance, ForceFailover=True)
    )
    assert (code, "Multi-AZ" in message) == ("InvalidParameterValueException", True)
    code, _ = error_of(
        lambda: dms.reboot_replication_instance(
            ReplicationInstanceArn=instance + "X", ForcePlannedFailover=False
        )
    )
    assert code == "ResourceNotFoundFault"
    assert describe_instance(dms, instance)["ReplicationInstanceStatus"] == "available"


def test_delete_connection_forgets_the_last_test(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    # Nothing listens on port 1: the test fails quickly, which is all a connection needs here.
    endpoint = postgres_endpoint(dms, "unreachable", "source", port=1)
    instance = create_available_instance(dms, "rep-conn")
    code, _ = error_of(
        lambda: dms.delete_connection(EndpointArn=endpoint, ReplicationInstanceArn=instance)
    )
    assert code == "ResourceNotFoundFault"
    dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)
    wait_until(
        lambda: dms.describe_connections()["Connections"][0]["Status"] != "testing",
        "connection test ended",
    )
    deleted = dms.delete_connection(EndpointArn=endpoint, ReplicationInstanceArn=instance)
    assert deleted["Connection"]["Status"] == "deleting"
    assert deleted["Connection"]["EndpointArn"] == endpoint
    assert dms.describe_connections()["Connections"] == []
    done = aws_cli(
        dms_local,
        "delete-connection",
        "--endpoint-arn",
        endpoint,
        "--replication-instance-arn",
        instance,
        check=False,
    )
    assert done.returncode != 0 and "ResourceNotFoundFault" in done.stderr
