"""Premigration assessment runs in dms-local: StartReplicationTaskAssessmentRun and its
Describe/Cancel/Delete companions, DescribeReplicationTaskIndividualAssessments and
DescribeApplicableIndividualAssessments, through boto3 and the AWS CLI on a real dms-local. The
individual assessments read real PostgreSQL source and target databases, and the results are
written under the --s3-root the way DMS writes them to the result bucket."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_migration_path,
    create_postgres_endpoint,
    create_task,
    wait_until,
)
from dms_local_fixture import (  # noqa: F401  (the fixtures)
    DATA_PLANE_ARGS,
    boto3_dms,
    databases_fixture,
    dms_local_fixture,
    select_schema,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from terminal_stderr import run_with_terminal_stderr
from test_dms_local_cdc import make_db
from test_dms_local_full_load import dmsctl_path
from test_dms_local_ops import aws_cli

ROLE = "arn:aws:iam::000000000000:role/dms-assessments"
BUCKET = "assessment-results"
FINISHED = {"passed", "failed", "warning", "cancelled", "error-provisioning", "error-executing"}
NO_KEY_ASSESSMENT = "table-with-no-primary-key-or-unique-constraint"

SOURCE_SQL = (
    "CREATE SCHEMA app;"
    "CREATE TABLE app.keyed (id int PRIMARY KEY, note text);"
    "CREATE TABLE app.unique_only (code text NOT NULL UNIQUE, amount int);"
    "CREATE TABLE app.no_key (name text, seen timestamptz);"
    "INSERT INTO app.no_key VALUES ('a', now()), ('b', now());"
)


@pytest.fixture(name="server_args")
def assessment_server_args(tmp_path: Path) -> list[str]:
    return [*DATA_PLANE_ARGS, "--s3-root", str(tmp_path / "s3")]


def start_run(dms: Any, task: str, name: str, **extra: Any) -> dict[str, Any]:
    run: dict[str, Any] = dms.start_replication_task_assessment_run(
        ReplicationTaskArn=task,
        ServiceAccessRoleArn=ROLE,
        ResultLocationBucket=BUCKET,
        ResultLocationFolder="premigration",
        AssessmentRunName=name,
        **extra,
    )["ReplicationTaskAssessmentRun"]
    return run


def describe_run(dms: Any, arn: str) -> dict[str, Any]:
    runs = dms.describe_replication_task_assessment_runs(
        Filters=[{"Name": "replication-task-assessment-run-arn", "Values": [arn]}]
    )["ReplicationTaskAssessmentRuns"]
    assert len(runs) == 1
    return dict(runs[0])


def finished_run(dms: Any, arn: str) -> dict[str, Any]:
    wait_until(lambda: describe_run(dms, arn)["Status"] in FINISHED, f"assessment run {arn} ended")
    return describe_run(dms, arn)


def individual(dms: Any, run_arn: str) -> dict[str, str]:
    """Each individual assessment of the run: name -> status."""
    listed = dms.describe_replication_task_individual_assessments(
        Filters=[{"Name": "replication-task-assessment-run-arn", "Values": [run_arn]}]
    )["ReplicationTaskIndividualAssessments"]
    return {item["IndividualAssessmentName"]: item["Status"] for item in listed}


def error_of(call: Any, **request: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**request)
    error = raised.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def cdc_task(
    dms: Any, pg_cluster: PgCluster, databases: list[str], prefix: str, migration_type: str = "cdc"
) -> str:
    source = make_db(pg_cluster, databases, f"{prefix}_source", SOURCE_SQL)
    target = make_db(pg_cluster, databases, f"{prefix}_target", "")
    path = create_migration_path(dms, pg_cluster, source, target)
    return create_task(
        dms,
        prefix.replace("_", "-"),
        source=path.source,
        target=path.target,
        instance=path.instance,
        table_mappings=select_schema("app"),
        migration_type=migration_type,
    )


def test_a_cdc_task_over_a_table_without_primary_key_fails_that_assessment(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str], tmp_path: Path
) -> None:
    dms = boto3_dms(server.url)
    task = cdc_task(dms, pg_cluster, databases, "assess_cdc")

    started = start_run(dms, task, "before-cdc")
    assert started["Status"] == "starting"
    assert started["ReplicationTaskArn"] == task
    assert started["AssessmentRunName"] == "before-cdc"
    assert started["ServiceAccessRoleArn"] == ROLE
    assert started["ResultLocationBucket"] == BUCKET
    assert started["IsLatestTaskAssessmentRun"] is True
    assert started["ReplicationTaskAssessmentRunArn"].startswith(
        "arn:aws:dms:us-east-1:000000000000:assessment-run:"
    )
    total = started["AssessmentProgress"]["IndividualAssessmentCount"]
    assert total > 5

    run = finished_run(dms, started["ReplicationTaskAssessmentRunArn"])
    assert run["Status"] == "failed"
    assert run["AssessmentProgress"] == {
        "IndividualAssessmentCount": total,
        "IndividualAssessmentCompletedCount": total,
    }
    assert run["ResultStatistic"]["Failed"] >= 1
    # The table without a key is named; the one with only a unique constraint is fine for CDC.
    assert "app.no_key" in run["LastFailureMessage"]

    statuses = individual(dms, run["ReplicationTaskAssessmentRunArn"])
    assert len(statuses) == total
    assert statuses[NO_KEY_ASSESSMENT] == "failed"
    # The source really is set up for CDC: its logical-replication settings pass.
    assert statuses["postgres-check-wallevel"] == "passed"
    assert statuses["postgres-check-maxwalsenders"] == "passed"
    assert statuses["postgres-check-replication-slots-count"] == "passed"
    assert statuses["postgres-check-target-privileges"] == "passed"
    # no_key has a text column (a LOB) and no key either.
    assert statuses["table-with-lob-but-without-primary-key-or-unique-constraint"] == "failed"

    # The AWS CLI reads the same thing.
    cli = aws_cli(
        server,
        "describe-replication-task-individual-assessments",
        "--filters",
        f"Name=replication-task-assessment-run-arn,Values={run['ReplicationTaskAssessmentRunArn']}",
        "Name=status,Values=failed",
    )
    failed = {a["IndividualAssessmentName"] for a in cli["ReplicationTaskIndividualAssessments"]}
    assert NO_KEY_ASSESSMENT in failed
    assert "postgres-check-wallevel" not in failed

    # The results are under the result location: one document per assessment and a summary.
    folder = tmp_path / "s3" / BUCKET / "premigration" / "before-cdc"
    result = json.loads((folder / f"{NO_KEY_ASSESSMENT}.json").read_text())
    assert result["Status"] == "failed"
    assert {"schema": "app", "table": "no_key"} in result["Details"]
    assert {"schema": "app", "table": "unique_only"} not in result["Details"]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["Status"] == "failed"
    assert len(summary["IndividualAssessments"]) == total


def test_adding_the_primary_key_makes_the_next_run_pass_that_assessment(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms = boto3_dms(server.url)
    task = cdc_task(dms, pg_cluster, databases, "assess_fix")
    first = finished_run(dms, start_run(dms, task, "fix-first")["ReplicationTaskAssessmentRunArn"])
    assert individual(dms, first["ReplicationTaskAssessmentRunArn"])[NO_KEY_ASSESSMENT] == "failed"

    pg_cluster.psql("ALTER TABLE app.no_key ADD PRIMARY KEY (name)", "assess_fix_source")
    second = finished_run(
        dms,
        start_run(dms, task, "fix-second", IncludeOnly=[NO_KEY_ASSESSMENT])[
            "ReplicationTaskAssessmentRunArn"
        ],
    )
    assert second["Status"] == "passed"
    assert individual(dms, second["ReplicationTaskAssessmentRunArn"]) == {
        NO_KEY_ASSESSMENT: "passed"
    }
    # Only the newest run of the task is the latest.
    latest = {
        r["AssessmentRunName"]: r["IsLatestTaskAssessmentRun"]
        for r in dms.describe_replication_task_assessment_runs(
            Filters=[{"Name": "replication-task-arn", "Values": [task]}]
        )["ReplicationTaskAssessmentRuns"]
    }
    assert latest == {"fix-first": False, "fix-second": True}


def test_applicable_assessments_follow_the_task_engines_and_migration_type(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms = boto3_dms(server.url)
    cdc = cdc_task(dms, pg_cluster, databases, "assess_applicable")
    cdc_names = dms.describe_applicable_individual_assessments(ReplicationTaskArn=cdc)[
        "IndividualAssessmentNames"
    ]
    assert NO_KEY_ASSESSMENT in cdc_names
    assert "postgres-check-wallevel" in cdc_names
    instance = dms.describe_replication_instances()["ReplicationInstances"][0]
    full_load = dms.describe_applicable_individual_assessments(
        ReplicationInstanceArn=instance["ReplicationInstanceArn"],
        SourceEngineName="postgres",
        TargetEngineName="postgres",
        MigrationType="full-load",
    )["IndividualAssessmentNames"]
    # A full load captures no changes: no slot, WAL or key-for-CDC assessments.
    assert NO_KEY_ASSESSMENT not in full_load
    assert "postgres-check-wallevel" not in full_load
    assert "postgres-check-select-object-privileges" in full_load
    everything = dms.describe_applicable_individual_assessments()["IndividualAssessmentNames"]
    assert set(cdc_names) | set(full_load) <= set(everything)
    # Pages follow MaxRecords and Marker.
    first = dms.describe_applicable_individual_assessments(ReplicationTaskArn=cdc, MaxRecords=20)
    assert first["IndividualAssessmentNames"] == cdc_names[:20]

    code, message = error_of(
        dms.describe_applicable_individual_assessments, SourceEngineName="postgres"
    )
    assert code == "InvalidParameterCombinationException"
    assert "MigrationType" in message


def test_start_refuses_what_dms_refuses(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms = boto3_dms(server.url)
    task = cdc_task(dms, pg_cluster, databases, "assess_faults")
    code, message = error_of(
        dms.start_replication_task_assessment_run,
        ReplicationTaskArn=task,
        ServiceAccessRoleArn=ROLE,
        ResultLocationBucket=BUCKET,
        AssessmentRunName="typo",
        IncludeOnly=["postgres-check-walllevel"],
    )
    assert code == "InvalidParameterValueException"
    assert "postgres-check-walllevel" in message and "DescribeApplicable" in message
    code, _ = error_of(
        dms.start_replication_task_assessment_run,
        ReplicationTaskArn=task,
        ServiceAccessRoleArn=ROLE,
        ResultLocationBucket=BUCKET,
        AssessmentRunName="both",
        IncludeOnly=[NO_KEY_ASSESSMENT],
        Exclude=["postgres-check-wallevel"],
    )
    assert code == "InvalidParameterCombinationException"
    code, message = error_of(
        dms.start_replication_task_assessment_run,
        ReplicationTaskArn=task,
        ServiceAccessRoleArn="dms-role",
        ResultLocationBucket=BUCKET,
        AssessmentRunName="role",
    )
    assert code == "InvalidParameterValueException" and "ServiceAccessRoleArn" in message
    code, message = error_of(
        dms.start_replication_task_assessment_run,
        ReplicationTaskArn=task,
        ServiceAccessRoleArn=ROLE,
        ResultLocationBucket="Not_A_Bucket",
        AssessmentRunName="bucket",
    )
    assert code == "S3ResourceNotFoundFault" and "ResultLocationBucket" in message
    code, _ = error_of(
        dms.start_replication_task_assessment_run,
        ReplicationTaskArn=task.replace("task:", "task:X"),
        ServiceAccessRoleArn=ROLE,
        ResultLocationBucket=BUCKET,
        AssessmentRunName="missing-task",
    )
    assert code == "ResourceNotFoundFault"

    run = finished_run(
        dms,
        start_run(dms, task, "once", IncludeOnly=[NO_KEY_ASSESSMENT])[
            "ReplicationTaskAssessmentRunArn"
        ],
    )
    code, message = error_of(
        dms.start_replication_task_assessment_run,
        ReplicationTaskArn=task,
        ServiceAccessRoleArn=ROLE,
        ResultLocationBucket=BUCKET,
        AssessmentRunName="once",
    )
    assert code == "ResourceAlreadyExistsFault" and "once" in message
    # A finished run can no longer be cancelled.
    code, _ = error_of(
        dms.cancel_replication_task_assessment_run,
        ReplicationTaskAssessmentRunArn=run["ReplicationTaskAssessmentRunArn"],
    )
    assert code == "InvalidResourceStateFault"


class SilentServer:
    """A TCP server that accepts connections and never answers: a database that hangs, so an
    assessment run stays `running` while its connection attempt waits for the connect timeout."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port = int(self._socket.getsockname()[1])
        self._accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._accepted.append(connection)

    def close(self) -> None:
        self._socket.close()
        for connection in self._accepted:
            connection.close()
        self._thread.join(timeout=10)


