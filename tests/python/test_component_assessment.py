"""AWSDMSComponent's premigration assessments on dms-local with real PostgreSQL databases: the
on-demand `premigration_assessment` check of a task, with each individual assessment's result
in its metadata, and `assess_before_start`, which keeps a failing task from starting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dagster_dms import AWSDMSComponent
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_cluster_endpoint,
    create_task,
    describe_task,
    selection_rules,
)
from dms_local_fixture import FAST_ARGS, boto3_dms, serving
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

NO_KEY_SOURCE = "assess_component_no_key"
KEYED_SOURCE = "assess_component_keyed"
TARGET = "assess_component_target"
NO_KEY_ASSESSMENT = "table-with-no-primary-key-or-unique-constraint"
SETTINGS = {
    "service_access_role_arn": "arn:aws:iam::000000000000:role/dms-assessments",
    "result_location_bucket": "assessments",
    "result_location_folder": "dagster",
}


@pytest.fixture(scope="module")
def databases(pg_cluster: PgCluster) -> Iterator[PgCluster]:
    pg_cluster.create_database(NO_KEY_SOURCE)
    pg_cluster.psql(
        "CREATE SCHEMA app; CREATE TABLE app.events (kind varchar(20), happened timestamptz);"
        "INSERT INTO app.events VALUES ('a', now());",
        NO_KEY_SOURCE,
    )
    pg_cluster.create_database(KEYED_SOURCE)
    pg_cluster.psql(
        "CREATE SCHEMA app; CREATE TABLE app.events (id int PRIMARY KEY, kind varchar(20));"
        "INSERT INTO app.events SELECT g, 'kind ' || g FROM generate_series(1, 100) AS g;",
        KEYED_SOURCE,
    )
    pg_cluster.create_database(TARGET)
    yield pg_cluster
    for name in (NO_KEY_SOURCE, KEYED_SOURCE, TARGET):
        pg_cluster.drop_database(name)


@pytest.fixture
def server(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocalServer]:
    args = [*FAST_ARGS, "--s3-root", str(tmp_path / "s3")]
    with serving(tmp_path, monkeypatch, args) as server:
        yield server


@pytest.fixture
def tasks(server: DmsLocalServer, databases: PgCluster) -> dict[str, str]:
    """`events-cdc` captures changes of a table without a key; `events-load` loads a keyed one."""
    dms = boto3_dms(server.url)
    instance = create_available_instance(dms, "local")
    target = create_cluster_endpoint(dms, "target", "target", databases, TARGET)
    arns = {}
    for name, database, migration_type in (
        ("events-cdc", NO_KEY_SOURCE, "cdc"),
        ("events-load", KEYED_SOURCE, "full-load"),
    ):
        source = create_cluster_endpoint(dms, f"{name}-source", "source", databases, database)
        arns[name] = create_task(
            dms,
            name,
            source=source,
            target=target,
            instance=instance,
            table_mappings=selection_rules("app"),
            migration_type=migration_type,
        )
    return arns


def component(server: DmsLocalServer, **options: Any) -> AWSDMSComponent:
    return AWSDMSComponent(
        aws_region="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        premigration_assessment=SETTINGS,
        **options,
    )


def run_check(defs: dg.Definitions, task_key: str) -> dg.AssetCheckEvaluation:
    """Executes the task's premigration_assessment check on its own, as "Execute check" does."""
    key = dg.AssetCheckKey(dg.AssetKey(task_key), "premigration_assessment")
    result = dg.materialize(
        [defs.get_assets_def(task_key), *(defs.asset_checks or [])],
        selection=dg.AssetSelection.checks(key),
        raise_on_error=False,
    )
    assert result.get_asset_materialization_events() == []  # the task was not run
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def metadata_of(evaluation: dg.AssetCheckEvaluation) -> dict[str, Any]:
    return {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}


def test_the_check_fails_a_cdc_task_over_a_table_without_a_primary_key(
    server: DmsLocalServer, tasks: dict[str, str], tmp_path: Path
) -> None:
    built = component(server)
    defs = built.build_defs_from_discovery(built.discover())

    evaluation = run_check(defs, "dms_task_events_cdc")
    assert not evaluation.passed
    metadata = metadata_of(evaluation)
    assert metadata[f"assessment/{NO_KEY_ASSESSMENT}"] == "failed"
    assert metadata["assessment/postgres-check-wallevel"] == "passed"
    assert metadata["assessment_status"] == "failed"
    assert NO_KEY_ASSESSMENT in metadata["message"]
    assert "app.events" in metadata["last_failure_message"]
    assert metadata["results"].startswith("s3://assessments/dagster/")
    # The run is a real DMS run, listed by the API and written under the result location.
    dms = boto3_dms(server.url)
    [run] = dms.describe_replication_task_assessment_runs(
        Filters=[{"Name": "replication-task-arn", "Values": [tasks["events-cdc"]]}]
    )["ReplicationTaskAssessmentRuns"]
    assert run["ReplicationTaskAssessmentRunArn"] == metadata["assessment_run_arn"]
    assert (tmp_path / "s3" / "assessments" / "dagster" / run["AssessmentRunName"]).is_dir()

    passing = run_check(defs, "dms_task_events_load")
    assert passing.passed
    assert f"assessment/{NO_KEY_ASSESSMENT}" not in metadata_of(passing)  # not for a full load


def test_assess_before_start_keeps_a_failing_task_from_starting(
    server: DmsLocalServer, tasks: dict[str, str], databases: PgCluster
) -> None:
    built = component(server, assess_before_start=True)
    defs = built.build_defs_from_discovery(built.discover())

    failed = dg.materialize([defs.get_assets_def("dms_task_events_cdc")], raise_on_error=False)
    assert not failed.success
    [failure] = [e for e in failed.all_events if e.is_step_failure]
    assert NO_KEY_ASSESSMENT in failure.step_failure_data.error.message
    assert "not started" in failure.step_failure_data.error.message
    dms = boto3_dms(server.url)
    assert describe_task(dms, tasks["events-cdc"])["Status"] == "ready"  # never started

    loaded = dg.materialize([defs.get_assets_def("dms_task_events_load")], raise_on_error=False)
    assert loaded.success
    assert databases.psql("SELECT count(*) FROM app.events", TARGET).strip() == "100"


def test_assess_before_start_needs_the_assessment_settings() -> None:
    with pytest.raises(ValueError, match="assess_before_start needs premigration_assessment"):
        AWSDMSComponent(aws_region="us-east-1", assess_before_start=True)
