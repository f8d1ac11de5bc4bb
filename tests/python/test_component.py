"""AWSDMSComponent end to end on dms-local: discovery into defs state, filters and tags,
translation, configuration errors, the sensor's call budget, the stop job and termination."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster.components.testing import create_defs_folder_sandbox

from dagster_dms import AWSDMSComponent
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_postgres_endpoint,
    create_task,
    selection_rules,
)
from dagster_dms.testing.counting_proxy import counting_proxy
from dms_local_fixture import boto3_dms, dms_local_fixture  # noqa: F401  (provides `dms_local`)

MAPPINGS = selection_rules("shop", "orders%", rule_name="orders")

BASIC_EXAMPLE: dict[str, Any] = {
    "aws_region": "us-east-1",
    "aws_access_key_id": "{{ env('AWS_ACCESS_KEY_ID') }}",
    "aws_secret_access_key": "{{ env('AWS_SECRET_ACCESS_KEY') }}",
    "import_replication_tasks": True,
}

ADVANCED_EXAMPLE: dict[str, Any] = {
    "aws_region": "us-east-1",
    "aws_access_key_id": "{{ env('AWS_ACCESS_KEY_ID') }}",
    "aws_secret_access_key": "{{ env('AWS_SECRET_ACCESS_KEY') }}",
    "import_replication_tasks": True,
    "import_endpoints": True,
    "import_replication_instances": True,
    "filter_by_name_pattern": "^prod_.*",
    "exclude_name_pattern": "test|dev",
    "filter_by_tags": "env,team",
    "replication_task_type": "start-replication",
    "generate_sensor": True,
    "poll_interval_seconds": 60,
    "group_name": "dms_prod",
    "description": "Production database migrations",
}

TAGGED = [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "data"}]


@pytest.fixture
def account(dms_local: DmsLocalServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An account shaped like the demo's: prod, dev and test resources, tagged and not."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", dms_local.url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    dms = boto3_dms(dms_local.url)
    arns: dict[str, str] = {}

    def endpoint(name: str, kind: str, tags: list[dict[str, str]]) -> str:
        arns[name] = create_postgres_endpoint(
            dms,
            name,
            kind,
            port=5432,
            database="shop",
            username="dms",
            password="never-shown-pw",
            Tags=tags,
        )
        return arns[name]

    source = endpoint("prod-orders-source", "source", TAGGED)
    target = endpoint("prod-orders-target", "target", TAGGED)
    endpoint("dev-orders-source", "source", [{"Key": "env", "Value": "dev"}])
    instance = create_available_instance(
        dms, "prod-instance", instance_class="dms.t3.medium", Tags=TAGGED
    )
    arns["prod-instance"] = instance
    tasks = {
        "prod-orders-full-load": ("full-load", TAGGED),
        "prod-orders-cdc": ("cdc", TAGGED),
        "prod-catalog-reload": ("full-load-and-cdc", TAGGED),
        "prod-untagged": ("full-load", []),
        "dev-orders": ("full-load", TAGGED),
        "prod-test-orders": ("full-load", TAGGED),
    }
    for name, (migration, tags) in tasks.items():
        arns[name] = create_task(
            dms,
            name,
            source=source,
            target=target,
            instance=instance,
            table_mappings=MAPPINGS,
            migration_type=migration,
            Tags=tags,
        )
    return arns


@contextmanager
def loaded(
    attributes: dict[str, Any], *, refresh: bool = True
) -> Iterator[tuple[AWSDMSComponent, dg.Definitions, Path]]:
    """Scaffolds the component in a sandbox project, refreshes its state, loads it again."""
    with create_defs_folder_sandbox() as sandbox:
        defs_path = sandbox.scaffold_component(
            component_cls=AWSDMSComponent,
            defs_yaml_contents={"type": "dagster_dms.AWSDMSComponent", "attributes": attributes},
        )
        if refresh:
            with sandbox.load_component_and_build_defs(defs_path=defs_path) as (component, _):
                assert isinstance(component, AWSDMSComponent)
                asyncio.run(component.refresh_state(sandbox.project_root))
        with sandbox.load_component_and_build_defs(defs_path=defs_path) as (component, defs):
            assert isinstance(component, AWSDMSComponent)
            yield component, defs, sandbox.project_root


def keys(defs: dg.Definitions) -> set[str]:
    return {
        key.to_user_string()
        for assets_def in defs.assets or []
        if isinstance(assets_def, dg.AssetsDefinition)
        for key in assets_def.keys
    }


def test_basic_example_imports_every_task(account: dict[str, str]) -> None:
    with loaded(BASIC_EXAMPLE) as (_, defs, _root):
        assert keys(defs) == {
            "dms_task_prod_orders_full_load",
            "dms_task_prod_orders_cdc",
            "dms_task_prod_catalog_reload",
            "dms_task_prod_untagged",
            "dms_task_dev_orders",
            "dms_task_prod_test_orders",
        }
        sensor = defs.get_sensor_def("aws_dms_observation_sensor")
        assert sensor.minimum_interval_seconds == 60
        assert defs.get_job_def("aws_dms_stop_tasks") is not None


def test_advanced_example_as_written_matches_nothing_and_says_why(
    account: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with loaded(ADVANCED_EXAMPLE) as (_, defs, _root):
        assert keys(defs) == set()
    messages = "\n".join(r.getMessage() for r in caplog.records)
    assert "^prod-.*" in messages, messages


def test_advanced_example_with_the_hyphen_pattern_selects_exactly(
    account: dict[str, str],
) -> None:
    attributes = {**ADVANCED_EXAMPLE, "filter_by_name_pattern": "^prod-.*"}
    with loaded(attributes) as (_, defs, _root):
        assert keys(defs) == {
            "dms_task_prod_orders_full_load",
            "dms_task_prod_orders_cdc",
            "dms_task_prod_catalog_reload",
            "dms_endpoint_prod_orders_source",
            "dms_endpoint_prod_orders_target",
            "dms_instance_prod_instance",
        }
        full_load = defs.get_assets_def("dms_task_prod_orders_full_load")
        spec = next(iter(full_load.specs))
        assert spec.group_name == "dms_prod"
        assert spec.description is not None
        assert spec.description.startswith("Production database migrations")
        assert set(spec.kinds) == {"dms", "postgres"}
        assert spec.metadata["dms/arn"] == account["prod-orders-full-load"]
        assert spec.metadata["dms/source_endpoint"] == "prod-orders-source"
        assert spec.metadata["dms/replication_instance"] == "prod-instance"
        assert "shop.orders%" in spec.metadata["dms/table_mappings"]
        assert spec.tags["dms/env"] == "prod"
        assert [d.asset_key for d in spec.deps] == [dg.AssetKey("dms_endpoint_prod_orders_source")]
        checks = {c.name for c in defs.get_assets_def("dms_task_prod_orders_cdc").check_specs}
        assert checks == {"no_errored_tables", "cdc_latency_under_threshold"}
        assert defs.get_sensor_def("dms_prod_observation_sensor") is not None
        assert defs.get_job_def("dms_prod_stop_tasks") is not None


def test_loading_with_state_makes_no_aws_call(
    dms_local: DmsLocalServer, account: dict[str, str]
) -> None:
    with counting_proxy(dms_local.url) as proxy:
        attributes = {**ADVANCED_EXAMPLE, "filter_by_name_pattern": "^prod-.*"}
        attributes["endpoint_url"] = proxy.url
        with create_defs_folder_sandbox() as sandbox:
            defs_path = sandbox.scaffold_component(
                component_cls=AWSDMSComponent,
                defs_yaml_contents={
                    "type": "dagster_dms.AWSDMSComponent",
                    "attributes": attributes,
                },
            )
            with sandbox.load_component_and_build_defs(defs_path=defs_path) as (component, defs):
                assert keys(defs) == set()  # no state yet
                assert proxy.total() == 0
                asyncio.run(component.refresh_state(sandbox.project_root))
            refresh_calls = proxy.counts
            assert refresh_calls["DescribeReplicationTasks"] >= 1
            assert refresh_calls["ListTagsForResource"] >= 1
            # Imported endpoints and instances come from the same listing that names the tasks'
            # related resources: one page each in this account, not two.
            assert refresh_calls["DescribeEndpoints"] == 1, refresh_calls
            assert refresh_calls["DescribeReplicationInstances"] == 1, refresh_calls
            proxy.reset()
            with sandbox.load_component_and_build_defs(defs_path=defs_path) as (_, defs):
                assert len(keys(defs)) == 6
            assert proxy.total() == 0, proxy.counts
            state_files = list((sandbox.project_root).rglob("*state*"))
            text = "".join(p.read_text() for p in state_files if p.is_file())
            assert "never-shown-pw" not in text
            state = json.loads(text)
            assert state["tasks"] and state["endpoints"], state
            for word in ("secret", "password", "session_token", "access_key"):
                assert word not in text.lower(), word


def test_translation_renames_and_regroups(account: dict[str, str]) -> None:
    attributes = {
        **BASIC_EXAMPLE,
        "filter_by_name_pattern": "^prod-orders",
        "translation": {
            "key_prefix": "migrations",
            "group_name": "{{ 'dms_' + props.kind }}",
            "owners": ["team:data"],
            "metadata": {"dms/identifier_copy": "{{ props.identifier }}"},
        },
    }
    with loaded(attributes) as (_, defs, _root):
        assert keys(defs) == {
            "migrations/dms_task_prod_orders_full_load",
            "migrations/dms_task_prod_orders_cdc",
        }
        spec = next(
            iter(defs.get_assets_def(dg.AssetKey(["migrations", "dms_task_prod_orders_cdc"])).specs)
        )
        assert spec.group_name == "dms_task"
        assert spec.owners == ["team:data"]
        assert spec.metadata["dms/identifier_copy"] == "prod-orders-cdc"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"filter_by_name_pattern": "prod-("}, "filter_by_name_pattern"),
        # Python's re accepts a look-ahead; RE2, which matches at refresh, does not: the load
        # must refuse it rather than the refresh.
        ({"exclude_name_pattern": "dev(?=-)"}, "exclude_name_pattern: 'dev(?=-)' is not a valid"),
        ({"poll_interval_seconds": 0}, "poll_interval_seconds"),
        ({"replication_task_type": "resume"}, "replication_task_type"),
        ({"filter_by_tags": "env,,team"}, "filter_by_tags"),
        ({"group_name": "dms prod"}, "group_name"),
        ({"cdc_metrics_period_seconds": 45}, "cdc_metrics_period_seconds: 45 is not a CloudWatch"),
    ],
)
def test_bad_configuration_names_the_field(
    dms_local: DmsLocalServer,
    change: dict[str, Any],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", dms_local.url)
    # Dagster wraps the validation error in its own types; the message is what users see.
    with pytest.raises(Exception) as raised, loaded({**BASIC_EXAMPLE, **change}, refresh=False):
        pass
    # The field is named in the error chain dg shows (the tree error wraps the validation one).
    chain = "".join(traceback.format_exception(raised.value))
    assert expected in chain


def test_secrets_stay_out_of_reprs(account: dict[str, str]) -> None:
    with loaded(BASIC_EXAMPLE, refresh=False) as (component, _, _root):
        assert component.aws_secret_access_key == "test"
        assert "aws_secret_access_key" not in repr(component)
        assert "test" not in repr(component.aws_settings).replace("aws_access_key_id='test'", "")


def start_all(dms: Any, arns: dict[str, str], names: list[str]) -> None:
    for name in names:
        dms.start_replication_task(
            ReplicationTaskArn=arns[name], StartReplicationTaskType="start-replication"
        )


def test_stop_job_stops_running_tasks(account: dict[str, str], dms_local: DmsLocalServer) -> None:
    dms = boto3_dms(dms_local.url)
    start_all(dms, account, ["prod-orders-cdc", "prod-catalog-reload"])
    with loaded(BASIC_EXAMPLE) as (_, defs, _root):
        job = defs.get_job_def("aws_dms_stop_tasks")
        result = job.execute_in_process(
            run_config={
                "ops": {
                    "aws_dms_stop_tasks_op": {
                        "config": {"tasks": ["prod-orders-cdc", "prod-catalog-reload"]}
                    }
                }
            }
        )
        assert result.success
    for name in ("prod-orders-cdc", "prod-catalog-reload"):
        task = dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-id", "Values": [name]}]
        )["ReplicationTasks"][0]
        assert task["Status"] == "stopped"
        assert task["StopReason"] == "Stop Reason NORMAL"


def test_stop_job_refuses_unknown_tasks(account: dict[str, str]) -> None:
    with loaded(BASIC_EXAMPLE) as (_, defs, _root):
        result = defs.get_job_def("aws_dms_stop_tasks").execute_in_process(
            run_config={"ops": {"aws_dms_stop_tasks_op": {"config": {"tasks": ["nope"]}}}},
            raise_on_error=False,
        )
        assert not result.success
        failure = result.get_step_failure_events()[0].step_failure_data.error
        assert failure is not None
        assert "Unknown task(s) nope" in failure.message


def test_sensor_observes_changes_only_and_counts_its_calls(
    account: dict[str, str], dms_local: DmsLocalServer
) -> None:
    dms = boto3_dms(dms_local.url)
    with counting_proxy(dms_local.url) as proxy:
        attributes = {**BASIC_EXAMPLE, "endpoint_url": proxy.url}
        with loaded(attributes) as (_, defs, _root), dg.instance_for_test() as instance:
            sensor = defs.get_sensor_def("aws_dms_observation_sensor")
            proxy.reset()
            first = sensor.evaluate_tick(
                dg.build_sensor_context(instance=instance, definitions=defs)
            )
            assert proxy.counts["DescribeReplicationTasks"] == 1
            assert proxy.total() == 1  # nothing running: no metric query
            observed = {e.asset_key.to_user_string() for e in first.asset_events}
            assert len(observed) == 6
            proxy.reset()
            second = sensor.evaluate_tick(
                dg.build_sensor_context(instance=instance, cursor=first.cursor, definitions=defs)
            )
            assert second.asset_events == []
            start_all(dms, account, ["prod-orders-cdc"])
            proxy.reset()
            third = sensor.evaluate_tick(
                dg.build_sensor_context(instance=instance, cursor=second.cursor, definitions=defs)
            )
            changed = [e for e in third.asset_events if isinstance(e, dg.AssetObservation)]
            assert [e.asset_key.to_user_string() for e in changed] == ["dms_task_prod_orders_cdc"]
            # A running CDC task: its latency is read in one batched GetMetricData.
            assert proxy.counts["DescribeReplicationTasks"] == 1
            assert proxy.counts["GetMetricData"] <= 1


def test_sensor_cursor_is_a_typed_record_and_old_json_cursors_still_read(
    account: dict[str, str], dms_local: DmsLocalServer
) -> None:
    from dagster_shared.serdes import deserialize_value

    from dagster_dms.component.sensor import DmsSensorCursor

    with loaded(BASIC_EXAMPLE) as (_, defs, _root), dg.instance_for_test() as instance:
        sensor = defs.get_sensor_def("aws_dms_observation_sensor")
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
        assert first.cursor is not None
        cursor = deserialize_value(first.cursor, DmsSensorCursor)
        assert set(cursor.tasks) == {arn for arn in account.values() if ":task:" in arn}
        # The first releases kept {"version": 1, "tasks": {arn: facts}} as plain JSON: after an
        # upgrade the sensor goes on from it without observing everything again.
        old = json.dumps({"version": 1, "tasks": {a: dict(f) for a, f in cursor.tasks.items()}})
        again = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=old, definitions=defs)
        )
        assert again.asset_events == []
        garbage = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor="not a cursor", definitions=defs)
        )
        assert len(garbage.asset_events) == len(cursor.tasks)


TERMINATION_SCRIPT = """
import sys