@pytest.fixture(name="silent_server")
def silent_server_fixture() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_cancel_stops_a_run_and_delete_forgets_it(
    server: DmsLocalServer,
    pg_cluster: PgCluster,
    databases: list[str],
    silent_server: SilentServer,
    tmp_path: Path,
) -> None:
    dms = boto3_dms(server.url)
    target = make_db(pg_cluster, databases, "assess_cancel_target", "")
    path = create_migration_path(dms, pg_cluster, target, target)
    hanging = create_postgres_endpoint(
        dms,
        "hanging-src",
        "source",
        port=silent_server.port,
        database="app",
        username="dms",
        password=None,
    )
    task = create_task(
        dms,
        "assess-cancel",
        source=hanging,
        target=path.target,
        instance=path.instance,
        table_mappings=select_schema("app"),
        migration_type="full-load-and-cdc",
    )
    arn = start_run(dms, task, "to-cancel")["ReplicationTaskAssessmentRunArn"]
    wait_until(lambda: describe_run(dms, arn)["Status"] == "running", "the run is running")
    code, _ = error_of(
        dms.delete_replication_task_assessment_run, ReplicationTaskAssessmentRunArn=arn
    )
    assert code == "InvalidResourceStateFault"  # a run under way is cancelled first
    cancelled = dms.cancel_replication_task_assessment_run(ReplicationTaskAssessmentRunArn=arn)[
        "ReplicationTaskAssessmentRun"
    ]
    assert cancelled["Status"] == "cancelling"
    run = finished_run(dms, arn)
    assert run["Status"] == "cancelled"
    assert run["ResultStatistic"]["Cancelled"] >= 1
    statuses = individual(dms, arn)
    assert "cancelled" in statuses.values()

    deleted = dms.delete_replication_task_assessment_run(ReplicationTaskAssessmentRunArn=arn)[
        "ReplicationTaskAssessmentRun"
    ]
    assert deleted["Status"] == "deleting"
    code, _ = error_of(
        dms.describe_replication_task_assessment_runs,
        Filters=[{"Name": "replication-task-assessment-run-arn", "Values": [arn]}],
    )
    assert code == "ResourceNotFoundFault"
    # The results stay where they were written, as DMS leaves the S3 objects alone.
    assert (tmp_path / "s3" / BUCKET / "premigration" / "to-cancel" / "summary.json").exists()


