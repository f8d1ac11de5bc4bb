"""dms-local's connection tests, ReloadTables, serverless replications and --seed, driven by
independent clients (boto3 and the AWS CLI); data moves between real PostgreSQL databases."""

from __future__ import annotations

import functools
import json
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from api_calls import aws_dms_cli as aws_cli
from api_calls import error_of
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_postgres_endpoint,
    create_task,
    local_client,
    selection_rules,
)
from dagster_dms.testing.dms_local import find_dms_local
from dms_local_fixture import (  # noqa: F401  (dms_local_fixture provides `dms_local`)
    FAST_ARGS,
    dms_local_fixture,
    serving,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SEED = REPO_ROOT / "examples" / "dms-local-seed.yaml"
PASSWORD = "ops-secret-pw-42"  # the test cluster trusts loopback; this only proves it never leaks
SOURCE_DB = "dms_local_ops_source"


def mappings(schema: str = "public", table: str = "%") -> str:
    return selection_rules(schema, table)


def client(server: DmsLocalServer) -> Any:
    return local_client(server.url)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_instance(dms: Any, name: str = "ops-instance") -> str:
    return create_available_instance(dms, name)


def pg_endpoint(dms: Any, name: str, kind: str, port: int, db: str, user: str = "dms") -> str:
    return create_postgres_endpoint(
        dms, name, kind, port=port, database=db, username=user, password=PASSWORD
    )


def connection(dms: Any, instance: str, endpoint: str) -> dict[str, Any]:
    found = dms.describe_connections(
        Filters=[
            {"Name": "endpoint-arn", "Values": [endpoint]},
            {"Name": "replication-instance-arn", "Values": [instance]},
        ]
    )["Connections"]
    assert len(found) == 1
    return dict(found[0])


def finished_connection(dms: Any, instance: str, endpoint: str) -> dict[str, Any]:
    wait_until(lambda: connection(dms, instance, endpoint)["Status"] != "testing")
    return connection(dms, instance, endpoint)


def replication(dms: Any, arn: str) -> dict[str, Any]:
    found = dms.describe_replications(
        Filters=[{"Name": "replication-config-arn", "Values": [arn]}]
    )["Replications"]
    return dict(found[0])


# --- connections (control plane) -----------------------------------------------------------


@pytest.fixture()
def slow_instances(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocalServer]:
    """dms-local whose instances stay `creating` for 1.5 s: long enough to be seen, whatever
    the machine's load."""
    with serving(
        tmp_path, monkeypatch, ["--instance-create-delay-ms", "1500", "--test-executor", "hold"]
    ) as server:
        yield server


def test_connection_to_unreachable_port_fails_and_names_host_and_port(
    slow_instances: DmsLocalServer,
) -> None:
    dms_local = slow_instances
    dms = client(dms_local)
    instance = str(
        dms.create_replication_instance(
            ReplicationInstanceIdentifier="early", ReplicationInstanceClass="dms.t3.micro"
        )["ReplicationInstance"]["ReplicationInstanceArn"]
    )
    port = closed_port()
    endpoint = pg_endpoint(dms, "nowhere", "source", port, "db")
    # The instance is still `creating`.
    code, _ = error_of(
        lambda: dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)
    )
    assert code == "InvalidResourceStateFault"
    wait_until(
        lambda: (
            dms.describe_replication_instances()["ReplicationInstances"][0][
                "ReplicationInstanceStatus"
            ]
            == "available"
        )
    )
    missing = endpoint.rsplit(":", 1)[0] + ":NOSUCHENDPOINT"
    code, _ = error_of(
        lambda: dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=missing)
    )
    assert code == "ResourceNotFoundFault"

    # The AWS CLI starts the test; the answer is `testing`, the result comes later.
    started = aws_cli(
        dms_local,
        "test-connection",
        "--replication-instance-arn",
        instance,
        "--endpoint-arn",
        endpoint,
    )["Connection"]
    assert started["Status"] == "testing"
    assert started["EndpointIdentifier"] == "nowhere"
    assert started["ReplicationInstanceIdentifier"] == "early"
    result = finished_connection(dms, instance, endpoint)
    assert result["Status"] == "failed"
    message = result["LastFailureMessage"]
    assert message.startswith("Test Endpoint failed: Application-Status: 1020912")
    assert "Network error has occurred" in message
    assert "127.0.0.1" in message and str(port) in message
    assert PASSWORD not in json.dumps(result)
    listed = aws_cli(dms_local, "describe-connections")["Connections"]
    assert [c["Status"] for c in listed] == ["failed"]
    # A second test while one runs is refused; after it, allowed again.
    dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)
    finished_connection(dms, instance, endpoint)


