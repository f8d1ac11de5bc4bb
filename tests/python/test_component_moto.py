"""AWSDMSComponent smoke run against moto server, an independent implementation of the DMS and
CloudWatch APIs: discovery and tags, the sensor's observations, and the CDC latency check fed
from CloudWatch datapoints that moto stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import dagster as dg

from conftest import MotoServer
from dagster_dms import AWSDMSComponent
from dagster_dms.testing.account import seed_account

#: Two tasks the component's tag filter selects and one it leaves out.
TASKS = {
    "prod-orders-cdc": {"migration_type": "cdc", "tags": {"env": "prod"}},
    "prod-orders-load": {"migration_type": "full-load", "tags": {"env": "prod"}},
    "dev-orders-cdc": {"migration_type": "cdc", "tags": {"env": "dev"}},
}


def test_component_on_moto(moto: MotoServer, boto3_client: Callable[[str], Any]) -> None:
    dms = boto3_client("dms")
    arns = seed_account(dms, TASKS).task_arns
    component = AWSDMSComponent(
        aws_region="us-east-1",
        endpoint_url=moto.url,
        filter_by_tags="env=prod",
        cdc_latency_threshold_seconds=60,
    )
    state = component.discover()
    assert sorted(t.identifier for t in state.tasks) == ["prod-orders-cdc", "prod-orders-load"]
    assert all(t.tags == {"env": "prod"} for t in state.tasks)
    defs = component.build_defs_from_discovery(state)
    sensor = defs.get_sensor_def("aws_dms_observation_sensor")

    dms.start_replication_task(
        ReplicationTaskArn=arns["prod-orders-cdc"], StartReplicationTaskType="start-replication"
    )
    resource_id = arns["prod-orders-cdc"].rsplit(":", 1)[-1]
    now = dt.datetime.now(dt.timezone.utc)
    cloudwatch = boto3_client("cloudwatch")
    dimensions = [
        {"Name": "ReplicationInstanceIdentifier", "Value": "rep-instance-1"},
        {"Name": "ReplicationTaskIdentifier", "Value": resource_id},
    ]
    cloudwatch.put_metric_data(
        Namespace="AWS/DMS",
        MetricData=[
            {
                "MetricName": "CDCLatencySource",
                "Dimensions": dimensions,
                "Value": 12.0,
                "Timestamp": now - dt.timedelta(minutes=2),
            },
            {
                "MetricName": "CDCLatencyTarget",
                "Dimensions": dimensions,
                "Value": 15.0,
                "Timestamp": now - dt.timedelta(minutes=2),
            },
        ],
    )
    with dg.instance_for_test() as instance:
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
        observed = {
            e.asset_key.to_user_string()
            for e in first.asset_events
            if isinstance(e, dg.AssetObservation)
        }
        assert observed == {"dms_task_prod_orders_cdc", "dms_task_prod_orders_load"}
        [check] = [e for e in first.asset_events if isinstance(e, dg.AssetCheckEvaluation)]
        assert check.check_name == "cdc_latency_under_threshold"
        assert check.passed
        assert check.metadata["CDCLatencyTarget_seconds"].value == 15.0

        # Latency over the threshold fails the check on the next tick.
        cloudwatch.put_metric_data(
            Namespace="AWS/DMS",
            MetricData=[
                {
                    "MetricName": "CDCLatencyTarget",
                    "Dimensions": dimensions,
                    "Value": 240.0,
                    "Timestamp": now - dt.timedelta(seconds=30),
                },
            ],
        )
        second = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=first.cursor, definitions=defs)
        )
        [check] = [e for e in second.asset_events if isinstance(e, dg.AssetCheckEvaluation)]
        assert not check.passed
        assert check.metadata["CDCLatencyTarget_seconds"].value == 240.0
