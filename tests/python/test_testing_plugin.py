"""The `dagster_dms.testing` pytest plugin as a user sees it: `dms_local` with `dms_local_postgres`
runs a real full load, and AWSDMSComponent finds the task through the environment it sets."""

from __future__ import annotations

import os
import time

import dagster as dg

from dagster_dms import AWSDMSComponent
from dagster_dms.testing import (
    DmsLocalServer,
    PgCluster,
    create_cluster_endpoint,
    create_task,
    selection_rules,
)

MAPPINGS = selection_rules("plugin", "items", rule_name="items")


def test_dms_local_points_the_environment_at_itself(dms_local: DmsLocalServer) -> None:
    assert dms_local.running
    assert os.environ["AWS_ENDPOINT_URL"] == dms_local.url
    assert os.environ["AWS_ACCESS_KEY_ID"] == "test"
    assert dms_local.boto3_client().describe_replication_tasks()["ReplicationTasks"] == []
    assert dms_local.dms_client().describe_replication_tasks() == []


def test_a_full_load_through_the_fixtures(
    dms_local: DmsLocalServer, dms_local_postgres: PgCluster
) -> None:
    pg = dms_local_postgres
    pg.create_database("plugin_source")
    pg.create_database("plugin_target")
    pg.psql(
        "CREATE SCHEMA plugin; CREATE TABLE plugin.items (id int PRIMARY KEY, name text);"
        "INSERT INTO plugin.items SELECT g, 'item ' || g FROM generate_series(1, 2500) g;",
        "plugin_source",
    )
    dms = dms_local.boto3_client()
    arns = {}
    for name, kind, db in (("src", "source", "plugin_source"), ("dst", "target", "plugin_target")):
        arns[name] = create_cluster_endpoint(dms, name, kind, pg, db)
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="plugin", ReplicationInstanceClass="dms.t3.micro"
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    deadline = time.monotonic() + 30
    client = dms_local.dms_client()
    while client.describe_replication_instances()[0].replication_instance_status != "available":
        assert time.monotonic() < deadline, "the instance never became available"
        time.sleep(0.05)
    create_task(
        dms,
        "plugin-items",
        source=arns["src"],
        target=arns["dst"],
        instance=instance,
        table_mappings=MAPPINGS,
        wait_ready=False,
    )
    # The component reads credentials and the endpoint from the environment the fixture set.
    component = AWSDMSComponent(aws_region="us-east-1", filter_by_name_pattern="^plugin-")
    defs = component.build_defs_from_discovery(component.discover())
    while dms.describe_replication_tasks()["ReplicationTasks"][0]["Status"] != "ready":
        assert time.monotonic() < deadline, "the task never became ready"
        time.sleep(0.05)
    result = dg.materialize([defs.get_assets_def("dms_task_plugin_items")])
    assert result.success
    [event] = result.get_asset_materialization_events()
    assert event.materialization.metadata["dms/full_load_rows"].value == 2500
    assert pg.psql("SELECT count(*) FROM plugin.items", "plugin_target").strip() == "2500"