def test_describe_connections_pages_filters_and_goes_with_its_resources(
    dms_local: DmsLocalServer,
) -> None:
    dms = client(dms_local)
    instance = make_instance(dms)
    other = make_instance(dms, "other-instance")
    endpoints = []
    for i in range(23):
        # s3 endpoints on a dms-local without --s3-root: each test fails at once, saying why.
        endpoints.append(
            dms.create_endpoint(
                EndpointIdentifier=f"lake-{i:02d}",
                EndpointType="target",
                EngineName="s3",
                S3Settings={"BucketName": f"bucket-{i}"},
            )["Endpoint"]["EndpointArn"]
        )
    for arn in endpoints:
        dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=arn)
    dms.test_connection(ReplicationInstanceArn=other, EndpointArn=endpoints[0])
    for arn in endpoints:
        result = finished_connection(dms, instance, arn)
        assert result["Status"] == "failed"
        assert "--s3-root" in result["LastFailureMessage"]

    first = dms.describe_connections(MaxRecords=20)
    assert len(first["Connections"]) == 20 and "Marker" in first
    second = dms.describe_connections(MaxRecords=20, Marker=first["Marker"])
    assert len(second["Connections"]) == 4 and "Marker" not in second
    pages = dms.get_paginator("describe_connections").paginate(PaginationConfig={"PageSize": 20})
    assert sum(len(page["Connections"]) for page in pages) == 24

    by_endpoint = dms.describe_connections(
        Filters=[{"Name": "endpoint-arn", "Values": [endpoints[0]]}]
    )["Connections"]
    assert {c["ReplicationInstanceArn"] for c in by_endpoint} == {instance, other}
    assert error_of(lambda: dms.describe_connections(MaxRecords=5))[0] == (
        "InvalidParameterValueException"
    )
    assert error_of(
        lambda: dms.describe_connections(Filters=[{"Name": "status", "Values": ["failed"]}])
    )[0] == ("InvalidParameterValueException")
    code, _ = error_of(
        lambda: dms.describe_connections(
            Filters=[{"Name": "endpoint-arn", "Values": ["arn:aws:dms:us-east-1:0:endpoint:X"]}]
        )
    )
    assert code == "ResourceNotFoundFault"

    dms.delete_endpoint(EndpointArn=endpoints[0])
    assert len(list_connections(dms)) == 22
    dms.delete_replication_instance(ReplicationInstanceArn=instance)
    assert list_connections(dms) == []


def list_connections(dms: Any) -> list[dict[str, Any]]:
    pages = dms.get_paginator("describe_connections").paginate()
    return [c for page in pages for c in page["Connections"]]


# --- ReloadTables (control plane) ----------------------------------------------------------


