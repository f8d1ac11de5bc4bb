"""dms-local's control plane through independent clients: boto3, AWS CLI, DmsClient, dmsctl."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import create_postgres_endpoint, local_client, selection_rules
from dms_local_fixture import dms_local_fixture  # noqa: F401  (the fixture)

MAPPINGS = selection_rules()


def client(server: DmsLocalServer, key: str = "test", secret: str = "test") -> Any:
    return local_client(server.url, aws_access_key_id=key, aws_secret_access_key=secret)


def error_code(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    err = info.value.response["Error"]
    return str(err["Code"]), str(err.get("Message", ""))


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def task_status(dms: Any, arn: str) -> str:
    tasks = dms.describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WithoutSettings=True
    )
    return str(tasks["ReplicationTasks"][0]["Status"])


def make_setup(dms: Any) -> dict[str, str]:
    source, target = (
        create_postgres_endpoint(
            dms,
            name,
            kind,
            server="localhost",
            port=5432,
            database=database,
            username="dms",
            password=f"hunter2-{kind}",
        )
        for name, kind, database in (("src", "source", "app"), ("dst", "target", "warehouse"))
    )
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="Local-Instance", ReplicationInstanceClass="dms.t3.micro"
    )["ReplicationInstance"]
    assert instance["ReplicationInstanceIdentifier"] == "local-instance"
    assert instance["ReplicationInstanceStatus"] == "creating"
    arn = instance["ReplicationInstanceArn"]
    wait_for(
        lambda: (
            dms.describe_replication_instances()["ReplicationInstances"][0][
                "ReplicationInstanceStatus"
            ]
            == "available"
        )
    )
    return {"source": source, "target": target, "instance": arn}


def make_task(dms: Any, setup: dict[str, str], name: str, migration: str = "full-load") -> str:
    task = dms.create_replication_task(
        ReplicationTaskIdentifier=name,
        SourceEndpointArn=setup["source"],
        TargetEndpointArn=setup["target"],
        ReplicationInstanceArn=setup["instance"],
        MigrationType=migration,
        TableMappings=MAPPINGS,
    )["ReplicationTask"]
    assert task["Status"] == "creating"
    return str(task["ReplicationTaskArn"])


def test_endpoints_never_return_passwords(dms_local: DmsLocalServer) -> None:
    dms = client(dms_local)
    setup = make_setup(dms)
    assert setup["source"].startswith("arn:aws:dms:us-east-1:000000000000:endpoint:")
    described = dms.describe_endpoints()
    assert "hunter2" not in json.dumps(described, default=str)
    assert {e["EndpointType"] for e in described["Endpoints"]} == {"SOURCE", "TARGET"}
    assert all(e["Status"] == "active" for e in described["Endpoints"])
    only = dms.describe_endpoints(Filters=[{"Name": "endpoint-type", "Values": ["source"]}])
    assert [e["EndpointIdentifier"] for e in only["Endpoints"]] == ["src"]
    assert error_code(
        lambda: dms.describe_endpoints(Filters=[{"Name": "endpoint-id", "Values": ["none"]}])
    ) == ("ResourceNotFoundFault", "No Endpoints found matching provided filters")
    state = (dms_local.state_dir / "dms-local.sqlite3").stat()
    assert state.st_mode & 0o777 == 0o600


def test_task_describe_filters_settings_and_errors(dms_local: DmsLocalServer) -> None:
    dms = client(dms_local)
    setup = make_setup(dms)
    arn = make_task(dms, setup, "orders")
    make_task(dms, setup, "customers", "cdc")
    wait_for(lambda: task_status(dms, arn) == "ready")
    full = dms.describe_replication_tasks(
        Filters=[{"Name": "migration-type", "Values": ["full-load"]}]
    )["ReplicationTasks"]
    assert [t["ReplicationTaskIdentifier"] for t in full] == ["orders"]
    settings = json.loads(full[0]["ReplicationTaskSettings"])
    assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "DROP_AND_CREATE"
    # Logging is off by default, and DMS names the CloudWatch log only while it is on.
    assert settings["Logging"]["CloudWatchLogGroup"] is None
    assert settings["Logging"]["CloudWatchLogStream"] is None
    lean = dms.describe_replication_tasks(WithoutSettings=True)["ReplicationTasks"]
    assert all("ReplicationTaskSettings" not in t for t in lean)
    by_endpoint = dms.describe_replication_tasks(
        Filters=[{"Name": "endpoint-arn", "Values": [setup["target"]]}]
    )["ReplicationTasks"]
    assert len(by_endpoint) == 2
    assert error_code(
        lambda: dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-id", "Values": ["missing"]}]
        )
    ) == ("ResourceNotFoundFault", "No Tasks found matching provided filters")
    assert error_code(lambda: dms.describe_replication_tasks(MaxRecords=5))[0] == (
        "InvalidParameterValueException"
    )
    code, message = error_code(lambda: make_task(dms, setup, "bad_name"))
    assert code == "InvalidParameterValueException" and "not a valid identifier" in message
    assert error_code(lambda: make_task(dms, setup, "orders"))[0] == "ResourceAlreadyExistsFault"
    assert error_code(lambda: dms.delete_endpoint(EndpointArn=setup["source"]))[0] == (
        "InvalidResourceStateFault"
    )
    assert (
        error_code(
            lambda: dms.start_replication_task(
                ReplicationTaskArn=arn[:-1] + "X" if not arn.endswith("X") else arn[:-1] + "Y",
                StartReplicationTaskType="start-replication",
            )
        )[0]
        == "ResourceNotFoundFault"
    )
    assert (
        error_code(
            lambda: dms.create_replication_task(
                ReplicationTaskIdentifier="both",
                SourceEndpointArn=setup["source"],
                TargetEndpointArn=setup["target"],
                ReplicationInstanceArn=setup["instance"],
                MigrationType="cdc",
                TableMappings=MAPPINGS,
                CdcStartTime=1_700_000_000,
                CdcStartPosition="0/0",
            )
        )[0]
        == "InvalidParameterCombinationException"
    )


def test_pagination_over_45_tasks(dms_local: DmsLocalServer) -> None:
    dms = client(dms_local)
    setup = make_setup(dms)
    names = {f"task-{i:02d}" for i in range(47)}
    for name in names:
        make_task(dms, setup, name)
    seen: list[str] = []
    pages = 0
    kwargs: dict[str, Any] = {"MaxRecords": 20, "WithoutSettings": True}
    while True:
        page = dms.describe_replication_tasks(**kwargs)
        pages += 1
        assert len(page["ReplicationTasks"]) <= 20
        seen += [t["ReplicationTaskIdentifier"] for t in page["ReplicationTasks"]]
        if "Marker" not in page:
            break
        kwargs["Marker"] = page["Marker"]
    assert pages == 3 and sorted(seen) == sorted(names)
    paginator = dms.get_paginator("describe_replication_tasks")
    total = sum(
        len(p["ReplicationTasks"]) for p in paginator.paginate(PaginationConfig={"PageSize": 20})
    )
    assert total == 47


def test_start_stop_lifecycle_and_start_type_rules(dms_local: DmsLocalServer) -> None:
    dms = client(dms_local)
    setup = make_setup(dms)
    arn = make_task(dms, setup, "orders")
    wait_for(lambda: task_status(dms, arn) == "ready")
    assert (
        error_code(
            lambda: dms.start_replication_task(
                ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing"
            )
        )[0]
        == "InvalidResourceStateFault"
    )
    started = dms.start_replication_task(
        ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
    )["ReplicationTask"]
    assert started["Status"] == "starting"
    wait_for(lambda: task_status(dms, arn) == "running")
    assert (
        error_code(
            lambda: dms.start_replication_task(
                ReplicationTaskArn=arn, StartReplicationTaskType="reload-target"
            )
        )[0]
        == "InvalidResourceStateFault"
    )
    assert error_code(lambda: dms.delete_replication_task(ReplicationTaskArn=arn))[0] == (
        "InvalidResourceStateFault"
    )
    assert dms.stop_replication_task(ReplicationTaskArn=arn)["ReplicationTask"]["Status"] in {
        "stopping",
        "stopped",
    }
    wait_for(lambda: task_status(dms, arn) == "stopped")
    task = dms.describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
    )["ReplicationTasks"][0]
    assert task["StopReason"] == "Stop Reason NORMAL"
    stats = task["ReplicationTaskStats"]
    assert {"StartDate", "StopDate", "FreshStartDate", "ElapsedTimeMillis"} <= set(stats)
    assert (
        error_code(
            lambda: dms.start_replication_task(
                ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
            )
        )[0]
        == "InvalidResourceStateFault"
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_for(lambda: task_status(dms, arn) == "running")
    stats = dms.describe_table_statistics(ReplicationTaskArn=arn)
    assert stats["ReplicationTaskArn"] == arn and stats["TableStatistics"] == []


def test_held_cdc_tasks_reach_running(dms_local: DmsLocalServer) -> None:
    # A run that captures changes shows `running` once the executor says it is under way; the
    # hold executor must say so too, or its CDC tasks stay `starting` for ever.
    dms = client(dms_local)
    setup = make_setup(dms)
    for migration in ("cdc", "full-load-and-cdc"):
        arn = make_task(dms, setup, f"held-{migration}", migration)
        wait_for(lambda arn=arn: task_status(dms, arn) == "ready")
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
        wait_for(lambda arn=arn: task_status(dms, arn) == "running")
        dms.stop_replication_task(ReplicationTaskArn=arn)
        wait_for(lambda arn=arn: task_status(dms, arn) == "stopped")


def test_without_data_plane_a_start_fails_and_says_why(dms_local: DmsLocalServer) -> None:
    dms_local.stop()
    dms_local.extra_args = [a for a in dms_local.extra_args if a != "hold"] + ["none"]
    dms_local.start()
    dms = client(dms_local)
    setup = make_setup(dms)
    arn = make_task(dms, setup, "orders")
    wait_for(lambda: task_status(dms, arn) == "ready")
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_for(lambda: task_status(dms, arn) == "failed")
    task = dms.describe_replication_tasks()["ReplicationTasks"][0]
    assert task["LastFailureMessage"] == "this dms-local build has no data plane"


def test_restart_keeps_resources_and_fails_interrupted_tasks(dms_local: DmsLocalServer) -> None:
    dms = client(dms_local)
    setup = make_setup(dms)
    arn = make_task(dms, setup, "orders")
    wait_for(lambda: task_status(dms, arn) == "ready")
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_for(lambda: task_status(dms, arn) == "running")
    dms_local.restart(signal.SIGKILL)
    dms = client(dms_local)
    assert len(dms.describe_endpoints()["Endpoints"]) == 2
    task = dms.describe_replication_tasks()["ReplicationTasks"][0]
    assert task["Status"] == "failed"
    assert "stopped unexpectedly" in task["LastFailureMessage"]
    # A clean shutdown records running tasks as stopped.
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_for(lambda: task_status(dms, arn) == "running")
    assert dms_local.restart() == 0
    dms = client(dms_local)
    task = dms.describe_replication_tasks()["ReplicationTasks"][0]
    assert (task["Status"], task["StopReason"]) == ("stopped", "Stop Reason NORMAL")


def test_tags_and_account_attributes(dms_local: DmsLocalServer) -> None:
    dms = client(dms_local)
    setup = make_setup(dms)
    dms.add_tags_to_resource(
        ResourceArn=setup["source"], Tags=[{"Key": "team", "Value": "data"}, {"Key": "x"}]
    )
    tags = dms.list_tags_for_resource(ResourceArn=setup["source"])["TagList"]
    assert {t["Key"]: t.get("Value") for t in tags} == {"team": "data", "x": ""}
    dms.remove_tags_from_resource(ResourceArn=setup["source"], TagKeys=["x"])
    listed = dms.list_tags_for_resource(ResourceArnList=[setup["source"], setup["target"]])
    assert listed["TagList"] == [{"Key": "team", "Value": "data", "ResourceArn": setup["source"]}]
    quotas = {
        q["AccountQuotaName"]: (q["Used"], q["Max"])
        for q in dms.describe_account_attributes()["AccountQuotas"]
    }
    assert quotas["Endpoints"] == (2, 1000)
    assert quotas["ReplicationInstances"] == (1, 60)
    assert quotas["ReplicationTasks"] == (0, 600)


def test_auth_rejections(dms_local: DmsLocalServer) -> None:
    assert error_code(lambda: client(dms_local, "nobody").describe_endpoints())[0] == (
        "UnrecognizedClientException"
    )
    assert error_code(lambda: client(dms_local, "test", "wrong").describe_endpoints())[0] == (
        "InvalidSignatureException"
    )
    # A request signed 20 minutes ago: botocore signs with its clock, so move that clock.
    import botocore.auth

    real = botocore.auth.datetime.datetime

    class Past(real):  # type: ignore[misc, valid-type]
        @classmethod
        def utcnow(cls) -> Any:
            return real.utcnow() - __import__("datetime").timedelta(minutes=20)

        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return real.now(tz) - __import__("datetime").timedelta(minutes=20)

    botocore.auth.datetime.datetime = Past  # type: ignore[misc]
    try:
        code, message = error_code(lambda: client(dms_local).describe_endpoints())
    finally:
        botocore.auth.datetime.datetime = real  # type: ignore[misc]
    assert code == "InvalidSignatureException" and message.startswith("Signature expired:")
    unsigned = boto3.client(
        "dms",
        endpoint_url=dms_local.url,
        region_name="us-east-1",
        config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}),
    )
    assert error_code(lambda: unsigned.describe_endpoints())[0] == (
        "MissingAuthenticationTokenException"
    )


def test_aws_cli_lists_what_boto3_created(dms_local: DmsLocalServer) -> None:
    # scripts/bootstrap.sh installs Debian's awscli; without it this test must fail, not skip.
    assert shutil.which("aws"), "the AWS CLI is not installed: run `make bootstrap`"
    dms = client(dms_local)
    make_setup(dms)
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        ["aws", "dms", "describe-endpoints", "--endpoint-url", dms_local.url, "--output", "json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert sorted(e["EndpointIdentifier"] for e in json.loads(out)["Endpoints"]) == ["dst", "src"]
    failed = subprocess.run(
        [
            "aws",
            "dms",
            "describe-replication-tasks",
            "--endpoint-url",
            dms_local.url,
            "--filters",
            "Name=replication-task-id,Values=none",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert failed.returncode != 0 and "ResourceNotFoundFault" in failed.stderr


def test_dagster_dms_client_and_dmsctl_list_resources(
    dms_local: DmsLocalServer, dmsctl_path: str
) -> None:
    from dagster_dms import DmsClient

    dms = client(dms_local)
    setup = make_setup(dms)
    make_task(dms, setup, "orders")
    ours = DmsClient(region_name="us-east-1", endpoint_url=dms_local.url)
    assert [t.replication_task_identifier for t in ours.describe_replication_tasks()] == ["orders"]
    assert ours.describe_replication_tasks({"replication-task-id": "none"}) == []
    dmsctl = dmsctl_path
    out = subprocess.run(
        [
            dmsctl,
            "--endpoint-url",
            dms_local.url,
            "--region",
            "us-east-1",
            "--output",
            "json",
            "tasks",
            "list",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "orders" in out.stdout
