"""DmsResource: the core's client in users' own assets, against dms-local."""

from __future__ import annotations

import dagster as dg

from dagster_dms import AWSDMSComponent, DmsResource
from dagster_dms.testing import DmsLocalServer


def test_an_asset_uses_the_resource_to_reach_dms(dms_local: DmsLocalServer) -> None:
    dms_local.boto3_client().create_replication_instance(
        ReplicationInstanceIdentifier="resource-instance",
        ReplicationInstanceClass="dms.t3.micro",
    )
    seen: list[str] = []

    @dg.asset
    def instances(dms: DmsResource) -> None:
        for instance in dms.get_client().describe_replication_instances():
            seen.append(instance.replication_instance_identifier or "")

    resource = DmsResource(
        region_name="us-east-1",
        endpoint_url=dms_local.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    assert dg.materialize([instances], resources={"dms": resource}).success
    assert seen == ["resource-instance"]


def test_the_component_hands_out_its_settings_and_secrets_stay_hidden(
    dms_local: DmsLocalServer,
) -> None:
    def component(secret: str) -> AWSDMSComponent:
        return AWSDMSComponent(
            aws_region="us-east-1",
            endpoint_url=dms_local.url,
            aws_access_key_id="test",
            aws_secret_access_key=secret,
        )

    hidden = component("super-secret-value").dms_resource
    assert "super-secret-value" not in repr(hidden)
    assert "super-secret-value" not in str(hidden)
    resource = component("test").dms_resource
    assert resource.endpoint_url == dms_local.url
    assert resource.region_name == "us-east-1"
    assert resource.get_client().describe_replication_instances() == []