import dagster as dg

from dagster_dms import AWSDMSComponent

component = AWSDMSComponent(
    aws_region="us-east-1",
    endpoint_url=sys.argv[1],
    aws_access_key_id="test",
    aws_secret_access_key="test",
    filter_by_name_pattern="^prod-orders-full-load$",
    start_timeout_seconds=30,
)
defs = component.build_defs_from_discovery(component.discover())
asset = defs.get_assets_def("dms_task_prod_orders_full_load")
with dg.DagsterInstance.get() as instance:
    result = dg.materialize([asset], instance=instance, raise_on_error=False)
    run = instance.get_run_by_id(result.run_id)
    print("RUN-STATUS", run.status.value if run else "missing", flush=True)
"""


def test_terminating_the_run_stops_the_task(
    account: dict[str, str], dms_local: DmsLocalServer, tmp_path: Path
) -> None:
    """With the hold executor a full load never finishes: the run waits until interrupted the
    way Dagster terminates a run (SIGINT to the run worker), and must stop the task it started."""
    dms = boto3_dms(dms_local.url)
    script = tmp_path / "materialize.py"
    script.write_text(TERMINATION_SCRIPT)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, str(script), dms_local.url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while describe(dms, "prod-orders-full-load")["Status"] != "running":
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the materialization never started the task"
            time.sleep(0.1)
        time.sleep(1)  # the run is now inside its wait
        # What Dagster's run launcher does on "Terminate": mark the run CANCELING, then interrupt
        # the run worker (SIGINT).
        with dg.DagsterInstance.from_config(str(home)) as instance:
            [run] = instance.get_runs(limit=1)
            instance.report_run_canceling(run)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert "RUN-STATUS CANCELED" in output, output
    task = describe(dms, "prod-orders-full-load")
    assert task["Status"] == "stopped", task
    assert task["StopReason"] == "Stop Reason NORMAL", task


def describe(dms: Any, name: str) -> dict[str, Any]:
    found = dms.describe_replication_tasks(
        Filters=[{"Name": "replication-task-id", "Values": [name]}]
    )["ReplicationTasks"]
    return dict(found[0])


def test_sensor_call_budget_with_250_tasks(
    dms_local: DmsLocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One tick lists 250 tasks in ceil(250/100) describe calls and reads every running CDC task's
    latency in one GetMetricData call, whatever the number of tasks."""
    dms = boto3_dms(dms_local.url)
    source, target = (
        create_postgres_endpoint(
            dms, name, kind, port=5432, database="d", username="u", password="p"
        )
        for name, kind in (("src", "source"), ("dst", "target"))
    )
    # 200 tasks per instance at most (the DMS quota): two instances.
    instances = [
        create_available_instance(dms, name, instance_class="dms.t3.large")
        for name in ("big-1", "big-2")
    ]
    arns = [
        create_task(
            dms,
            f"task-{i:03d}",
            source=source,
            target=target,
            instance=instances[i % 2],
            migration_type="cdc" if i % 2 else "full-load",
            table_mappings=MAPPINGS,
            wait_ready=False,
        )
        for i in range(250)
    ]
    deadline = time.monotonic() + 120
    while any(
        t["Status"] != "ready"
        for page in dms.get_paginator("describe_replication_tasks").paginate()
        for t in page["ReplicationTasks"]
    ):
        assert time.monotonic() < deadline, "the tasks never became ready"
        time.sleep(0.1)
    for arn in arns[1:60:2]:  # 30 CDC tasks running
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
    with counting_proxy(dms_local.url) as proxy:
        attributes = {**BASIC_EXAMPLE, "endpoint_url": proxy.url}
        with loaded(attributes) as (_, defs, _root), dg.instance_for_test() as dagster_instance:
            proxy.reset()
            sensor = defs.get_sensor_def("aws_dms_observation_sensor")
            result = sensor.evaluate_tick(
                dg.build_sensor_context(instance=dagster_instance, definitions=defs)
            )
            assert (
                len([e for e in result.asset_events if isinstance(e, dg.AssetObservation)]) == 250
            )
            assert proxy.counts["DescribeReplicationTasks"] == 3, proxy.counts
            assert proxy.counts["GetMetricData"] <= 1, proxy.counts
            assert (
                proxy.total()
                == proxy.counts["DescribeReplicationTasks"] + proxy.counts["GetMetricData"]
            ), proxy.counts


