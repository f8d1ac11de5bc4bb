"""What a refresh discovers, as stored in Dagster's defs state.

The state is plain JSON with a version number. It holds identifiers, ARNs, engines, statuses and
tags: never credentials (DMS never returns endpoint passwords, and the component does not store
its own AWS settings here).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from dagster_dms import models

STATE_VERSION = 1


@dataclass(frozen=True)
class TableMappingsSummary:
    """The gist of a task's table mappings, for asset metadata."""

    selection_rules: int = 0
    transformation_rules: int = 0
    included: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @staticmethod
    def parse(text: str | None) -> TableMappingsSummary:
        """Summarizes a TableMappings document; an unreadable one gives an empty summary."""
        if not text:
            return TableMappingsSummary()
        try:
            rules = json.loads(text).get("rules") or []
        except (ValueError, AttributeError):
            return TableMappingsSummary()
        included: list[str] = []
        excluded: list[str] = []
        selection = transformation = 0
        for rule in rules:
            if not isinstance(rule, dict):
                continue
            if rule.get("rule-type") == "selection":
                selection += 1
                locator = rule.get("object-locator") or {}
                name = f"{locator.get('schema-name', '?')}.{locator.get('table-name', '?')}"
                (excluded if rule.get("rule-action") == "exclude" else included).append(name)
            elif rule.get("rule-type") == "transformation":
                transformation += 1
        return TableMappingsSummary(selection, transformation, tuple(included), tuple(excluded))

    def describe(self) -> str:
        text = f"includes {', '.join(self.included) or 'nothing'}"
        if self.excluded:
            text += f"; excludes {', '.join(self.excluded)}"
        if self.transformation_rules:
            text += f"; {self.transformation_rules} transformation rule(s)"
        return text


@dataclass(frozen=True)
class TaskState:
    identifier: str
    arn: str
    migration_type: str
    source_endpoint_arn: str
    target_endpoint_arn: str
    instance_arn: str
    status: str
    table_mappings: TableMappingsSummary = field(default_factory=TableMappingsSummary)
    validation_enabled: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def resource_id(self) -> str:
        """The ARN's last part: CloudWatch's ReplicationTaskIdentifier and the log stream name."""
        return self.arn.rsplit(":", 1)[-1]

    @property
    def is_cdc(self) -> bool:
        return self.migration_type in ("cdc", "full-load-and-cdc")


@dataclass(frozen=True)
class EndpointState:
    identifier: str
    arn: str
    endpoint_type: str
    engine_name: str
    server_name: str | None
    port: int | None
    database_name: str | None
    ssl_mode: str | None
    status: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InstanceState:
    identifier: str
    arn: str
    instance_class: str
    engine_version: str | None
    availability_zone: str | None
    multi_az: bool
    allocated_storage: int | None
    status: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplicationState:
    identifier: str
    arn: str
    replication_type: str
    source_endpoint_arn: str
    target_endpoint_arn: str
    table_mappings: TableMappingsSummary = field(default_factory=TableMappingsSummary)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_cdc(self) -> bool:
        return self.replication_type in ("cdc", "full-load-and-cdc")


