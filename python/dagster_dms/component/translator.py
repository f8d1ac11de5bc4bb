"""How DMS resources become Dagster asset specs.

The default translation gives the keys users write in their own code (`dms_task_<id>` with `-`
turned into `_`), kinds, metadata and a console link. Override
:meth:`DagsterDmsTranslator.get_asset_spec` in a subclass, or use the component's `translation`
attribute, to change any of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import dagster as dg

from dagster_dms.component.metadata import DmsMetadataSet
from dagster_dms.component.state import (
    EndpointState,
    InstanceState,
    ReplicationState,
    TaskState,
)

ResourceKind = Literal["task", "endpoint", "instance", "replication"]

# Engine names as DMS spells them -> Dagster kinds that have an icon.
_ENGINE_KINDS = {
    "postgres": "postgres",
    "aurora-postgresql": "aurora",
    "aurora": "aurora",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "oracle": "oracle",
    "sqlserver": "sqlserver",
    "s3": "s3",
    "redshift": "redshift",
    "dynamodb": "dynamodb",
    "kinesis": "kinesis",
    "kafka": "kafka",
    "mongodb": "mongodb",
    "opensearch": "opensearch",
    "elasticsearch": "elasticsearch",
    "snowflake": "snowflake",
}


def engine_kind(engine_name: str) -> str:
    return _ENGINE_KINDS.get(engine_name.lower(), engine_name.lower())


def asset_name(kind: ResourceKind, identifier: str) -> str:
    """`dms_task_my_migration` for task `my-migration`: DMS identifiers never hold `_`."""
    return f"dms_{kind}_{identifier.replace('-', '_').lower()}"


def console_url(region: str, kind: ResourceKind, identifier: str) -> str:
    page = {
        "task": "taskDetails",
        "endpoint": "endpointDetails",
        "instance": "replicationInstanceDetails",
        "replication": "replicationConfigDetails",
    }[kind]
    return (
        f"https://{region}.console.aws.amazon.com/dms/v2/home?region={region}#{page}/{identifier}"
    )


@dataclass(frozen=True)
class DmsResourceProps:
    """What a translation sees of one DMS resource (`props` in a `translation` template)."""

    kind: ResourceKind
    identifier: str
    arn: str
    region: str
    tags: Mapping[str, str]
    resource: TaskState | EndpointState | InstanceState | ReplicationState
    # Names of related resources (tasks: source, target, instance), whether imported or not.
    source_endpoint: str | None = None
    target_endpoint: str | None = None
    instance: str | None = None
    source_engine: str | None = None
    target_engine: str | None = None
    # The asset keys this one depends on (tasks: their source endpoint's, when imported).
    deps: tuple[dg.AssetKey, ...] = field(default_factory=tuple)


class DagsterDmsTranslator:
    """Builds the default AssetSpec of a DMS resource."""

    def get_asset_spec(self, props: DmsResourceProps) -> dg.AssetSpec:
        fields: dict[str, object] = {
            "arn": props.arn,
            "console_url": dg.MetadataValue.url(
                console_url(props.region, props.kind, props.identifier)
            ),
        }
        kinds = {"dms"}
        description: str
        resource = props.resource
        if isinstance(resource, TaskState | ReplicationState):
            migration_type = (
                resource.migration_type
                if isinstance(resource, TaskState)
                else resource.replication_type
            )
            fields.update(
                migration_type=migration_type,
                source_endpoint=props.source_endpoint or "",
                target_endpoint=props.target_endpoint or "",
                table_mappings=resource.table_mappings.describe(),
            )
            if isinstance(resource, TaskState):
                fields["replication_instance"] = props.instance or ""
            kinds.update(engine_kind(e) for e in (props.source_engine, props.target_engine) if e)
            noun = "replication task" if props.kind == "task" else "serverless replication"
            description = (
                f"DMS {noun} {props.identifier} ({migration_type}): "
                f"{props.source_endpoint or '?'} -> {props.target_endpoint or '?'}"
            )
        elif isinstance(resource, EndpointState):
            fields.update(endpoint_type=resource.endpoint_type, engine=resource.engine_name)
            kinds.add(engine_kind(resource.engine_name))
            where = f"{resource.server_name}:{resource.port}" if resource.server_name else ""
            description = f"DMS {resource.endpoint_type} endpoint {props.identifier} " + (
                f"({resource.engine_name} {where})".replace(" )", ")")
            )
        else:
            fields["instance_class"] = resource.instance_class
            description = f"DMS replication instance {props.identifier} ({resource.instance_class})"
        return dg.AssetSpec(
            key=dg.AssetKey(asset_name(props.kind, props.identifier)),
            description=description,
            metadata=DmsMetadataSet.of(fields).metadata(),
            kinds=kinds,
            tags={_tag_key(k): _tag_value(v) for k, v in props.tags.items() if _tag_key(k)},
            deps=list(props.deps),
        )


def _tag_key(key: str) -> str:
    # Dagster tag keys allow letters, digits, `-`, `_`, `.` and one `/`; AWS keys allow more.
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)[:63]
    return f"{DmsMetadataSet.namespace()}/{cleaned}" if cleaned else ""


def _tag_value(value: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in value)[:63]
