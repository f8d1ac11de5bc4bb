"""The ``dms/...`` metadata keys, as one typed set.

Every ``dms/`` key the component writes (on asset specs, materializations, observations and
failures) is a field here, so the list of keys and their types lives in one place. An instance
splats into a metadata mapping (``{**DmsMetadataSet(status="running")}`` is
``{"dms/status": "running"}``; fields left ``None`` are not written), and
``DmsMetadataSet.extract(metadata)`` reads the fields back from an event's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

# Dagster exports the base class from here only; dagster-fivetran and dagster-sling import it so.
from dagster._core.definitions.metadata.metadata_set import NamespacedMetadataSet


class DmsMetadataSet(NamespacedMetadataSet):
    """The ``dms`` metadata namespace. Field names are the keys after ``dms/``; CloudWatch
    metrics keep the metric's own name (``dms/CDCLatencySource_seconds``)."""

    # What a resource is (asset specs).
    arn: str | None = None
    console_url: dg.UrlMetadataValue | None = None
    migration_type: str | None = None
    source_endpoint: str | None = None
    target_endpoint: str | None = None
    table_mappings: str | None = None
    replication_instance: str | None = None
    endpoint_type: str | None = None
    engine: str | None = None
    instance_class: str | None = None

    # How a run ended, as the core judged it (materializations and failures).
    status: str | None = None
    stop_reason: str | None = None
    outcome: str | None = None
    phase: str | None = None
    verdict: str | None = None
    start_type_sent: str | None = None
    waited_seconds: float | None = None
    full_load_progress_percent: int | None = None
    tables_loaded: int | None = None
    tables_loading: int | None = None
    tables_queued: int | None = None
    tables_errored: int | None = None
    elapsed_time_millis: int | None = None
    stop_date: str | None = None
    recovery_checkpoint: str | None = None
    full_load_rows: int | None = None
    table_statistics: dg.TableMetadataValue | None = None
    table_statistics_error: str | None = None
    cdc_inserts: int | None = None
    cdc_updates: int | None = None
    cdc_deletes: int | None = None
    cdc_ddls: int | None = None
    cdc_applied_inserts: int | None = None
    cdc_applied_updates: int | None = None
    cdc_applied_deletes: int | None = None
    cdc_applied_ddls: int | None = None
    notes: str | None = None
    metric_notes: str | None = None
    error: str | None = None
    diagnosis: str | None = None
    log_tail: str | None = None

    # Table assets (import_tables): what a table is, its DMS statistics and its repairs.
    source_table: str | None = None
    row_count_meaning: str | None = None
    table_state: str | None = None
    validation_state: str | None = None
    full_load_reloaded: bool | None = None
    inserts: int | None = None
    updates: int | None = None
    deletes: int | None = None
    ddls: int | None = None
    validation_failed_records: int | None = None
    reloaded_by: str | None = None
    reload_tables: str | None = None
    reload_option: str | None = None

    # CloudWatch metrics of a CDC task, in seconds or changes (runs and the sensor).
    CDCLatencySource_seconds: float | None = None
    CDCLatencyTarget_seconds: float | None = None
    CDCIncomingChanges: float | None = None

    # What the sensor saw of a task it watches (the core watcher's facts).
    percent: int | None = None
    full_load_finish_date: str | None = None
    reported_by: str | None = None

    # Endpoint observations.
    server: str | None = None
    port: int | None = None
    database: str | None = None
    ssl_mode: str | None = None

    # Replication instance observations, with their CloudWatch metrics.
    allocated_storage_gib: int | None = None
    multi_az: bool | None = None
    engine_version: str | None = None
    availability_zone: str | None = None
    CPUUtilization: float | None = None
    FreeStorageSpace: float | None = None
    FreeableMemory: float | None = None

    @classmethod
    def namespace(cls) -> str:
        return "dms"

    @classmethod
    def key(cls, name: str) -> str:
        """The metadata key of field ``name``, or of a key below the namespace whose last part
        is data (``connection_test/<instance>``)."""
        return cls._namespaced_key(name)

    def metadata(self) -> dict[str, Any]:
        """The set fields as a plain metadata dict, to add entries outside the namespace to."""
        return {key: self[key] for key in self.keys()}

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> DmsMetadataSet:
        """The set from field names and values, leaving out ``None`` values (an unknown name is
        an error: every key belongs in the class above)."""
        return cls(**{name: value for name, value in fields.items() if value is not None})