def test_data_types_lobs_and_target_privileges_are_assessed(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms = boto3_dms(server.url)
    source = make_db(
        pg_cluster,
        databases,
        "assess_types_source",
        "CREATE SCHEMA app;"
        "CREATE TABLE app.docs (id int PRIMARY KEY, body tsvector, address inet);"
        "CREATE TABLE app.tags (labels text[]);",
    )
    target = make_db(pg_cluster, databases, "assess_types_target", "")
    pg_cluster.psql(
        "DO $$ BEGIN CREATE ROLE assess_reader LOGIN; EXCEPTION WHEN duplicate_object THEN "
        "NULL; END $$"
    )
    path = create_migration_path(dms, pg_cluster, source, target)
    limited_target = create_postgres_endpoint(
        dms,
        "dst-limited",
        "target",
        port=pg_cluster.port,
        database=target,
        username="assess_reader",
        password=None,
    )
    task = create_task(
        dms,
        "assess-types",
        source=path.source,
        target=limited_target,
        instance=path.instance,
        table_mappings=select_schema("app"),
        migration_type="full-load",
    )
    arn = start_run(dms, task, "types")["ReplicationTaskAssessmentRunArn"]
    run = finished_run(dms, arn)
    statuses = individual(dms, arn)
    assert run["Status"] == "failed"
    assert statuses["unsupported-data-types-in-source"] == "failed"  # tsvector
    assert statuses["postgres-check-table-with-array"] == "failed"  # text[] without a key
    assert statuses["table-with-lob-but-without-primary-key-or-unique-constraint"] == "failed"
    # The target user may not create tables in the target database.
    assert statuses["postgres-check-target-privileges"] == "failed"
    assert statuses["postgres-check-select-object-privileges"] == "passed"
    assert statuses["postgres-check-dbversion"] == "passed"


def dmsctl(server: DmsLocalServer, *args: str) -> list[str]:
    return [dmsctl_path(), "--endpoint-url", server.url, "--region", "us-east-1", *args]


def completed(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)


def test_dmsctl_runs_lists_and_shows_assessments(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms = boto3_dms(server.url)
    cdc_task(dms, pg_cluster, databases, "assess_cli")
    run_args = ["assessments", "run", "assess-cli", "--role-arn", ROLE, "--bucket", BUCKET]

    ran = completed(dmsctl(server, *run_args, "--name", "cli-run"))
    assert ran.returncode == 4, ran.stderr  # the run failed
    assert NO_KEY_ASSESSMENT in ran.stdout and "failed" in ran.stdout
    # Not a terminal: plain progress lines, no cursor movement.
    assert "cli-run: " in ran.stderr and "assessments done" in ran.stderr
    assert "\x1b[K" not in ran.stderr
    assert ran.stderr.rstrip().splitlines()[-1].startswith("dmsctl: ")

    listed = json.loads(completed(dmsctl(server, "--output", "json", "assessments", "list")).stdout)
    [run] = listed["ReplicationTaskAssessmentRuns"]
    assert run["AssessmentRunName"] == "cli-run" and run["Status"] == "failed"

    shown = completed(dmsctl(server, "--output", "json", "assessments", "show", "cli-run"))
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["Passed"] is False
    statuses = {
        a["IndividualAssessmentName"]: a["Status"]
        for a in document["ReplicationTaskIndividualAssessments"]
    }
    assert statuses[NO_KEY_ASSESSMENT] == "failed"
    assert statuses == individual(dms, run["ReplicationTaskAssessmentRunArn"])

    # On a terminal the progress is one line redrawn in place.
    passed, drawn = run_with_terminal_stderr(
        dmsctl(server, *run_args, "--include", "postgres-check-wallevel"), check=False, timeout=300
    )
    assert passed.returncode == 0
    assert b"\r\x1b[K" in drawn and b"assessments done" in drawn
    assert "postgres-check-wallevel" in passed.stdout and "passed" in passed.stdout