def test_reload_tables_rules(dms_local: DmsLocalServer) -> None:
    dms = client(dms_local)
    instance = make_instance(dms)
    source = pg_endpoint(dms, "src", "source", 5432, "db")
    target = pg_endpoint(dms, "tgt", "target", 5432, "db2")
    task = create_task(
        dms, "reloader", source=source, target=target, instance=instance, wait_ready=False
    )
    one = [{"SchemaName": "public", "TableName": "t"}]
    # Not running (creating/ready): the AWS rule.
    code, message = error_of(lambda: dms.reload_tables(ReplicationTaskArn=task, TablesToReload=one))
    assert code == "InvalidResourceStateFault"
    code, _ = error_of(
        lambda: dms.reload_tables(
            ReplicationTaskArn=task.rsplit(":", 1)[0] + ":NOPE", TablesToReload=one
        )
    )
    assert code == "ResourceNotFoundFault"
    wait_until(lambda: dms.describe_replication_tasks()["ReplicationTasks"][0]["Status"] == "ready")
    dms.start_replication_task(
        ReplicationTaskArn=task, StartReplicationTaskType="start-replication"
    )
    wait_until(
        lambda: dms.describe_replication_tasks()["ReplicationTasks"][0]["Status"] == "running"
    )
    eleven = [{"SchemaName": "public", "TableName": f"t{i}"} for i in range(11)]
    checks: list[tuple[dict[str, Any], str]] = [
        ({"TablesToReload": eleven}, "InvalidParameterValueException"),
        ({"TablesToReload": one + one}, "InvalidParameterValueException"),
        ({"TablesToReload": one, "ReloadOption": "everything"}, "InvalidParameterValueException"),
        (
            {"TablesToReload": one, "ReloadOption": "validate-only"},
            "InvalidParameterValueException",
        ),
    ]
    for arguments, expected in checks:
        assert error_of(functools.partial(dms.reload_tables, ReplicationTaskArn=task, **arguments))[
            0
        ] == (expected), arguments
    # The hold executor moved nothing: the table is not one of the task's, and it says so.
    code, message = error_of(lambda: dms.reload_tables(ReplicationTaskArn=task, TablesToReload=one))
    assert code == "InvalidParameterValueException"
    assert "public.t: not a table of this replication" in message
    dms.stop_replication_task(ReplicationTaskArn=task)


# --- serverless (control plane) ------------------------------------------------------------


