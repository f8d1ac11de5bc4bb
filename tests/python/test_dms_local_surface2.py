"""The rest of the DMS API a workflow or an infrastructure tool touches, through boto3 and the AWS
CLI against a real dms-local: certificates and SslMode against a PostgreSQL serving TLS,
RefreshSchemas / DescribeSchemas reading the real source, MoveReplicationTask,
DescribeReplicationInstanceTaskLogs, pending maintenance actions, and the features dms-local
leaves out on purpose."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api_calls import aws_dms_cli as aws_cli
from api_calls import error_of
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_cluster_endpoint,
    create_task,
    describe_instance,
    describe_task,
    local_client,
    selection_rules,
    wait_until,
)
from dagster_dms.testing.postgres import make_certificate_authority
from dms_local_fixture import DATA_PLANE_ARGS, dms_local_fixture, serving  # noqa: F401
from pg_cluster import PgCluster

SOURCE_DB = "surface2_source"
TARGET_DB = "surface2_target"
ROWS = 500


@pytest.fixture(scope="module")
def tls_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster serving TLS with a certificate for 127.0.0.1 from its own CA, holding
    a source database (schema `shop`, table `items`) and an empty target database."""
    with PgCluster(tls=True) as cluster:
        cluster.create_database(SOURCE_DB)
        cluster.create_database(TARGET_DB)
        cluster.psql(
            'CREATE SCHEMA shop; CREATE SCHEMA "Mixed Case";'
            "CREATE TABLE shop.items (id integer PRIMARY KEY, name text);"
            f"INSERT INTO shop.items SELECT g, 'item ' || g FROM generate_series(1, {ROWS}) g;",
            SOURCE_DB,
        )
        yield cluster


def ca_pem(cluster: PgCluster) -> str:
    assert cluster.ca_certificate_pem is not None
    return cluster.ca_certificate_pem


def import_certificate(dms: Any, identifier: str, pem: str) -> dict[str, Any]:
    return dict(
        dms.import_certificate(CertificateIdentifier=identifier, CertificatePem=pem)["Certificate"]
    )


def tls_endpoint(
    dms: Any, identifier: str, kind: str, cluster: PgCluster, database: str, **ssl: Any
) -> str:
    return create_cluster_endpoint(dms, identifier, kind, cluster, database, **ssl)


def connection_result(dms: Any, instance: str, endpoint: str) -> dict[str, Any]:
    """Tests the connection and waits for its result."""
    dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)

    def result() -> dict[str, Any]:
        found = dms.describe_connections(Filters=[{"Name": "endpoint-arn", "Values": [endpoint]}])[
            "Connections"
        ]
        return dict(found[0])

    wait_until(lambda: result()["Status"] != "testing", "connection test finished", timeout=60)
    return result()


# -- certificates ----------------------------------------------------------------------------


