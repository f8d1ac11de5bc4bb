"""The same DMS control-plane scenarios against moto server and dms-local, through boto3.

AWS's behaviour (the API model and what the service answers) is the reference: dms-local must
match it; moto is an independent implementation with its own gaps. Where the two differ, each
side's actual behaviour is asserted, so a change on either side shows up here, and the
differences are listed in docs/compatibility.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import MotoServer
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    MigrationPath,
    create_available_instance,
    create_tagged_tasks,
    selection_rules,
)
from dms_local_fixture import dms_local_fixture  # noqa: F401  (the fixture)

MAPPINGS = selection_rules()
MISSING = "arn:aws:dms:us-east-1:{account}:{kind}:NOSUCHRESOURCE0000000000000"


@dataclass
class Backend:
    name: str  # "moto" or "dms-local"
    dms: Any
    account: str

    def expect(self, *, dms_local: object, moto: object) -> object:
        """What this backend answers: dms-local (which matches AWS) or moto."""
        return dms_local if self.name == "dms-local" else moto

    def missing(self, kind: str) -> str:
        return MISSING.format(account=self.account, kind=kind)


@pytest.fixture(params=["moto", "dms-local"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "moto":
        server: MotoServer = request.getfixturevalue("moto")
        url, key, secret, account = server.url, "testing", "testing-secret", "123456789012"
    else:
        local: DmsLocalServer = request.getfixturevalue("dms_local")
        url, key, secret, account = local.url, "test", "test", "000000000000"
    dms = boto3.client(
        "dms",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )
    yield Backend(str(request.param), dms, account)
    # Closing the idle keep-alive connections lets dms-local stop at once.
    dms.close()


def outcome(call: Callable[[], object]) -> str:
    """The error code a call answers, or "ok"."""
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def create_endpoint(dms: Any, identifier: str, kind: str = "source") -> dict[str, Any]:
    endpoint: dict[str, Any] = dms.create_endpoint(
        EndpointIdentifier=identifier,
        EndpointType=kind,
        EngineName="postgres",
        ServerName="localhost",
        Port=5432,
        DatabaseName="app",
        Username="dms",
        Password="compat-password",
    )["Endpoint"]
    return endpoint


def instance_status(dms: Any, arn: str) -> str:
    instances = dms.describe_replication_instances(
        Filters=[{"Name": "replication-instance-arn", "Values": [arn]}]
    )["ReplicationInstances"]
    return str(instances[0]["ReplicationInstanceStatus"])


def task_status(dms: Any, arn: str) -> str:
    tasks = dms.describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
    )["ReplicationTasks"]
    return str(tasks[0]["Status"])


def make_setup(dms: Any) -> MigrationPath:
    source = create_endpoint(dms, "src")["EndpointArn"]
    target = create_endpoint(dms, "dst", "target")["EndpointArn"]
    return MigrationPath(source, target, create_available_instance(dms, "rep-1"))


def make_task(dms: Any, setup: MigrationPath, identifier: str, migration: str = "full-load") -> str:
    # Some scenarios look at the task while it is still `creating`: not waited for.
    tasks = {identifier: {"migration_type": migration}}
    return create_tagged_tasks(dms, tasks, setup, table_mappings=MAPPINGS)[identifier]


def test_endpoints_create_describe_modify_delete(backend: Backend) -> None:
    dms = backend.dms
    created = create_endpoint(dms, "Src-Orders")
    # AWS answers upper-case endpoint types and an endpoint that is usable at once. (The API
    # model says instance identifiers are stored lower-case; it says nothing of endpoints, whose
    # identifiers both keep as given.)
    assert (created["EndpointIdentifier"], created["EndpointType"], created["Status"]) == (
        backend.expect(
            dms_local=("Src-Orders", "SOURCE", "active"), moto=("Src-Orders", "source", "creating")
        )
    )
    assert "Password" not in created
    arn = created["EndpointArn"]
    assert arn.startswith(f"arn:aws:dms:us-east-1:{backend.account}:endpoint:")
    create_endpoint(dms, "dst", "target")
    listed = dms.describe_endpoints()["Endpoints"]
    assert len(listed) == 2 and all("Password" not in e for e in listed)

    # ModifyEndpoint is not implemented by moto (an HTML 500 page).
    assert outcome(lambda: dms.modify_endpoint(EndpointArn=arn, Port=6543)) == backend.expect(
        dms_local="ok", moto="500"
    )
    if backend.name == "dms-local":
        described = dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [arn]}])[
            "Endpoints"
        ]
        assert described[0]["Port"] == 6543

    deleted = dms.delete_endpoint(EndpointArn=arn)["Endpoint"]
    assert deleted["Status"] == "deleting"
    assert [e["EndpointIdentifier"] for e in dms.describe_endpoints()["Endpoints"]] == ["dst"]


def test_endpoint_filters(backend: Backend) -> None:
    dms = backend.dms
    make_setup(dms)
    by_type = dms.describe_endpoints(Filters=[{"Name": "endpoint-type", "Values": ["source"]}])
    assert [e["EndpointIdentifier"] for e in by_type["Endpoints"]] == ["src"]
    by_engine = dms.describe_endpoints(Filters=[{"Name": "engine-name", "Values": ["postgres"]}])
    assert sorted(e["EndpointIdentifier"] for e in by_engine["Endpoints"]) == ["dst", "src"]
    # AWS answers ResourceNotFoundFault when filters match nothing; moto an empty list.
    assert outcome(
        lambda: dms.describe_endpoints(Filters=[{"Name": "endpoint-id", "Values": ["none"]}])
    ) == backend.expect(dms_local="ResourceNotFoundFault", moto="ok")


def test_instances_create_describe_modify_delete(backend: Backend) -> None:
    dms = backend.dms
    created = dms.create_replication_instance(
        ReplicationInstanceIdentifier="Rep-Main", ReplicationInstanceClass="dms.t3.micro"
    )["ReplicationInstance"]
    assert created["ReplicationInstanceStatus"] == "creating"
    assert created["ReplicationInstanceIdentifier"] == backend.expect(
        dms_local="rep-main", moto="Rep-Main"
    )
    arn = created["ReplicationInstanceArn"]
    wait_for(lambda: instance_status(dms, arn) == "available")
    modified = dms.modify_replication_instance(
        ReplicationInstanceArn=arn, ReplicationInstanceClass="dms.t3.small", ApplyImmediately=True
    )["ReplicationInstance"]
    assert modified["ReplicationInstanceArn"] == arn
    wait_for(
        lambda: (
            dms.describe_replication_instances()["ReplicationInstances"][0][
                "ReplicationInstanceClass"
            ]
            == "dms.t3.small"
        )
    )
    by_class = dms.describe_replication_instances(
        Filters=[{"Name": "replication-instance-class", "Values": ["dms.t3.small"]}]
    )["ReplicationInstances"]
    assert [i["ReplicationInstanceArn"] for i in by_class] == [arn]
    assert outcome(
        lambda: dms.describe_replication_instances(
            Filters=[{"Name": "replication-instance-id", "Values": ["none"]}]
        )
    ) == backend.expect(dms_local="ResourceNotFoundFault", moto="ok")
    deleted = dms.delete_replication_instance(ReplicationInstanceArn=arn)["ReplicationInstance"]
    assert deleted["ReplicationInstanceStatus"] == "deleting"


def test_tasks_create_describe_modify_delete(backend: Backend) -> None:
    dms = backend.dms
    setup = make_setup(dms)
    arn = make_task(dms, setup, "orders")
    make_task(dms, setup, "customers", "cdc")
    assert task_status(dms, arn) == "creating" or backend.name == "dms-local"
    wait_for(lambda: task_status(dms, arn) in {"ready", "creating"})
    full = dms.describe_replication_tasks(
        Filters=[{"Name": "migration-type", "Values": ["full-load"]}]
    )["ReplicationTasks"]
    assert [t["ReplicationTaskIdentifier"] for t in full] == ["orders"]
    by_instance = dms.describe_replication_tasks(
        Filters=[{"Name": "replication-instance-arn", "Values": [setup.instance]}]
    )["ReplicationTasks"]
    assert len(by_instance) == 2
    # AWS fills in the default task settings when none are given; moto leaves them out.
    listed = dms.describe_replication_tasks()["ReplicationTasks"]
    assert all("ReplicationTaskSettings" in t for t in listed) == backend.expect(
        dms_local=True, moto=False
    )
    lean = dms.describe_replication_tasks(WithoutSettings=True)["ReplicationTasks"]
    assert not any("ReplicationTaskSettings" in t for t in lean)
    assert outcome(
        lambda: dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-id", "Values": ["none"]}]
        )
    ) == backend.expect(dms_local="ResourceNotFoundFault", moto="ok")

    if backend.name == "dms-local":
        wait_for(lambda: task_status(dms, arn) == "ready")
    # ModifyReplicationTask is not implemented by moto.
    assert outcome(
        lambda: dms.modify_replication_task(ReplicationTaskArn=arn, MigrationType="cdc")
    ) == backend.expect(dms_local="ok", moto="500")
    deleted = dms.delete_replication_task(ReplicationTaskArn=arn)["ReplicationTask"]
    assert deleted["Status"] == "deleting"
    remaining = dms.describe_replication_tasks()["ReplicationTasks"]
    assert [t["ReplicationTaskIdentifier"] for t in remaining] == ["customers"]


def test_pagination_with_max_records_20_over_45_endpoints(backend: Backend) -> None:
    dms = backend.dms
    names = [f"ep-{i:02d}" for i in range(46)]
    for name in names:
        create_endpoint(dms, name)
    first = dms.describe_endpoints(MaxRecords=20)
    # AWS pages with Marker; moto ignores MaxRecords for endpoints and answers everything at once.
    assert (len(first["Endpoints"]), "Marker" in first) == backend.expect(
        dms_local=(20, True), moto=(46, False)
    )
    seen: list[str] = []
    pages = 0
    kwargs: dict[str, Any] = {"MaxRecords": 20}
    while True:
        page = dms.describe_endpoints(**kwargs)
        pages += 1
        seen += [e["EndpointIdentifier"] for e in page["Endpoints"]]
        if "Marker" not in page:
            break
        kwargs["Marker"] = page["Marker"]
    assert sorted(seen) == names
    assert pages == backend.expect(dms_local=3, moto=1)
    # boto3's paginator sees every endpoint either way.
    paginator = dms.get_paginator("describe_endpoints")
    total = sum(len(p["Endpoints"]) for p in paginator.paginate(PaginationConfig={"PageSize": 20}))
    assert total == 46
    # The API model's MaxRecords range is 20..100: AWS rejects 5; moto accepts it.
    assert outcome(lambda: dms.describe_endpoints(MaxRecords=5)) == backend.expect(
        dms_local="InvalidParameterValueException", moto="ok"
    )


def test_task_pagination_truncates_without_marker_on_moto(backend: Backend) -> None:
    dms = backend.dms
    setup = make_setup(dms)
    for i in range(45):
        make_task(dms, setup, f"task-{i:02d}")
    page = dms.describe_replication_tasks(MaxRecords=20, WithoutSettings=True)
    # moto cuts the list at MaxRecords and gives no Marker: the other 25 cannot be reached.
    assert (len(page["ReplicationTasks"]), "Marker" in page) == backend.expect(
        dms_local=(20, True), moto=(20, False)
    )
    paginator = dms.get_paginator("describe_replication_tasks")
    total = sum(
        len(p["ReplicationTasks"])
        for p in paginator.paginate(WithoutSettings=True, PaginationConfig={"PageSize": 20})
    )
    assert total == backend.expect(dms_local=45, moto=20)


def test_tags_with_resource_arn_and_resource_arn_list(backend: Backend) -> None:
    dms = backend.dms
    source = dms.create_endpoint(
        EndpointIdentifier="src",
        EndpointType="source",
        EngineName="postgres",
        Tags=[{"Key": "team", "Value": "data"}],
    )["Endpoint"]["EndpointArn"]
    target = create_endpoint(dms, "dst", "target")["EndpointArn"]
    tags = dms.list_tags_for_resource(ResourceArn=source)["TagList"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("team", "data")]
    listed = dms.list_tags_for_resource(ResourceArnList=[source, target])["TagList"]
    assert listed == [{"Key": "team", "Value": "data", "ResourceArn": source}]
    # The API model: only ResourceArnList answers name each tag's ResourceArn; moto always does.
    assert tags[0].get("ResourceArn") == backend.expect(dms_local=None, moto=source)
    # AddTagsToResource and RemoveTagsFromResource are not implemented by moto.
    assert outcome(
        lambda: dms.add_tags_to_resource(ResourceArn=target, Tags=[{"Key": "env", "Value": "x"}])
    ) == backend.expect(dms_local="ok", moto="500")
    assert outcome(
        lambda: dms.remove_tags_from_resource(ResourceArn=source, TagKeys=["team"])
    ) == backend.expect(dms_local="ok", moto="500")
    # An ARN that names nothing: AWS answers ResourceNotFoundFault; moto an empty list.
    assert outcome(
        lambda: dms.list_tags_for_resource(ResourceArn=backend.missing("endpoint"))
    ) == backend.expect(dms_local="ResourceNotFoundFault", moto="ok")


def test_error_codes_for_not_found(backend: Backend) -> None:
    dms = backend.dms
    for call in (
        lambda: dms.delete_endpoint(EndpointArn=backend.missing("endpoint")),
        lambda: dms.delete_replication_instance(ReplicationInstanceArn=backend.missing("rep")),
        lambda: dms.delete_replication_task(ReplicationTaskArn=backend.missing("task")),
        lambda: dms.stop_replication_task(ReplicationTaskArn=backend.missing("task")),
        lambda: dms.start_replication_task(
            ReplicationTaskArn=backend.missing("task"),
            StartReplicationTaskType="start-replication",
        ),
    ):
        assert outcome(call) == "ResourceNotFoundFault"


def test_error_codes_for_already_exists(backend: Backend) -> None:
    dms = backend.dms
    setup = make_setup(dms)
    make_task(dms, setup, "orders")
    assert outcome(lambda: make_task(dms, setup, "orders")) == "ResourceAlreadyExistsFault"
    assert (
        outcome(
            lambda: dms.create_replication_instance(
                ReplicationInstanceIdentifier="rep-1", ReplicationInstanceClass="dms.t3.micro"
            )
        )
        == "ResourceAlreadyExistsFault"
    )
    # moto keys endpoints by identifier and replaces the first one silently.
    assert outcome(lambda: create_endpoint(dms, "src")) == backend.expect(
        dms_local="ResourceAlreadyExistsFault", moto="ok"
    )


def test_error_codes_for_invalid_identifiers_and_values(backend: Backend) -> None:
    dms = backend.dms
    # DMS identifiers: letters, digits and hyphens, starting with a letter. moto does not check.
    assert outcome(lambda: create_endpoint(dms, "bad_name")) == backend.expect(
        dms_local="InvalidParameterValueException", moto="ok"
    )
    assert outcome(
        lambda: dms.create_replication_instance(
            ReplicationInstanceIdentifier="1rep", ReplicationInstanceClass="dms.t3.micro"
        )
    ) == backend.expect(dms_local="InvalidParameterValueException", moto="ok")
    # An unknown endpoint type: AWS's InvalidParameterValueException; moto's ValidationError.
    assert outcome(lambda: create_endpoint(dms, "sideways", "sideways")) == backend.expect(
        dms_local="InvalidParameterValueException", moto="ValidationError"
    )


def test_error_codes_for_invalid_state(backend: Backend) -> None:
    dms = backend.dms
    setup = make_setup(dms)
    arn = make_task(dms, setup, "orders")
    # An endpoint or instance a task uses cannot be deleted on AWS; moto deletes both.
    assert outcome(lambda: dms.delete_endpoint(EndpointArn=setup.source)) == backend.expect(
        dms_local="InvalidResourceStateFault", moto="ok"
    )
    assert outcome(
        lambda: dms.delete_replication_instance(ReplicationInstanceArn=setup.instance)
    ) == backend.expect(dms_local="InvalidResourceStateFault", moto="ok")
    if backend.name == "dms-local":
        wait_for(lambda: task_status(dms, arn) == "ready")
    # Stopping a task that is not running: both InvalidResourceStateFault.
    assert outcome(lambda: dms.stop_replication_task(ReplicationTaskArn=arn)) == (
        "InvalidResourceStateFault"
    )


def test_start_and_stop_rules(backend: Backend) -> None:
    dms = backend.dms
    setup = make_setup(dms)
    arn = make_task(dms, setup, "orders")
    if backend.name == "dms-local":
        wait_for(lambda: task_status(dms, arn) == "ready")

    def start(start_type: str) -> str:
        return outcome(
            lambda: dms.start_replication_task(
                ReplicationTaskArn=arn, StartReplicationTaskType=start_type
            )
        )

    # resume-processing is valid only after a first run; moto does not check start types.
    assert start("resume-processing") == backend.expect(
        dms_local="InvalidResourceStateFault", moto="ok"
    )
    if backend.name == "dms-local":
        assert start("start-replication") == "ok"
    wait_for(lambda: task_status(dms, arn) == "running")
    # A running task cannot be started again or deleted on AWS; moto allows both.
    assert start("reload-target") == backend.expect(
        dms_local="InvalidResourceStateFault", moto="ok"
    )
    assert outcome(lambda: dms.delete_replication_task(ReplicationTaskArn=arn)) == backend.expect(
        dms_local="InvalidResourceStateFault", moto="ok"
    )
    if backend.name == "moto":
        return  # moto deleted the running task
    stopped = dms.stop_replication_task(ReplicationTaskArn=arn)["ReplicationTask"]
    assert stopped["Status"] in {"stopping", "stopped"}
    wait_for(lambda: task_status(dms, arn) == "stopped")
    # start-replication is for the first run only; resume-processing continues a stopped task.
    assert start("start-replication") == "InvalidResourceStateFault"
    assert start("resume-processing") == "ok"
    wait_for(lambda: task_status(dms, arn) == "running")
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_for(lambda: task_status(dms, arn) == "stopped")


def test_account_attributes(backend: Backend) -> None:
    # DescribeAccountAttributes is not implemented by moto.
    assert outcome(lambda: backend.dms.describe_account_attributes()) == backend.expect(
        dms_local="ok", moto="500"
    )


SUBNETS = ["subnet-0a1b2c3d", "subnet-0123456789abcdef0"]


def test_subnet_groups_create_describe_modify_delete(backend: Backend) -> None:
    dms = backend.dms
    created = dms.create_replication_subnet_group(
        ReplicationSubnetGroupIdentifier="Private-Net",
        ReplicationSubnetGroupDescription="private subnets",
        SubnetIds=SUBNETS,
    )["ReplicationSubnetGroup"]
    # AWS stores the name lower-case and answers the subnets it was given; moto keeps the name
    # as given and answers one fixed subnet.
    assert created["ReplicationSubnetGroupIdentifier"] == backend.expect(
        dms_local="private-net", moto="Private-Net"
    )
    assert sorted(s["SubnetIdentifier"] for s in created["Subnets"]) == backend.expect(
        dms_local=sorted(SUBNETS), moto=["subnet-12345"]
    )
    assert created["SubnetGroupStatus"] == "Complete"
    name = created["ReplicationSubnetGroupIdentifier"]
    assert outcome(
        lambda: dms.create_replication_subnet_group(
            ReplicationSubnetGroupIdentifier=name,
            ReplicationSubnetGroupDescription="again",
            SubnetIds=SUBNETS,
        )
    ) == ("ResourceAlreadyExistsFault")

    listed = dms.describe_replication_subnet_groups(
        Filters=[{"Name": "replication-subnet-group-id", "Values": [name]}]
    )["ReplicationSubnetGroups"]
    assert [g["ReplicationSubnetGroupDescription"] for g in listed] == ["private subnets"]
    # AWS answers ResourceNotFoundFault when filters match nothing; moto an empty list.
    assert outcome(
        lambda: dms.describe_replication_subnet_groups(
            Filters=[{"Name": "replication-subnet-group-id", "Values": ["none"]}]
        )
    ) == backend.expect(dms_local="ResourceNotFoundFault", moto="ok")

    # ModifyReplicationSubnetGroup is not implemented by moto.
    assert outcome(
        lambda: dms.modify_replication_subnet_group(
            ReplicationSubnetGroupIdentifier=name,
            ReplicationSubnetGroupDescription="moved",
            SubnetIds=[*SUBNETS, "subnet-0f0f0f0f"],
        )
    ) == backend.expect(dms_local="ok", moto="500")

    # An instance in the group keeps it from being deleted (moto deletes it anyway).
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="in-group",
        ReplicationInstanceClass="dms.t3.micro",
        ReplicationSubnetGroupIdentifier=name,
    )["ReplicationInstance"]
    assert instance["ReplicationSubnetGroup"]["ReplicationSubnetGroupIdentifier"] == name
    assert outcome(
        lambda: dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier=name)
    ) == backend.expect(dms_local="InvalidResourceStateFault", moto="ok")
    if backend.name == "dms-local":
        wait_for(lambda: instance_status(dms, instance["ReplicationInstanceArn"]) == "available")
        dms.delete_replication_instance(ReplicationInstanceArn=instance["ReplicationInstanceArn"])
        dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier=name)
    assert (
        outcome(lambda: dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier=name))
        == "ResourceNotFoundFault"
    )


def test_instance_in_unknown_subnet_group(backend: Backend) -> None:
    # AWS refuses an instance in a subnet group that does not exist; moto accepts it.
    assert outcome(
        lambda: backend.dms.create_replication_instance(
            ReplicationInstanceIdentifier="nowhere",
            ReplicationInstanceClass="dms.t3.micro",
            ReplicationSubnetGroupIdentifier="no-such-group",
        )
    ) == backend.expect(dms_local="ResourceNotFoundFault", moto="ok")


def test_catalogue_reboot_and_delete_connection(backend: Backend) -> None:
    dms = backend.dms
    # moto implements none of these (an HTML 500 page); dms-local answers them as AWS does.
    catalogue = [
        dms.describe_orderable_replication_instances,
        dms.describe_engine_versions,
        dms.describe_endpoint_types,
        lambda: dms.describe_endpoint_settings(EngineName="postgres"),
    ]
    assert [outcome(call) for call in catalogue] == backend.expect(
        dms_local=["ok"] * 4, moto=["500"] * 4
    )
    instance = create_available_instance(dms, "rep-reboot")
    endpoint = create_endpoint(dms, "src")["EndpointArn"]
    assert outcome(
        lambda: dms.reboot_replication_instance(ReplicationInstanceArn=instance)
    ) == backend.expect(dms_local="ok", moto="500")
    # No connection was tested: AWS answers ResourceNotFoundFault.
    assert outcome(
        lambda: dms.delete_connection(EndpointArn=endpoint, ReplicationInstanceArn=instance)
    ) == backend.expect(dms_local="ResourceNotFoundFault", moto="500")


def test_test_connection_and_describe_connections(backend: Backend) -> None:
    dms = backend.dms
    instance = create_available_instance(dms, "rep-conn")
    # Nothing listens on port 1 of the loopback address.
    endpoint = dms.create_endpoint(
        EndpointIdentifier="closed",
        EndpointType="source",
        EngineName="postgres",
        ServerName="127.0.0.1",
        Port=1,
        DatabaseName="app",
        Username="dms",
        Password="compat-password",
    )["Endpoint"]["EndpointArn"]
    started = dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)
    assert started["Connection"]["Status"] == "testing"
    assert started["Connection"]["EndpointIdentifier"] == "closed"

    def connection() -> dict[str, Any]:
        found = dms.describe_connections(
            Filters=[{"Name": "replication-instance-arn", "Values": [instance]}]
        )["Connections"]
        return dict(found[0])

    wait_for(lambda: connection()["Status"] != "testing", timeout=30)
    # dms-local really connects and fails; moto reports success without connecting.
    assert connection()["Status"] == backend.expect(dms_local="failed", moto="successful")
    assert bool(connection().get("LastFailureMessage")) == (backend.name == "dms-local")
    assert (
        outcome(
            lambda: dms.test_connection(
                ReplicationInstanceArn=backend.missing("rep"), EndpointArn=endpoint
            )
        )
        == "ResourceNotFoundFault"
    )
    assert (
        outcome(
            lambda: dms.test_connection(
                ReplicationInstanceArn=instance, EndpointArn=backend.missing("endpoint")
            )
        )
        == "ResourceNotFoundFault"
    )
    unmatched = [{"Name": "endpoint-arn", "Values": [backend.missing("endpoint")]}]
    assert outcome(lambda: dms.describe_connections(Filters=unmatched)) == backend.expect(
        dms_local="ResourceNotFoundFault", moto="ok"
    )
    assert outcome(
        lambda: dms.describe_connections(Filters=[{"Name": "status", "Values": ["failed"]}])
    ) == backend.expect(dms_local="InvalidParameterValueException", moto="500")


def test_certificates_schemas_move_task_logs_and_maintenance(backend: Backend) -> None:
    dms = backend.dms
    # moto implements none of these (an HTML 500 page); dms-local answers them as AWS does.
    instance = create_available_instance(dms, "rep-more")
    endpoint = create_endpoint(dms, "src")["EndpointArn"]
    calls: list[Callable[[], object]] = [
        lambda: dms.import_certificate(CertificateIdentifier="ca", CertificatePem="not pem"),
        dms.describe_certificates,
        lambda: dms.describe_refresh_schemas_status(EndpointArn=endpoint),
        lambda: dms.describe_schemas(EndpointArn=endpoint),
        lambda: dms.move_replication_task(
            ReplicationTaskArn=backend.missing("task"), TargetReplicationInstanceArn=instance
        ),
        lambda: dms.describe_replication_instance_task_logs(ReplicationInstanceArn=instance),
        dms.describe_pending_maintenance_actions,
        lambda: dms.apply_pending_maintenance_action(
            ReplicationInstanceArn=instance, ApplyAction="os-upgrade", OptInType="immediate"
        ),
        dms.describe_data_providers,
    ]
    assert [outcome(call) for call in calls] == backend.expect(
        dms_local=[
            "InvalidCertificateFault",
            "ok",
            "ResourceNotFoundFault",  # never refreshed
            "ResourceNotFoundFault",
            "ResourceNotFoundFault",
            "ok",
            "ok",
            "ok",
            "InvalidOperationFault",  # data providers: not supported by dms-local
        ],
        moto=["500"] * 9,
    )


def test_every_operation_moto_implements_is_covered() -> None:
    """This module calls each operation moto's DMS backend implements (directly or through the
    account helpers), so a new moto operation shows up here to be compared."""
    from moto.dms.responses import DatabaseMigrationServiceResponse

    implemented = {
        name
        for name, value in vars(DatabaseMigrationServiceResponse).items()
        if callable(value) and not name.startswith("_")
    }
    assert len(implemented) >= 18
    from dagster_dms.testing import account

    called = Path(__file__).read_text() + Path(account.__file__).read_text()
    assert sorted(name for name in implemented if f".{name}(" not in called) == []