def test_replication_config_lifecycle_rules_and_tags(dms_local: DmsLocalServer) -> None:
    dms = client(dms_local)
    source = pg_endpoint(dms, "src", "source", 5432, "db")
    target = pg_endpoint(dms, "tgt", "target", 5432, "db2")
    base: dict[str, Any] = {
        "ReplicationConfigIdentifier": "serverless-1",
        "SourceEndpointArn": source,
        "TargetEndpointArn": target,
        "ComputeConfig": {"MaxCapacityUnits": 4, "MinCapacityUnits": 2},
        "ReplicationType": "full-load",
        "TableMappings": mappings(),
    }
    bad: list[tuple[dict[str, Any], str]] = [
        ({"ComputeConfig": {"MaxCapacityUnits": 3}}, "InvalidParameterValueException"),
        ({"ComputeConfig": {"MinCapacityUnits": 2}}, "InvalidParameterValueException"),
        (
            {"ComputeConfig": {"MaxCapacityUnits": 2, "MinCapacityUnits": 4}},
            "InvalidParameterCombinationException",
        ),
        ({"ReplicationType": "sometimes"}, "InvalidParameterValueException"),
        ({"ReplicationConfigIdentifier": "bad_id"}, "InvalidParameterValueException"),
        ({"TableMappings": "{}"}, "InvalidParameterValueException"),
        ({"SourceEndpointArn": target}, "InvalidParameterValueException"),
        ({"TargetEndpointArn": source + "X"}, "ResourceNotFoundFault"),
    ]
    for change, expected in bad:
        assert error_of(functools.partial(dms.create_replication_config, **{**base, **change}))[
            0
        ] == (expected), change
    config = dms.create_replication_config(**base, Tags=[{"Key": "env", "Value": "dev"}])[
        "ReplicationConfig"
    ]
    arn = config["ReplicationConfigArn"]
    assert arn.startswith("arn:aws:dms:us-east-1:000000000000:replication-config:")
    assert json.loads(config["ReplicationSettings"])["FullLoadSettings"]
    assert error_of(lambda: dms.create_replication_config(**base))[0] == (
        "ResourceAlreadyExistsFault"
    )
    created = replication(dms, arn)
    assert created["Status"] == "created"
    assert created["ReplicationConfigIdentifier"] == "serverless-1"
    assert error_of(lambda: dms.describe_replication_table_statistics(ReplicationConfigArn=arn))[
        0
    ] == ("InvalidResourceStateFault")

    # Tags work on configs like on any other resource.
    dms.add_tags_to_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "data"}])
    dms.remove_tags_from_resource(ResourceArn=arn, TagKeys=["env"])
    assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"] == [
        {"Key": "team", "Value": "data"}
    ]

    modified = dms.modify_replication_config(
        ReplicationConfigArn=arn,
        ComputeConfig={"MaxCapacityUnits": 8},
        ReplicationSettings=json.dumps({"FullLoadSettings": {"CommitRate": 5000}}),
    )["ReplicationConfig"]
    assert modified["ComputeConfig"]["MaxCapacityUnits"] == 8
    assert json.loads(modified["ReplicationSettings"])["FullLoadSettings"]["CommitRate"] == 5000

    start = dms.start_replication
    code, _ = error_of(
        lambda: start(ReplicationConfigArn=arn, StartReplicationType="resume-processing")
    )
    assert code == "InvalidResourceStateFault"
    assert error_of(lambda: start(ReplicationConfigArn=arn, StartReplicationType="soon"))[0] == (
        "InvalidParameterValueException"
    )
    assert error_of(lambda: dms.stop_replication(ReplicationConfigArn=arn))[0] == (
        "InvalidResourceStateFault"
    )
    started = start(ReplicationConfigArn=arn, StartReplicationType="start-replication")
    assert started["Replication"]["Status"] == "starting"
    assert started["Replication"]["ProvisionData"]["ProvisionState"] == "provisioning"
    wait_until(lambda: replication(dms, arn)["Status"] == "running")
    running = replication(dms, arn)
    assert running["ProvisionData"]["ProvisionState"] == "provisioned"
    assert running["ProvisionData"]["ProvisionedCapacityUnits"] == 8
    assert running["StartReplicationType"] == "start-replication"
    for call in (
        lambda: dms.modify_replication_config(ReplicationConfigArn=arn, TableMappings=mappings()),
        lambda: dms.delete_replication_config(ReplicationConfigArn=arn),
        lambda: start(ReplicationConfigArn=arn, StartReplicationType="reload-target"),
    ):
        assert error_of(call)[0] == "InvalidResourceStateFault"
    # ReloadReplicationTables follows ReloadTables: the hold executor loaded no table.
    one = [{"SchemaName": "public", "TableName": "t"}]
    code, message = error_of(
        lambda: dms.reload_replication_tables(ReplicationConfigArn=arn, TablesToReload=one)
    )
    assert code == "InvalidParameterValueException"
    assert "public.t: not a table of this replication" in message
    # An endpoint in use by a config cannot go.
    assert error_of(lambda: dms.delete_endpoint(EndpointArn=source))[0] == (
        "InvalidResourceStateFault"
    )
    dms.stop_replication(ReplicationConfigArn=arn)
    wait_until(lambda: replication(dms, arn)["Status"] == "stopped")
    stopped = replication(dms, arn)
    assert stopped["StopReason"] == "Stop Reason NORMAL"
    code, _ = error_of(
        lambda: dms.reload_replication_tables(ReplicationConfigArn=arn, TablesToReload=one)
    )
    assert code == "InvalidResourceStateFault"
    assert "ReplicationLastStopTime" in stopped
    assert error_of(
        lambda: start(ReplicationConfigArn=arn, StartReplicationType="start-replication")
    )[0] == ("InvalidResourceStateFault")
    # Started once: the config is fixed now (the API model's rule).
    assert error_of(
        lambda: dms.modify_replication_config(ReplicationConfigArn=arn, TableMappings=mappings())
    )[0] == ("InvalidResourceStateFault")
    start(ReplicationConfigArn=arn, StartReplicationType="reload-target")
    wait_until(lambda: replication(dms, arn)["Status"] == "running")
    dms.stop_replication(ReplicationConfigArn=arn)
    wait_until(lambda: replication(dms, arn)["Status"] == "stopped")
    deleted = dms.delete_replication_config(ReplicationConfigArn=arn)["ReplicationConfig"]
    assert deleted["ReplicationConfigIdentifier"] == "serverless-1"
    assert error_of(lambda: replication(dms, arn))[0] == "ResourceNotFoundFault"
    assert error_of(lambda: dms.list_tags_for_resource(ResourceArn=arn))[0] == (
        "ResourceNotFoundFault"
    )