def test_certificate_import_describe_delete_with_aws_validation(
    dms_local: DmsLocalServer, tls_cluster: PgCluster, tmp_path: Path
) -> None:
    dms = local_client(dms_local.url)
    pem = ca_pem(tls_cluster)
    cert = import_certificate(dms, "cluster-ca", pem)
    assert cert["CertificateArn"].startswith("arn:aws:dms:us-east-1:000000000000:cert:")
    assert cert["CertificateIdentifier"] == "cluster-ca"
    assert cert["CertificateOwner"] == "000000000000"
    assert cert["CertificatePem"] == pem
    assert cert["SigningAlgorithm"] == "SHA256withRSA"
    assert cert["KeyLength"] == 2048
    assert cert["ValidFromDate"] < cert["ValidToDate"]
    assert cert["CertificateCreationDate"] >= cert["ValidFromDate"]

    assert error_of(lambda: import_certificate(dms, "cluster-ca", pem))[0] == (
        "ResourceAlreadyExistsFault"
    )
    for bad in ("1cert", "a--b", "end-", "under_score"):
        code, message = error_of(lambda bad=bad: import_certificate(dms, bad, pem))
        assert code == "InvalidParameterValueException" and "CertificateIdentifier" in message
    code, message = error_of(lambda: import_certificate(dms, "garbage", "not a certificate"))
    assert code == "InvalidCertificateFault" and "CertificatePem" in message
    truncated = pem[: len(pem) // 2] + "\n-----END CERTIFICATE-----\n"
    assert error_of(lambda: import_certificate(dms, "cut", truncated))[0] == (
        "InvalidCertificateFault"
    )
    code, message = error_of(lambda: dms.import_certificate(CertificateIdentifier="none"))
    assert code == "InvalidParameterCombinationException" and "CertificateWallet" in message
    assert (
        error_of(
            lambda: dms.import_certificate(
                CertificateIdentifier="both", CertificatePem=pem, CertificateWallet=b"wallet"
            )
        )[0]
        == "InvalidParameterCombinationException"
    )
    wallet = dms.import_certificate(
        CertificateIdentifier="oracle-wallet",
        CertificateWallet=b"\x01\x02wallet",
        Tags=[{"Key": "team", "Value": "data"}],
    )["Certificate"]
    assert wallet["CertificateWallet"] == b"\x01\x02wallet"
    assert "CertificatePem" not in wallet
    assert dms.list_tags_for_resource(ResourceArn=wallet["CertificateArn"])["TagList"] == [
        {"Key": "team", "Value": "data"}
    ]

    listed = dms.describe_certificates()["Certificates"]
    assert [c["CertificateIdentifier"] for c in listed] == ["cluster-ca", "oracle-wallet"]
    by_arn = dms.describe_certificates(
        Filters=[{"Name": "certificate-arn", "Values": [cert["CertificateArn"]]}]
    )["Certificates"]
    assert [c["CertificateIdentifier"] for c in by_arn] == ["cluster-ca"]
    assert error_of(
        lambda: dms.describe_certificates(Filters=[{"Name": "certificate-id", "Values": ["x"]}])
    )[0] == ("ResourceNotFoundFault")

    # An endpoint that verifies needs a certificate, and one that exists.
    code, message = error_of(
        lambda: tls_endpoint(dms, "nocert", "source", tls_cluster, SOURCE_DB, SslMode="verify-full")
    )
    assert code == "InvalidParameterCombinationException" and "CertificateArn" in message
    missing = cert["CertificateArn"][:-4] + "XXXX"
    assert error_of(
        lambda: tls_endpoint(
            dms,
            "gone",
            "source",
            tls_cluster,
            SOURCE_DB,
            SslMode="verify-ca",
            CertificateArn=missing,
        )
    )[0] == ("ResourceNotFoundFault")
    code, message = error_of(
        lambda: tls_endpoint(
            dms,
            "walleted",
            "source",
            tls_cluster,
            SOURCE_DB,
            SslMode="verify-ca",
            CertificateArn=wallet["CertificateArn"],
        )
    )
    assert code == "InvalidParameterValueException" and "PEM" in message

    # A certificate an endpoint uses cannot be deleted.
    endpoint = tls_endpoint(
        dms,
        "verified",
        "source",
        tls_cluster,
        SOURCE_DB,
        SslMode="verify-full",
        CertificateArn=cert["CertificateArn"],
    )
    code, message = error_of(lambda: dms.delete_certificate(CertificateArn=cert["CertificateArn"]))
    assert code == "InvalidResourceStateFault" and "verified" in message
    dms.delete_endpoint(EndpointArn=endpoint)
    deleted = dms.delete_certificate(CertificateArn=cert["CertificateArn"])["Certificate"]
    assert deleted["CertificateIdentifier"] == "cluster-ca"
    assert error_of(lambda: dms.delete_certificate(CertificateArn=cert["CertificateArn"]))[0] == (
        "ResourceNotFoundFault"
    )

    # The AWS CLI reads the PEM from a file, as users import them.
    pem_file = tmp_path / "ca.pem"
    pem_file.write_text(pem)
    imported = aws_cli(
        dms_local,
        "import-certificate",
        "--certificate-identifier",
        "cli-ca",
        "--certificate-pem",
        f"file://{pem_file}",
    )["Certificate"]
    described = aws_cli(
        dms_local,
        "describe-certificates",
        "--filters",
        "Name=certificate-id,Values=cli-ca",
    )["Certificates"]
    assert [c["CertificateArn"] for c in described] == [imported["CertificateArn"]]
    aws_cli(dms_local, "delete-certificate", "--certificate-arn", imported["CertificateArn"])


def test_verify_full_with_the_right_ca_connects_and_runs_a_full_load(
    tls_cluster: PgCluster, tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CA goes to libpq in a temporary file: it must be gone after every connection.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    with serving(tmp_path, monkeypatch, list(DATA_PLANE_ARGS)) as server:
        dms = local_client(server.url)
        cert = import_certificate(dms, "cluster-ca", ca_pem(tls_cluster))["CertificateArn"]
        verified = {"SslMode": "verify-full", "CertificateArn": cert}
        source = tls_endpoint(dms, "src", "source", tls_cluster, SOURCE_DB, **verified)
        target = tls_endpoint(dms, "dst", "target", tls_cluster, TARGET_DB, **verified)
        instance = create_available_instance(dms, "local")
        for endpoint in (source, target):
            result = connection_result(dms, instance, endpoint)
            assert result["Status"] == "successful", result.get("LastFailureMessage")
        task = create_task(
            dms,
            "tls-load",
            source=source,
            target=target,
            instance=instance,
            table_mappings=selection_rules("shop"),
            ReplicationTaskSettings=json.dumps({"Logging": {"EnableLogging": True}}),
        )
        dms.start_replication_task(
            ReplicationTaskArn=task, StartReplicationTaskType="start-replication"
        )
        wait_until(
            lambda: describe_task(dms, task)["Status"] in ("stopped", "failed"),
            "full load finished",
            timeout=120,
        )
        finished = describe_task(dms, task)
        assert finished["Status"] == "stopped", finished.get("LastFailureMessage")
        assert finished["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
        copied = tls_cluster.psql("SELECT count(*) FROM shop.items", TARGET_DB)
        assert copied.strip() == str(ROWS)

        # The task's log is counted for its instance; an idle task's is empty.
        idle = create_task(
            dms, "idle", source=source, target=target, instance=instance, wait_ready=False
        )
        logs = dms.describe_replication_instance_task_logs(ReplicationInstanceArn=instance)
        assert logs["ReplicationInstanceArn"] == instance
        sizes = {
            log["ReplicationTaskName"]: log["ReplicationInstanceTaskLogSize"]
            for log in logs["ReplicationInstanceTaskLogs"]
        }
        assert sizes["tls-load"] > 0 and sizes["idle"] == 0
        assert {log["ReplicationTaskArn"] for log in logs["ReplicationInstanceTaskLogs"]} == {
            task,
            idle,
        }
    assert not list(scratch.glob("dms-local-ca-*"))


def test_verify_full_with_a_wrong_ca_fails_with_a_clear_message(
    tls_cluster: PgCluster, tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_ca, _ = make_certificate_authority(tmp_path / "other", "some-other-ca")
    with serving(tmp_path, monkeypatch, list(DATA_PLANE_ARGS)) as server:
        dms = local_client(server.url)
        wrong = import_certificate(dms, "other-ca", other_ca.read_text())["CertificateArn"]
        source = tls_endpoint(
            dms,
            "src",
            "source",
            tls_cluster,
            SOURCE_DB,
            SslMode="verify-full",
            CertificateArn=wrong,
        )
        # `require` encrypts without verifying: it connects whatever CA the endpoint names.
        target = tls_endpoint(
            dms, "dst", "target", tls_cluster, TARGET_DB, SslMode="require", CertificateArn=wrong
        )
        instance = create_available_instance(dms, "local")
        failed = connection_result(dms, instance, source)
        assert failed["Status"] == "failed"
        assert "certificate verify failed" in failed["LastFailureMessage"]
        assert "CertificateArn" in failed["LastFailureMessage"]
        assert connection_result(dms, instance, target)["Status"] == "successful"

        task = create_task(
            dms,
            "tls-wrong",
            source=source,
            target=target,
            instance=instance,
            table_mappings=selection_rules("shop"),
        )
        dms.start_replication_task(
            ReplicationTaskArn=task, StartReplicationTaskType="start-replication"
        )
        wait_until(
            lambda: describe_task(dms, task)["Status"] in ("stopped", "failed"),
            "task ended",
            timeout=120,
        )
        ended = describe_task(dms, task)
        assert ended["Status"] == "failed" or "FATAL_ERROR" in ended.get("StopReason", "")
        assert "certificate verify failed" in ended["LastFailureMessage"]
        assert "source" in ended["LastFailureMessage"]


# -- schemas ---------------------------------------------------------------------------------


def test_refresh_schemas_reads_the_real_source(
    dms_local: DmsLocalServer, tls_cluster: PgCluster
) -> None:
    dms = local_client(dms_local.url)
    cert = import_certificate(dms, "cluster-ca", ca_pem(tls_cluster))["CertificateArn"]
    source = tls_endpoint(
        dms, "src", "source", tls_cluster, SOURCE_DB, SslMode="verify-full", CertificateArn=cert
    )
    instance = create_available_instance(dms, "local")
    code, message = error_of(lambda: dms.describe_schemas(EndpointArn=source))
    assert code == "ResourceNotFoundFault" and "RefreshSchemas" in message
    assert error_of(lambda: dms.describe_refresh_schemas_status(EndpointArn=source))[0] == (
        "ResourceNotFoundFault"
    )

    status = dms.refresh_schemas(EndpointArn=source, ReplicationInstanceArn=instance)[
        "RefreshSchemasStatus"
    ]
    assert status["EndpointArn"] == source and status["ReplicationInstanceArn"] == instance
    assert status["Status"] in ("refreshing", "successful")

    def refreshed() -> dict[str, Any]:
        return dict(dms.describe_refresh_schemas_status(EndpointArn=source)["RefreshSchemasStatus"])

    wait_until(lambda: refreshed()["Status"] != "refreshing", "schemas refreshed", timeout=60)
    assert refreshed()["Status"] == "successful", refreshed().get("LastFailureMessage")
    assert "LastRefreshDate" in refreshed()
    assert dms.describe_schemas(EndpointArn=source)["Schemas"] == ["Mixed Case", "public", "shop"]

    # A schema made since is seen on the next refresh, page by page.
    tls_cluster.psql(
        "".join(f"CREATE SCHEMA extra_{n:02d};" for n in range(25)),
        SOURCE_DB,
    )
    try:
        dms.refresh_schemas(EndpointArn=source, ReplicationInstanceArn=instance)
        wait_until(lambda: refreshed()["Status"] != "refreshing", "second refresh", timeout=60)
        first = dms.describe_schemas(EndpointArn=source, MaxRecords=20)
        assert len(first["Schemas"]) == 20 and first["Marker"]
        rest = dms.describe_schemas(EndpointArn=source, MaxRecords=20, Marker=first["Marker"])
        everything = first["Schemas"] + rest["Schemas"]
        assert len(everything) == 28 and "Marker" not in rest
        assert everything == sorted(everything)
        assert "pg_catalog" not in everything and "information_schema" not in everything
        paged = aws_cli(dms_local, "describe-schemas", "--endpoint-arn", source)["Schemas"]
        assert paged == everything
        # Our own client follows the pages too.
        assert dms_local.dms_client().describe_schemas(source) == everything
    finally:
        tls_cluster.psql(
            "".join(f"DROP SCHEMA extra_{n:02d};" for n in range(25)),
            SOURCE_DB,
        )

    # A database that cannot be reached: the refresh fails and says why; the last schemas stay.
    closed = create_cluster_endpoint(dms, "closed", "source", tls_cluster, "no_such_database")
    dms.refresh_schemas(EndpointArn=closed, ReplicationInstanceArn=instance)

    def closed_status() -> dict[str, Any]:
        return dict(dms.describe_refresh_schemas_status(EndpointArn=closed)["RefreshSchemasStatus"])

    wait_until(lambda: closed_status()["Status"] != "refreshing", "failed refresh", timeout=60)
    assert closed_status()["Status"] == "failed"
    assert "no_such_database" in closed_status()["LastFailureMessage"]
    code, message = error_of(lambda: dms.describe_schemas(EndpointArn=closed))
    assert code == "InvalidResourceStateFault" and "failed" in message

    assert error_of(
        lambda: dms.refresh_schemas(EndpointArn=source, ReplicationInstanceArn=instance + "X")
    )[0] == ("ResourceNotFoundFault")


# -- MoveReplicationTask ------------------------------------------------------------------------


def test_move_replication_task_moves_a_stopped_task(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    source = create_cluster_endpoint_unreachable(dms, "src", "source")
    target = create_cluster_endpoint_unreachable(dms, "dst", "target")
    old = create_available_instance(dms, "old-rep", EngineVersion="3.5.3")
    new = create_available_instance(dms, "new-rep", EngineVersion="3.5.4")
    older = create_available_instance(dms, "older-rep", EngineVersion="3.4.7")
    task = create_task(
        dms,
        "mover",
        source=source,
        target=target,
        instance=old,
        ReplicationTaskSettings=json.dumps({"Logging": {"EnableLogging": True}}),
    )

    code, message = error_of(
        lambda: dms.move_replication_task(ReplicationTaskArn=task, TargetReplicationInstanceArn=new)
    )
    assert code == "InvalidResourceStateFault" and "stopped" in message
    dms.start_replication_task(
        ReplicationTaskArn=task, StartReplicationTaskType="start-replication"
    )
    wait_until(lambda: describe_task(dms, task)["Status"] == "running", "task running")
    assert error_of(
        lambda: dms.move_replication_task(ReplicationTaskArn=task, TargetReplicationInstanceArn=new)
    )[0] == ("InvalidResourceStateFault")
    dms.stop_replication_task(ReplicationTaskArn=task)
    wait_until(lambda: describe_task(dms, task)["Status"] == "stopped", "task stopped")

    code, message = error_of(
        lambda: dms.move_replication_task(ReplicationTaskArn=task, TargetReplicationInstanceArn=old)
    )
    assert code == "InvalidParameterValueException" and "already" in message
    code, message = error_of(
        lambda: dms.move_replication_task(
            ReplicationTaskArn=task, TargetReplicationInstanceArn=older
        )
    )
    assert code == "InvalidParameterValueException" and "3.5.3" in message
    assert error_of(
        lambda: dms.move_replication_task(
            ReplicationTaskArn=task, TargetReplicationInstanceArn=new + "X"
        )
    )[0] == ("ResourceNotFoundFault")

    moving = aws_cli(
        dms_local,
        "move-replication-task",
        "--replication-task-arn",
        task,
        "--target-replication-instance-arn",
        new,
    )["ReplicationTask"]
    assert moving["Status"] == "moving"
    assert moving["ReplicationInstanceArn"] == old
    wait_until(lambda: describe_task(dms, task)["Status"] == "stopped", "task moved")
    moved = dms.describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [task]}]
    )["ReplicationTasks"][0]
    assert moved["ReplicationInstanceArn"] == new
    logging = json.loads(moved["ReplicationTaskSettings"])["Logging"]
    # The task now logs to the new instance's group.
    assert logging["CloudWatchLogGroup"] == "dms-tasks-new-rep"
    # The old instance holds no task any more; the moved task runs on the new one.
    dms.delete_replication_instance(ReplicationInstanceArn=old)
    dms.start_replication_task(
        ReplicationTaskArn=task, StartReplicationTaskType="resume-processing"
    )
    wait_until(lambda: describe_task(dms, task)["Status"] == "running", "moved task running")
    assert describe_instance(dms, new)["ReplicationInstanceStatus"] == "available"


def create_cluster_endpoint_unreachable(dms: Any, identifier: str, kind: str) -> str:
    """A PostgreSQL endpoint nothing connects to (the hold executor moves no data)."""
    return str(
        dms.create_endpoint(
            EndpointIdentifier=identifier,
            EndpointType=kind,
            EngineName="postgres",
            ServerName="127.0.0.1",
            Port=9,
            DatabaseName="app",
            Username="dms",
        )["Endpoint"]["EndpointArn"]
    )


# -- instance task logs, maintenance -----------------------------------------------------------


def test_instance_task_logs_of_an_unknown_instance(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    instance = create_available_instance(dms, "quiet")
    logs = dms.describe_replication_instance_task_logs(ReplicationInstanceArn=instance)
    assert logs["ReplicationInstanceTaskLogs"] == []
    assert error_of(
        lambda: dms.describe_replication_instance_task_logs(ReplicationInstanceArn=instance + "X")
    )[0] == ("ResourceNotFoundFault")
    assert error_of(
        lambda: dms.describe_replication_instance_task_logs(
            ReplicationInstanceArn=instance, MaxRecords=5
        )
    )[0] == ("InvalidParameterValueException")


def test_pending_maintenance_actions(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    instance = create_available_instance(dms, "kept")
    assert dms.describe_pending_maintenance_actions()["PendingMaintenanceActions"] == []
    assert (
        dms.describe_pending_maintenance_actions(ReplicationInstanceArn=instance)[
            "PendingMaintenanceActions"
        ]
        == []
    )
    missing = instance[:-4] + "XXXX"
    assert error_of(
        lambda: dms.describe_pending_maintenance_actions(ReplicationInstanceArn=missing)
    )[0] == ("ResourceNotFoundFault")
    code, message = error_of(
        lambda: dms.describe_pending_maintenance_actions(
            Filters=[{"Name": "engine-name", "Values": ["x"]}]
        )
    )
    assert code == "InvalidParameterValueException" and "engine-name" in message

    applied = dms.apply_pending_maintenance_action(
        ReplicationInstanceArn=instance, ApplyAction="os-upgrade", OptInType="immediate"
    )["ResourcePendingMaintenanceActions"]
    assert applied == {"ResourceIdentifier": instance, "PendingMaintenanceActionDetails": []}
    code, message = error_of(
        lambda: dms.apply_pending_maintenance_action(
            ReplicationInstanceArn=instance, ApplyAction="os-upgrade", OptInType="sometime"
        )
    )
    assert code == "InvalidParameterValueException" and "OptInType" in message
    code, message = error_of(
        lambda: dms.apply_pending_maintenance_action(
            ReplicationInstanceArn=instance, ApplyAction="reformat", OptInType="immediate"
        )
    )
    assert code == "InvalidParameterValueException" and "ApplyAction" in message
    assert error_of(
        lambda: dms.apply_pending_maintenance_action(
            ReplicationInstanceArn=missing, ApplyAction="os-upgrade", OptInType="immediate"
        )
    )[0] == ("ResourceNotFoundFault")
    listed = aws_cli(
        dms_local, "describe-pending-maintenance-actions", "--replication-instance-arn", instance
    )
    assert listed["PendingMaintenanceActions"] == []


# -- features left out -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "operation", "feature"),
    [
        (lambda dms: dms.describe_data_providers(), "DescribeDataProviders", "data providers"),
        (
            lambda dms: dms.describe_migration_projects(),
            "DescribeMigrationProjects",
            "migration projects",
        ),
        (
            lambda dms: dms.describe_instance_profiles(),
            "DescribeInstanceProfiles",
            "instance profiles",
        ),
        (
            lambda dms: dms.describe_data_migrations(),
            "DescribeDataMigrations",
            "homogeneous data migrations",
        ),
        (
            lambda dms: dms.describe_fleet_advisor_collectors(),
            "DescribeFleetAdvisorCollectors",
            "Fleet Advisor",
        ),
        (
            lambda dms: dms.start_metadata_model_conversion(
                MigrationProjectIdentifier="p", SelectionRules="{}"
            ),
            "StartMetadataModelConversion",
            "Schema Conversion",
        ),
    ],
)
def test_left_out_features_answer_not_supported(
    dms_local: DmsLocalServer, call: Callable[[Any], object], operation: str, feature: str
) -> None:
    code, message = error_of(lambda: call(local_client(dms_local.url)))
    assert code == "InvalidOperationFault"
    assert operation in message and feature in message
    assert "not supported by dms-local" in message


def test_left_out_feature_through_the_aws_cli(dms_local: DmsLocalServer) -> None:
    done = aws_cli(dms_local, "describe-data-providers", check=False)
    assert done.returncode != 0
    assert "InvalidOperationFault" in done.stderr
    assert "DescribeDataProviders is part of data providers" in done.stderr