@dataclass(frozen=True)
class DmsState:
    """Everything one refresh found, after the component's filters."""

    region: str
    refreshed_at: str
    filters: Mapping[str, Any]
    tasks: Sequence[TaskState] = ()
    endpoints: Sequence[EndpointState] = ()
    instances: Sequence[InstanceState] = ()
    replications: Sequence[ReplicationState] = ()
    # Identifiers of every endpoint and instance seen, kept or not: task metadata names them.
    endpoint_names: Mapping[str, str] = field(default_factory=dict)
    endpoint_engines: Mapping[str, str] = field(default_factory=dict)
    instance_names: Mapping[str, str] = field(default_factory=dict)
    warnings: Sequence[str] = ()
    # import_tables: per task ARN, the tables it writes (tables.resolve_task_tables).
    task_tables: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, **asdict(self)}, indent=1, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> DmsState:
        raw = json.loads(text)
        if raw.get("version") != STATE_VERSION:
            raise ValueError(
                f"defs state version {raw.get('version')!r} is not {STATE_VERSION}: "
                "run `dg utils refresh-defs-state` again"
            )

        def summary(value: Mapping[str, Any]) -> TableMappingsSummary:
            return TableMappingsSummary(
                value["selection_rules"],
                value["transformation_rules"],
                tuple(value["included"]),
                tuple(value["excluded"]),
            )

        return DmsState(
            region=raw["region"],
            refreshed_at=raw["refreshed_at"],
            filters=raw["filters"],
            tasks=[
                TaskState(**{**t, "table_mappings": summary(t["table_mappings"])})
                for t in raw["tasks"]
            ],
            endpoints=[EndpointState(**e) for e in raw["endpoints"]],
            instances=[InstanceState(**i) for i in raw["instances"]],
            replications=[
                ReplicationState(**{**r, "table_mappings": summary(r["table_mappings"])})
                for r in raw["replications"]
            ],
            endpoint_names=raw["endpoint_names"],
            endpoint_engines=raw["endpoint_engines"],
            instance_names=raw["instance_names"],
            warnings=raw["warnings"],
            task_tables=raw.get("task_tables", {}),
        )


def _validation_enabled(settings: str | None) -> bool:
    if not settings:
        return False
    try:
        return bool((json.loads(settings).get("ValidationSettings") or {}).get("EnableValidation"))
    except (ValueError, AttributeError):
        return False


def task_state(task: models.ReplicationTask, tags: Mapping[str, str]) -> TaskState:
    return TaskState(
        identifier=task.replication_task_identifier or "",
        arn=task.replication_task_arn or "",
        migration_type=str(task.migration_type or ""),
        source_endpoint_arn=task.source_endpoint_arn or "",
        target_endpoint_arn=task.target_endpoint_arn or "",
        instance_arn=task.replication_instance_arn or "",
        status=task.status or "",
        table_mappings=TableMappingsSummary.parse(task.table_mappings),
        validation_enabled=_validation_enabled(task.replication_task_settings),
        tags=dict(tags),
    )


def endpoint_state(endpoint: models.Endpoint, tags: Mapping[str, str]) -> EndpointState:
    return EndpointState(
        identifier=endpoint.endpoint_identifier or "",
        arn=endpoint.endpoint_arn or "",
        endpoint_type=str(endpoint.endpoint_type or "").lower(),
        engine_name=endpoint.engine_name or "",
        server_name=endpoint.server_name,
        port=endpoint.port,
        database_name=endpoint.database_name,
        ssl_mode=str(endpoint.ssl_mode) if endpoint.ssl_mode else None,
        status=endpoint.status or "",
        tags=dict(tags),
    )


def instance_state(instance: models.ReplicationInstance, tags: Mapping[str, str]) -> InstanceState:
    return InstanceState(
        identifier=instance.replication_instance_identifier or "",
        arn=instance.replication_instance_arn or "",
        instance_class=instance.replication_instance_class or "",
        engine_version=instance.engine_version,
        availability_zone=instance.availability_zone,
        multi_az=bool(instance.multi_az),
        allocated_storage=instance.allocated_storage,
        status=instance.replication_instance_status or "",
        tags=dict(tags),
    )


def replication_state(
    config: models.ReplicationConfig, tags: Mapping[str, str]
) -> ReplicationState:
    return ReplicationState(
        identifier=config.replication_config_identifier or "",
        arn=config.replication_config_arn or "",
        replication_type=str(config.replication_type or ""),
        source_endpoint_arn=config.source_endpoint_arn or "",
        target_endpoint_arn=config.target_endpoint_arn or "",
        table_mappings=TableMappingsSummary.parse(config.table_mappings),
        tags=dict(tags),
    )