def test_describe_replications_and_configs_paginate(dms_local: DmsLocalServer) -> None:
    dms = client(dms_local)
    source = pg_endpoint(dms, "src", "source", 5432, "db")
    target = pg_endpoint(dms, "tgt", "target", 5432, "db2")
    for i in range(23):
        dms.create_replication_config(
            ReplicationConfigIdentifier=f"config-{i:02d}",
            SourceEndpointArn=source,
            TargetEndpointArn=target,
            ComputeConfig={"MaxCapacityUnits": 1},
            ReplicationType="full-load",
            TableMappings=mappings(),
        )
    first = dms.describe_replications(MaxRecords=20)
    assert len(first["Replications"]) == 20
    second = dms.describe_replications(MaxRecords=20, Marker=first["Marker"])
    assert [r["ReplicationConfigIdentifier"] for r in second["Replications"]] == [
        "config-20",
        "config-21",
        "config-22",
    ]
    assert "Marker" not in second
    # botocore has no paginator for configs: follow the markers by hand.
    seen: list[str] = []
    marker = ""
    while True:
        page = dms.describe_replication_configs(MaxRecords=20, Marker=marker)
        seen += [c["ReplicationConfigIdentifier"] for c in page["ReplicationConfigs"]]
        if "Marker" not in page:
            break
        marker = page["Marker"]
    assert seen == [f"config-{i:02d}" for i in range(23)]
    listed = aws_cli(
        dms_local,
        "describe-replications",
        "--filters",
        "Name=replication-config-id,Values=config-07",
    )["Replications"]
    assert [r["Status"] for r in listed] == ["created"]
    assert error_of(
        lambda: dms.describe_replications(
            Filters=[{"Name": "replication-config-id", "Values": ["none"]}]
        )
    )[0] == ("ResourceNotFoundFault")


# --- against real PostgreSQL ---------------------------------------------------------------


@pytest.fixture(scope="module")
def source_db(pg_cluster: PgCluster) -> Iterator[str]:
    pg_cluster.create_database(SOURCE_DB)
    pg_cluster.psql(
        """
        CREATE TABLE public.items (id integer PRIMARY KEY, name text);
        INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 500) g;
        CREATE TABLE public.slow (id integer PRIMARY KEY);
        INSERT INTO public.slow SELECT generate_series(1, 10);
        ANALYZE;
        """,
        SOURCE_DB,
    )
    yield SOURCE_DB
    pg_cluster.drop_database(SOURCE_DB)


@pytest.fixture()
def real_server(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocalServer]:
    """dms-local with its real data plane and an s3 root."""
    with serving(tmp_path, monkeypatch, [*FAST_ARGS, "--s3-root", str(tmp_path / "s3")]) as server:
        yield server


