"""Per-table assets (`import_tables: true`): one asset per target table a task writes.

Which tables a task writes, what DMS's statistics mean (rows, failed tables) and what ReloadTables
allows are decided in the C++ core (mapping::resolve_tables, orchestrate::table_state and
orchestrate::reload_tables), the same code dms-local plans its loads with. This module only maps
them to Dagster: keys, specs, materializations and checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from dagster_dms import _native, models
from dagster_dms.client import DmsClient
from dagster_dms.component.metadata import DmsMetadataSet
from dagster_dms.component.state import TaskState
from dagster_dms.errors import AccessDeniedError, DmsError

# The check every table asset carries: the table did not end in `Table error` or in a failed
# validation state (orchestrate::table_failure decides which).
CHECK_TABLE_HEALTHY = "dms_table_healthy"

ROW_COUNT_DESCRIPTION = (
    "Rows the target table holds by DMS's counts: full-load rows plus CDC inserts minus CDC "
    "deletes (DescribeTableStatistics), not a count(*) on the target."
)

# The counters of DescribeTableStatistics a table asset's materialization reports.
STATISTICS_COUNTS = ("full_load_rows", "inserts", "updates", "deletes", "ddls")


@dataclass(frozen=True)
class TableProps:
    """What a `translation` template sees of one table (`props`), beside the task's fields."""

    source_schema: str
    source_table: str
    target_schema: str
    target_table: str
    task: str  # the identifier of the task writing the table
    task_arn: str
    target_endpoint: str | None
    target_engine: str | None
    region: str
    database: str | None = None  # the target endpoint's database (database targets)
    bucket_name: str | None = None  # s3 targets
    bucket_folder: str | None = None
    deps: tuple[dg.AssetKey, ...] = field(default_factory=tuple)
    kind: str = "table"

    @property
    def identifier(self) -> str:
        return f"{self.target_schema}.{self.target_table}"

    @property
    def source(self) -> tuple[str, str]:
        return (self.source_schema, self.source_table)


def resolve_task_tables(
    client: DmsClient, task: models.ReplicationTask, target: models.Endpoint | None
) -> tuple[dict[str, Any], list[str]]:
    """The tables a task writes, for the defs state, and warnings for the refresh.

    Rules naming exact tables resolve at once; wildcard rules are resolved from the task's table
    statistics, read only when such a rule is left (one DescribeTableStatistics listing)."""
    identifier = task.replication_task_identifier or "?"
    warnings: list[str] = []
    mappings = task.table_mappings or ""
    try:
        resolved: dict[str, Any] = json.loads(_native.resolve_tables(mappings, "[]"))
        if resolved["unresolved_rule_ids"] and task.replication_task_arn:
            try:
                known = [
                    [t.schema_name or "", t.table_name or ""]
                    for t in client.describe_table_statistics(task.replication_task_arn)
                ]
            except DmsError as error:
                known = []
                warnings.append(
                    f"tables of task {identifier}: table statistics unreadable: {error}"
                )
            if known:
                resolved = json.loads(_native.resolve_tables(mappings, json.dumps(known)))
    except ValueError as error:
        warnings.append(f"tables of task {identifier}: {error}")
        resolved = {"tables": [], "unresolved_rule_ids": []}
    if resolved["unresolved_rule_ids"]:
        warnings.append(
            f"task {identifier}: wildcard selection rule(s) "
            f"{', '.join(resolved['unresolved_rule_ids'])} match no table yet; their tables "
            "appear after the task has run once and the defs state is refreshed"
        )
    s3 = target.s3_settings if target is not None else None
    resolved["target"] = {
        "engine": (target.engine_name if target is not None else None) or "",
        "database": target.database_name if target is not None else None,
        "bucket_name": s3.bucket_name if s3 is not None else None,
        "bucket_folder": s3.bucket_folder if s3 is not None else None,
    }
    return resolved, warnings


def table_props(
    task: TaskState,
    resolved: Mapping[str, Any],
    region: str,
    target_endpoint: str | None,
    task_key: dg.AssetKey,
) -> list[TableProps]:
    """One TableProps per table of a task, from its defs-state record."""
    target = resolved.get("target") or {}
    return [
        TableProps(
            source_schema=table["source"][0],
            source_table=table["source"][1],
            target_schema=table["target"][0],
            target_table=table["target"][1],
            task=task.identifier,
            task_arn=task.arn,
            target_endpoint=target_endpoint,
            target_engine=target.get("engine") or None,
            region=region,
            database=target.get("database"),
            bucket_name=target.get("bucket_name"),
            bucket_folder=target.get("bucket_folder"),
            deps=(task_key,),
        )
        for table in resolved.get("tables", [])
    ]


