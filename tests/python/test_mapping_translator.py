"""The translator and the metadata set, without any server: DMS resources in, asset specs out."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pydantic
import pytest

from dagster_dms.component.metadata import DmsMetadataSet
from dagster_dms.component.state import (
    EndpointState,
    InstanceState,
    ReplicationState,
    TableMappingsSummary,
    TaskState,
)
from dagster_dms.component.translator import (
    DagsterDmsTranslator,
    DmsResourceProps,
    ResourceKind,
)

REGION = "eu-west-1"
ARN = "arn:aws:dms:eu-west-1:123456789012"
# identifier, ARN, migration type, source, target, instance, status, mappings summary
TASK = TaskState(
    *("orders-full-load", f"{ARN}:task:ORDERS", "full-load-and-cdc"),
    *(f"{ARN}:endpoint:SRC", f"{ARN}:endpoint:TGT", f"{ARN}:rep:INST", "ready"),
    TableMappingsSummary(1, 1, ("public.%",), ("public.audit",)),
)


def spec_of(
    kind: ResourceKind,
    resource: TaskState | EndpointState | InstanceState | ReplicationState,
    **related: Any,
) -> dg.AssetSpec:
    """The default spec of ``resource``; ``related`` fills the other props (tags, endpoints...)."""
    props = DmsResourceProps(
        kind=kind,
        identifier=resource.identifier,
        arn=resource.arn,
        region=REGION,
        tags=related.pop("tags", {}),
        resource=resource,
        **related,
    )
    return DagsterDmsTranslator().get_asset_spec(props)


def test_task_spec_has_its_key_kinds_tags_deps_and_dms_metadata() -> None:
    source_key = dg.AssetKey("dms_endpoint_src_postgres")
    spec = spec_of(
        "task",
        TASK,
        tags={"env": "prod", "cost center": "42", "": "dropped"},
        source_endpoint="src-postgres",
        target_endpoint="tgt-s3",
        instance="rep-1",
        source_engine="aurora-postgresql",
        target_engine="s3",
        deps=(source_key,),
    )
    assert spec.key == dg.AssetKey("dms_task_orders_full_load")
    assert set(spec.kinds) == {"dms", "aurora", "s3"}
    own_tags = {k: v for k, v in spec.tags.items() if not k.startswith("dagster/kind/")}
    assert own_tags == {"dms/env": "prod", "dms/cost_center": "42"}
    assert [dep.asset_key for dep in spec.deps] == [source_key]
    assert spec.description == (
        "DMS replication task orders-full-load (full-load-and-cdc): src-postgres -> tgt-s3"
    )
    assert set(spec.metadata) == {
        "dms/arn",
        "dms/console_url",
        "dms/migration_type",
        "dms/source_endpoint",
        "dms/target_endpoint",
        "dms/table_mappings",
        "dms/replication_instance",
    }
    read = DmsMetadataSet.extract(spec.metadata)
    assert read.arn == TASK.arn
    assert read.migration_type == "full-load-and-cdc"
    assert read.replication_instance == "rep-1"
    assert read.table_mappings == (
        "includes public.%; excludes public.audit; 1 transformation rule(s)"
    )
    assert read.console_url is not None
    assert read.console_url.value == (
        "https://eu-west-1.console.aws.amazon.com/dms/v2/home?region=eu-west-1"
        "#taskDetails/orders-full-load"
    )


def test_serverless_replication_spec_names_no_instance() -> None:
    replication = ReplicationState(
        "orders-serverless", f"{ARN}:replication-config:CFG", "cdc", "src", "tgt"
    )
    spec = spec_of("replication", replication)
    assert spec.key == dg.AssetKey("dms_replication_orders_serverless")
    assert "dms/replication_instance" not in spec.metadata
    assert spec.metadata["dms/migration_type"] == "cdc"
    assert spec.description == "DMS serverless replication orders-serverless (cdc): ? -> ?"
    assert "#replicationConfigDetails/orders-serverless" in spec.metadata["dms/console_url"].value


@pytest.mark.parametrize(
    ("resource", "key", "metadata", "kinds", "description"),
    [
        (
            # identifier, ARN, type, engine, server, port, database, SSL mode, status
            EndpointState(
                *("src-postgres", f"{ARN}:endpoint:SRC", "source", "postgres", "db.internal"),
                *(5432, "shop", "require", "active"),
            ),
            "dms_endpoint_src_postgres",
            {"dms/endpoint_type": "source", "dms/engine": "postgres"},
            {"dms", "postgres"},
            "DMS source endpoint src-postgres (postgres db.internal:5432)",
        ),
        (
            # identifier, ARN, class, engine version, zone, Multi-AZ, storage, status
            InstanceState(
                *("rep-1", f"{ARN}:rep:INST", "dms.t3.micro", "3.5.3", "eu-west-1a"),
                *(False, 50, "available"),
            ),
            "dms_instance_rep_1",
            {"dms/instance_class": "dms.t3.micro"},
            {"dms"},
            "DMS replication instance rep-1 (dms.t3.micro)",
        ),
    ],
)
def test_endpoint_and_instance_specs(
    resource: EndpointState | InstanceState,
    key: str,
    metadata: dict[str, str],
    kinds: set[str],
    description: str,
) -> None:
    spec = spec_of("endpoint" if isinstance(resource, EndpointState) else "instance", resource)
    assert spec.key == dg.AssetKey(key)
    assert set(spec.kinds) == kinds
    assert spec.description == description
    assert {k: v for k, v in spec.metadata.items() if k in metadata} == metadata
    assert set(spec.metadata) == {"dms/arn", "dms/console_url", *metadata}


def test_metadata_set_writes_set_fields_only_and_rejects_unknown_ones() -> None:
    assert dict(DmsMetadataSet(status="stopped", tables_loaded=0)) == {
        "dms/status": "stopped",
        "dms/tables_loaded": 0,
    }
    assert DmsMetadataSet.of({"status": "running", "stop_reason": None}).metadata() == {
        "dms/status": "running"
    }
    assert DmsMetadataSet.key("connection_test/rep-1") == "dms/connection_test/rep-1"
    with pytest.raises(pydantic.ValidationError, match="no_such_field"):
        DmsMetadataSet.of({"no_such_field": 1})