def test_connection_against_real_postgres(
    real_server: DmsLocalServer, pg_cluster: PgCluster, source_db: str
) -> None:
    dms = client(real_server)
    instance = make_instance(dms)
    good = pg_endpoint(dms, "good", "source", pg_cluster.port, source_db, pg_cluster.user)
    missing_db = pg_endpoint(dms, "no-db", "source", pg_cluster.port, "no_such_db", pg_cluster.user)
    lake = dms.create_endpoint(
        EndpointIdentifier="lake",
        EndpointType="target",
        EngineName="s3",
        S3Settings={"BucketName": "my-bucket"},
    )["Endpoint"]["EndpointArn"]
    for endpoint in (good, missing_db, lake):
        dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)
    # The stock waiter (DescribeConnections until successful) works against dms-local.
    dms.get_waiter("test_connection_succeeds").wait(
        Filters=[{"Name": "endpoint-arn", "Values": [good]}],
        WaiterConfig={"Delay": 1, "MaxAttempts": 20},
    )
    assert finished_connection(dms, instance, good)["Status"] == "successful"
    assert "LastFailureMessage" not in finished_connection(dms, instance, good)
    failed = finished_connection(dms, instance, missing_db)
    assert failed["Status"] == "failed"
    assert 'database "no_such_db" does not exist' in failed["LastFailureMessage"]
    assert PASSWORD not in failed["LastFailureMessage"]
    assert finished_connection(dms, instance, lake)["Status"] == "successful"
    assert (Path(real_server.state_dir).parent / "s3" / "my-bucket").is_dir()