def default_table_key(props: TableProps) -> dg.AssetKey:
    """`[schema, table]` of the target (like dagster-fivetran); for an s3 target the bucket
    folder (or, without one, the bucket) comes first: `[folder..., schema, table]`."""
    if props.target_engine == "s3":
        folder = [p for p in (props.bucket_folder or "").split("/") if p]
        prefix = folder or [props.bucket_name or "s3"]
        return dg.AssetKey([*prefix, props.target_schema, props.target_table])
    return dg.AssetKey([props.target_schema, props.target_table])


def table_name(props: TableProps) -> str:
    """`database.schema.table` for a database target (Dagster links equal names across
    integrations); `schema.table` when the database is unknown or the target is s3."""
    if props.database and props.target_engine != "s3":
        return f"{props.database}.{props.target_schema}.{props.target_table}"
    return f"{props.target_schema}.{props.target_table}"


def default_table_spec(props: TableProps, group_name: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=default_table_key(props),
        deps=props.deps,
        group_name=group_name,
        description=(
            f"Table {props.target_schema}.{props.target_table} written by DMS task {props.task} "
            f"from {props.source_schema}.{props.source_table}."
        ),
        kinds={"dms", "table"},
        metadata={
            "dagster/table_name": table_name(props),
            **DmsMetadataSet(source_table=f"{props.source_schema}.{props.source_table}"),
        },
    )


@dataclass
class TableAsset:
    """One table asset: its spec and every (task, source table) writing it."""

    spec: dg.AssetSpec
    writers: list[TableProps]


def merge_table_specs(specs: Sequence[tuple[dg.AssetSpec, TableProps]]) -> list[TableAsset]:
    """Tables with one key are one asset; every task writing it becomes an upstream dep."""
    merged: dict[dg.AssetKey, TableAsset] = {}
    for spec, props in specs:
        found = merged.get(spec.key)
        if found is None:
            merged[spec.key] = TableAsset(spec, [props])
            continue
        found.writers.append(props)
        deps = {d.asset_key: d for d in found.spec.deps}
        for dep in spec.deps:
            deps.setdefault(dep.asset_key, dep)
        found.spec = found.spec.replace_attributes(deps=list(deps.values()))
    return list(merged.values())


def table_metadata(table: models.TableStatistics) -> dict[str, Any]:
    """A table's materialization metadata from its DMS statistics."""
    rows = _native.target_row_count(table.full_load_rows, table.inserts, table.deletes)
    fields: dict[str, Any] = {
        "row_count_meaning": ROW_COUNT_DESCRIPTION,
        "table_state": table.table_state or "",
        "validation_state": table.validation_state or "",
        "full_load_reloaded": bool(table.full_load_reloaded),
        **{name: getattr(table, name) or 0 for name in STATISTICS_COUNTS},
        "validation_failed_records": table.validation_failed_records or None,
    }
    return {"dagster/row_count": dg.MetadataValue.int(rows), **DmsMetadataSet.of(fields)}


def table_check(key: dg.AssetKey, table: models.TableStatistics | None) -> dg.AssetCheckEvaluation:
    """The table's health check, judged by orchestrate::table_failure."""
    if table is None:
        return dg.AssetCheckEvaluation(
            asset_key=key,
            check_name=CHECK_TABLE_HEALTHY,
            passed=False,
            description="DMS reported no statistics for this table (not loaded by the task).",
        )
    failure = _native.table_failure(table.table_state or "", table.validation_state or "")
    failed = table.validation_failed_records or 0
    if failure is not None and failed:
        failure += (
            f" ({failed} failed, {table.validation_suspended_records or 0} suspended records)"
        )
    return dg.AssetCheckEvaluation(
        asset_key=key,
        check_name=CHECK_TABLE_HEALTHY,
        passed=failure is None,
        description=failure or f"TableState '{table.table_state}'",
        metadata={
            "table_state": table.table_state or "",
            "validation_state": table.validation_state or "",
            "validation_failed_records": failed,
            "validation_state_details": table.validation_state_details or "",
        },
    )