DG_PYPROJECT = """
[project]
name = "dms-cli-project"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["dagster-dms"]

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "dms_cli_project"
registry_modules = ["dagster_dms"]
"""

DG_DEFINITIONS = """
from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
"""


def dg_project(root: Path, attributes: dict[str, Any]) -> Path:
    """A minimal dg project whose one component is AWSDMSComponent with `attributes`."""
    package = root / "src" / "dms_cli_project"
    (package / "defs" / "dms").mkdir(parents=True)
    (root / "pyproject.toml").write_text(DG_PYPROJECT)
    (package / "__init__.py").write_text("")
    (package / "definitions.py").write_text(DG_DEFINITIONS)
    (package / "defs" / "dms" / "defs.yaml").write_text(
        json.dumps({"type": "dagster_dms.AWSDMSComponent", "attributes": attributes}, indent=2)
    )
    return root


def run_dg(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(project / "src"),
        "DAGSTER_HOME": str(project / ".dagster_home"),
    }
    (project / ".dagster_home").mkdir(exist_ok=True)
    return subprocess.run(
        [str(Path(bin_dir) / "dg"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dg_lists_exactly_what_the_advanced_example_selects(
    account: dict[str, str], tmp_path: Path
) -> None:
    """The issue's acceptance: the Advanced Example with the hyphen pattern, through `dg`."""
    project = dg_project(
        tmp_path / "project", {**ADVANCED_EXAMPLE, "filter_by_name_pattern": "^prod-.*"}
    )
    components = run_dg(project, "list", "components")
    assert "dagster_dms.AWSDMSComponent" in components.stdout, components.stderr
    refreshed = run_dg(project, "utils", "refresh-defs-state")
    assert refreshed.returncode == 0, refreshed.stderr
    listed = run_dg(project, "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    asset_keys = {a["asset_key"] for a in document["assets"]}
    assert asset_keys == {
        "dms_task_prod_orders_full_load",
        "dms_task_prod_orders_cdc",
        "dms_task_prod_catalog_reload",
        "dms_endpoint_prod_orders_source",
        "dms_endpoint_prod_orders_target",
        "dms_instance_prod_instance",
    }, listed.stdout
    assert [s["name"] for s in document["sensors"]] == ["dms_prod_observation_sensor"]


def test_dg_check_defs_names_a_bad_field(tmp_path: Path, aws_env: Path) -> None:
    # Templated YAML accepts any string at schema level; the load validates the value.
    project = dg_project(
        tmp_path / "project", {**BASIC_EXAMPLE, "replication_task_type": "restart-everything"}
    )
    checked = run_dg(project, "check", "defs")
    assert checked.returncode != 0
    output = checked.stdout + checked.stderr
    assert "replication_task_type" in output, output
    assert "restart-everything" in output, output


def test_endpoint_and_instance_observations(account: dict[str, str]) -> None:
    from dagster._core.definitions.observe import observe  # not re-exported by dagster

    attributes = {**ADVANCED_EXAMPLE, "filter_by_name_pattern": "^prod-.*"}
    with loaded(attributes) as (_, defs, _root):
        endpoint = defs.get_assets_def("dms_endpoint_prod_orders_source")
        instance = defs.get_assets_def("dms_instance_prod_instance")
        # dms-local publishes instance metrics every few seconds: observe until they show.
        deadline = time.monotonic() + 30
        while True:
            result = observe([endpoint, instance])
            assert result.success
            events = {
                e.asset_key.to_user_string(): e.event_specific_data.asset_observation  # type: ignore[union-attr]
                for e in result.all_events
                if e.event_type_value == "ASSET_OBSERVATION"
            }
            metrics = events["dms_instance_prod_instance"].metadata
            if "dms/FreeStorageSpace" in metrics or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        source = {
            k: getattr(v, "value", v)
            for k, v in events["dms_endpoint_prod_orders_source"].metadata.items()
        }
        assert source["dms/status"] == "active"
        assert source["dms/engine"] == "postgres"
        assert source["dms/server"] == "127.0.0.1" and source["dms/port"] == 5432
        assert "never-shown-pw" not in json.dumps(source, default=str)
        assert events["dms_endpoint_prod_orders_source"].data_version is not None
        inst = {
            k: getattr(v, "value", v)
            for k, v in events["dms_instance_prod_instance"].metadata.items()
        }
        assert inst["dms/status"] == "available"
        assert inst["dms/instance_class"] == "dms.t3.medium"
        # dms-local publishes host figures for the instance (CPU, memory, storage).
        assert inst["dms/FreeStorageSpace"] > 0, inst
        assert inst["dms/FreeableMemory"] > 0, inst