def test_reload_tables_reloads_a_real_table(
    real_server: DmsLocalServer, pg_cluster: PgCluster, source_db: str
) -> None:
    dms = client(real_server)
    target_db = "dms_local_ops_reload_target"
    pg_cluster.create_database(target_db)
    try:
        instance = make_instance(dms)
        source = pg_endpoint(dms, "src", "source", pg_cluster.port, source_db, pg_cluster.user)
        target = pg_endpoint(dms, "tgt", "target", pg_cluster.port, target_db, pg_cluster.user)
        task = create_task(dms, "reload-real", source=source, target=target, instance=instance)
        # Hold public.slow locked so the load (and the task) keeps running while we reload.
        locker = subprocess.Popen(
            [str(pg_cluster.bindir / "psql"), "-X", "-q", "-d", pg_cluster.dsn(source_db)],
            stdin=subprocess.PIPE,
            text=True,
        )
        assert locker.stdin is not None
        locker.stdin.write("BEGIN; LOCK TABLE public.slow IN ACCESS EXCLUSIVE MODE;\n")
        locker.stdin.flush()
        try:
            # Held before the task starts, or a quick load could finish first.
            wait_until(
                lambda: (
                    pg_cluster.psql(
                        "SELECT count(*) FROM pg_locks WHERE granted"
                        " AND mode = 'AccessExclusiveLock' AND relation = 'public.slow'::regclass"
                        " AND database = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database())",
                        source_db,
                    ).strip()
                    == "1"
                ),
                timeout=30,
            )
            dms.start_replication_task(
                ReplicationTaskArn=task, StartReplicationTaskType="start-replication"
            )

            def items_state() -> str:
                stats = dms.describe_table_statistics(ReplicationTaskArn=task)["TableStatistics"]
                return next((s["TableState"] for s in stats if s["TableName"] == "items"), "")

            wait_until(lambda: items_state() == "Table completed")
            assert pg_cluster.table_checksum(target_db, "public.items")[0] == 500
            # New source rows: only a reload brings them over.
            pg_cluster.psql(
                "INSERT INTO public.items SELECT g, 'late ' || g FROM generate_series(501, 520) g",
                source_db,
            )
            dms.reload_tables(
                ReplicationTaskArn=task,
                TablesToReload=[{"SchemaName": "public", "TableName": "items"}],
            )
            assert items_state() == "Table is being reloaded"
        finally:
            locker.stdin.write("COMMIT;\n")
            locker.stdin.close()
            locker.wait(timeout=10)
        wait_until(
            lambda: dms.describe_replication_tasks()["ReplicationTasks"][0]["Status"] == "stopped",
            timeout=60,
        )
        final = dms.describe_replication_tasks()["ReplicationTasks"][0]
        assert final["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
        stats = {
            s["TableName"]: s
            for s in dms.describe_table_statistics(ReplicationTaskArn=task)["TableStatistics"]
        }
        assert stats["items"]["FullLoadReloaded"] is True
        assert stats["items"]["FullLoadRows"] == 520
        assert stats["items"]["TableState"] == "Table completed"
        assert stats["slow"]["FullLoadReloaded"] is False
        assert pg_cluster.table_checksum(target_db, "public.items") == pg_cluster.table_checksum(
            source_db, "public.items"
        )
        # A finished full-load task is stopped: AWS refuses ReloadTables then.
        code, _ = error_of(
            lambda: dms.reload_tables(
                ReplicationTaskArn=task,
                TablesToReload=[{"SchemaName": "public", "TableName": "items"}],
            )
        )
        assert code == "InvalidResourceStateFault"
    finally:
        pg_cluster.psql("DELETE FROM public.items WHERE id > 500", source_db)
        pg_cluster.drop_database(target_db)


def test_serverless_full_load_moves_rows(
    real_server: DmsLocalServer, pg_cluster: PgCluster, source_db: str
) -> None:
    dms = client(real_server)
    target_db = "dms_local_ops_serverless_target"
    pg_cluster.create_database(target_db)
    try:
        source = pg_endpoint(dms, "src", "source", pg_cluster.port, source_db, pg_cluster.user)
        target = pg_endpoint(dms, "tgt", "target", pg_cluster.port, target_db, pg_cluster.user)
        arn = dms.create_replication_config(
            ReplicationConfigIdentifier="serverless-load",
            SourceEndpointArn=source,
            TargetEndpointArn=target,
            ComputeConfig={"MaxCapacityUnits": 2},
            ReplicationType="full-load",
            TableMappings=mappings(),
        )["ReplicationConfig"]["ReplicationConfigArn"]
        aws_cli(
            real_server,
            "start-replication",
            "--replication-config-arn",
            arn,
            "--start-replication-type",
            "start-replication",
        )
        wait_until(lambda: replication(dms, arn)["Status"] in ("stopped", "failed"), timeout=60)
        done = replication(dms, arn)
        assert done["Status"] == "stopped", done
        assert done["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
        assert done["ReplicationStats"]["FullLoadProgressPercent"] == 100
        assert done["ReplicationStats"]["TablesLoaded"] == 2
        assert done["ProvisionData"]["ProvisionedCapacityUnits"] == 2
        for table in ("public.items", "public.slow"):
            assert pg_cluster.table_checksum(target_db, table) == pg_cluster.table_checksum(
                source_db, table
            )
        stats = dms.describe_replication_table_statistics(ReplicationConfigArn=arn)
        rows = {s["TableName"]: s["FullLoadRows"] for s in stats["ReplicationTableStatistics"]}
        assert rows == {"items": 500, "slow": 10}
        only_items = dms.describe_replication_table_statistics(
            ReplicationConfigArn=arn, Filters=[{"Name": "table-name", "Values": ["items"]}]
        )["ReplicationTableStatistics"]
        assert [s["TableState"] for s in only_items] == ["Table completed"]
    finally:
        pg_cluster.drop_database(target_db)


# --- seed ----------------------------------------------------------------------------------


def seeded_server(tmp_path: Path, seed: Path) -> DmsLocalServer:
    return DmsLocalServer(
        tmp_path / "state", extra_args=[*FAST_ARGS, "--test-executor", "hold", "--seed", str(seed)]
    )


def snapshot(dms: Any) -> dict[str, Any]:
    return {
        "endpoints": sorted(e["EndpointArn"] for e in dms.describe_endpoints()["Endpoints"]),
        "instances": sorted(
            i["ReplicationInstanceArn"]
            for i in dms.describe_replication_instances()["ReplicationInstances"]
        ),
        "tasks": sorted(
            t["ReplicationTaskArn"] for t in dms.describe_replication_tasks()["ReplicationTasks"]
        ),
        "configs": sorted(
            c["ReplicationConfigArn"]
            for c in dms.describe_replication_configs()["ReplicationConfigs"]
        ),
    }


@pytest.mark.parametrize("form", ["yaml", "json"])
def test_seed_creates_resources_once(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    seed = EXAMPLE_SEED
    if form == "json":
        seed = tmp_path / "seed.json"
        seed.write_text(json.dumps(yaml.safe_load(EXAMPLE_SEED.read_text())))
    server = seeded_server(tmp_path, seed)
    server.start()
    try:
        dms = client(server)
        first = snapshot(dms)
        assert [len(first[k]) for k in ("endpoints", "instances", "tasks", "configs")] == [
            4,
            1,
            2,
            1,
        ]
        # Usable at once: the instance is available, the task ready.
        instance = dms.describe_replication_instances()["ReplicationInstances"][0]
        assert instance["ReplicationInstanceStatus"] == "available"
        task = dms.describe_replication_tasks()["ReplicationTasks"][0]
        assert task["Status"] == "ready"
        assert task["ReplicationTaskIdentifier"] == "shop-to-warehouse"
        assert json.loads(task["TableMappings"])["rules"][0]["rule-name"] == "all-public"
        assert dms.list_tags_for_resource(ResourceArn=task["ReplicationTaskArn"])["TagList"] == [
            {"Key": "owner", "Value": "analytics"}
        ]
        source = next(
            e
            for e in dms.describe_endpoints()["Endpoints"]
            if e["EndpointIdentifier"] == "shop-source"
        )
        assert "Password" not in json.dumps(source) and "change-me" not in json.dumps(source)
        config = dms.describe_replication_configs()["ReplicationConfigs"][0]
        assert config["ComputeConfig"]["MaxCapacityUnits"] == 2
        assert dms.list_tags_for_resource(ResourceArn=config["ReplicationConfigArn"])[
            "TagList"
        ] == [{"Key": "env", "Value": "dev"}]
        # A second start with the same seed changes nothing.
        server.restart()
        assert snapshot(client(server)) == first
    finally:
        if server.process is not None:
            assert server.stop() == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "endpoints:\n  - EndpointIdentifier: a\n    EndpointType: source\n",
            "endpoints[0] (a): field EngineName: missing",
        ),
        (
            "endpoints:\n  - EndpointIdentifier: a\n    EndpointType: source\n"
            "    EngineName: oracle\n",
            "endpoints[0] (a): InvalidParameterValueException: Invalid value oracle for EngineName",
        ),
        (
            "tasks:\n  - ReplicationTaskIdentifier: t\n    SourceEndpoint: nope\n"
            "    TargetEndpoint: nope\n    ReplicationInstance: nope\n"
            "    TableMappings: {rules: [{rule-type: selection}]}\n",
            "tasks[0] (t): field SourceEndpoint: endpoint nope is neither declared",
        ),
        ("replication_configs: {}\n", "field replication_configs: must be a list"),
    ],
)
def test_bad_seed_fails_at_start_naming_entry_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    binary = find_dms_local()
    if binary is None:
        pytest.skip("dms-local is not built")
    seed = tmp_path / "bad.yaml"
    seed.write_text(text)
    result = subprocess.run(
        [
            binary,
            "serve",
            "--port",
            "0",
            "--state-dir",
            str(tmp_path / "state"),
            "--seed",
            str(seed),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert expected in result.stderr
    assert str(seed) in result.stderr