def table_events(
    task_arn: str,
    tables: Mapping[tuple[str, str], dg.AssetKey],
    statistics: Sequence[models.TableStatistics] | None,
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation]:
    """One materialization and one check evaluation per table asset of a task, from the task's
    table statistics (matched by source schema and table, as DMS names them)."""
    by_source = {(t.schema_name or "", t.table_name or ""): t for t in statistics or []}
    for source, key in tables.items():
        table = by_source.get(source)
        if table is not None:
            yield dg.AssetMaterialization(
                asset_key=key,
                description=f"Statistics of {source[0]}.{source[1]} in task {task_arn}",
                metadata=table_metadata(table),
            )
        yield table_check(key, table)


TableReporter = Callable[[dg.AssetExecutionContext, Sequence[models.TableStatistics] | None], None]


def table_reporter(
    task_arn: str, tables: Mapping[tuple[str, str], dg.AssetKey]
) -> TableReporter | None:
    """What a task materialization calls with its table statistics (None without tables)."""
    if not tables:
        return None

    def report(
        context: dg.AssetExecutionContext,
        statistics: Sequence[models.TableStatistics] | None,
    ) -> None:
        if statistics is None:  # not read (denied or failed): nothing to say about the tables
            return
        for event in table_events(task_arn, tables, statistics):
            context.log_event(event)

    return report


def parse_table_names(names: Sequence[str]) -> list[tuple[str, str]]:
    """`schema.table` strings (run config) as (schema, table); a bad one raises dg.Failure."""
    parsed: list[tuple[str, str]] = []
    for name in names:
        schema, dot, table = name.partition(".")
        if not dot or not schema or not table:
            raise dg.Failure(
                description=f"reload_tables: {name!r} is not schema.table (the source table)"
            )
        parsed.append((schema, table))
    return parsed


def reload(
    context: dg.AssetExecutionContext,
    client: DmsClient,
    task_arn: str,
    tables: Sequence[tuple[str, str]],
    reload_option: str,
    timeout_seconds: float | None,
) -> list[models.TableStatistics]:
    """ReloadTables on a running task, waiting until the tables have loaded again; raises
    dg.Failure with DMS's rule when the task can't reload them, or when a table fails."""
    names = ", ".join(f"{s}.{t}" for s, t in tables)
    context.log.info(f"Reloading {names} ({reload_option}) in {task_arn}")
    metadata = DmsMetadataSet(reload_tables=names, reload_option=reload_option).metadata()
    try:
        result = client.reload_tables_and_wait(
            task_arn, tables, reload_option=reload_option, timeout_seconds=timeout_seconds
        )
    except AccessDeniedError as error:
        # Reloading needs dms:ReloadTables, and dms:DescribeTableStatistics to follow the
        # reload; DMS's message names the one that was denied.
        raise dg.Failure(description=f"Reloading {names}: {error}", metadata=metadata) from error
    if not result.succeeded:
        # A validate-only reload that found mismatches did its work: the table's health check
        # reports the failed validation (with its counts), not a failed step.
        compared = [
            t
            for t in result.table_statistics or []
            if _native.table_failure("", t.validation_state or "") is not None
        ]
        if reload_option == "validate-only" and compared:
            context.log.warning(result.message)
            return result.table_statistics
        raise dg.Failure(description=f"Reloading {names}: {result.message}", metadata=metadata)
    context.log.info(result.message)
    return result.table_statistics


def observe_task_tables(
    client: DmsClient,
    task_arn: str,
    tables: Mapping[tuple[str, str], dg.AssetKey],
) -> list[dg.AssetObservation | dg.AssetCheckEvaluation]:
    """The sensor's look at a changed task's tables: one DescribeTableStatistics listing (pages
    of many tables), an observation and a health check per table asset. An unreadable listing
    (for example dms:DescribeTableStatistics denied) says nothing about the tables."""
    try:
        statistics = client.describe_table_statistics(task_arn)
    except DmsError:
        return []
    events: list[dg.AssetObservation | dg.AssetCheckEvaluation] = []
    for event in table_events(task_arn, tables, statistics):
        if isinstance(event, dg.AssetMaterialization):
            events.append(dg.AssetObservation(asset_key=event.asset_key, metadata=event.metadata))
        else:
            events.append(event)
    return events
