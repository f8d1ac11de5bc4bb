"""`dagster_dms.AWSDMSComponent`: DMS tasks, endpoints, instances and replications as assets.

No `from __future__ import annotations` here: Dagster reads the run-config annotations of the
asset functions at definition time.
"""

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import dagster as dg
import pydantic
from dagster.components.component.state_backed_component import StateBackedComponent
from dagster.components.utils.defs_state import (
    DefsStateConfig,
    DefsStateConfigArgs,
    ResolvedDefsStateConfig,
)
from dagster.components.utils.translation import TranslationFn, TranslationFnResolver

from dagster_dms._native import check_resource_filter, identifier_pattern_warning
from dagster_dms.component import cloudwatch, tables
from dagster_dms.component.assessment import (
    PremigrationAssessmentSettings,
    assess_before_start,
    build_assessment_check,
)
from dagster_dms.component.aws_settings import AwsSettings
from dagster_dms.component.observe import observe_endpoint, observe_instance
from dagster_dms.component.replication_run import run_replication_asset
from dagster_dms.component.scaffolder import AWSDMSComponentScaffolder
from dagster_dms.component.sensor import WatchedTask, build_observation_sensor
from dagster_dms.component.state import (
    DmsState,
    ReplicationState,
    TaskState,
    endpoint_state,
    instance_state,
    replication_state,
    task_state,
)
from dagster_dms.component.stop_job import build_stop_job
from dagster_dms.component.table_asset import build_table_asset
from dagster_dms.component.task_run import (
    CHECK_CDC_LATENCY,
    CHECK_NO_ERRORED_TABLES,
    CHECK_VALIDATION,
    TaskRunSettings,
    run_task_asset,
)
from dagster_dms.component.translator import DagsterDmsTranslator, DmsResourceProps, asset_name

StartTypeName = Literal["start-replication", "resume-processing", "reload-target"]
START_TYPES: tuple[str, ...] = ("start-replication", "resume-processing", "reload-target")
if TYPE_CHECKING:
    from dagster_dms.resource import DmsResource

_GROUP_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class DmsRunConfig(dg.Config):
    """Run config of a task or replication asset: override the component's start type."""

    # A plain string (Dagster run config has no Literal type), checked below.
    start_type: str | None = pydantic.Field(
        default=None,
        description="start-replication, resume-processing or reload-target for this run only.",
    )

    # import_tables: repair chosen tables of a running task instead of running the task.
    reload_tables: list[str] = pydantic.Field(
        default=[],
        description="Source tables (schema.table) to reload with ReloadTables in the running task.",
    )
    reload_option: str = pydantic.Field(
        default="data-reload", description="data-reload or validate-only (with reload_tables)."
    )

    @pydantic.field_validator("start_type")
    @classmethod
    def _known_start_type(cls, value: str | None) -> str | None:
        if value is not None and value not in START_TYPES:
            raise ValueError(f"start_type: {value!r} is not one of {', '.join(START_TYPES)}")
        return value


def _secret_field(description: str) -> Any:
    # repr=False: the resolved value never shows in a repr or an error about the component.
    return pydantic.Field(default=None, repr=False, description=description)


@dg.scaffold_with(AWSDMSComponentScaffolder)
class AWSDMSComponent(StateBackedComponent, dg.Model, dg.Resolvable):
    """AWS DMS replication tasks, endpoints, replication instances and serverless replications
    as Dagster assets.

    Materializing a task starts it (start-replication, resume-processing or reload-target),
    waits the right way and reports rows, tables, errors and CDC lag. Endpoints and instances
    are observable assets. A sensor and asset checks keep status, progress and latency in view.

    Discovery is state-backed: `dg utils refresh-defs-state` (or `dagster dev`) lists the
    resources once; loading the code location then makes no AWS call.

    Example:

        .. code-block:: yaml

            type: dagster_dms.AWSDMSComponent
            attributes:
              aws_region: us-east-1
              import_replication_tasks: true
              filter_by_name_pattern: ^prod-.*
    """

    aws_region: str = pydantic.Field(description="The AWS region of the DMS resources.")
    aws_access_key_id: str | None = pydantic.Field(
        default=None, description="Access key id; omit to use the default credential chain."
    )
    aws_secret_access_key: str | None = _secret_field("Secret access key (never logged).")
    aws_session_token: str | None = _secret_field("Session token for temporary credentials.")
    profile_name: str | None = pydantic.Field(
        default=None, description="A profile of the shared AWS config files."
    )
    endpoint_url: str | None = pydantic.Field(
        default=None,
        description="One URL for DMS, CloudWatch and Logs, e.g. dms-local's http://127.0.0.1:4566.",
    )
    verify: bool | str = pydantic.Field(
        default=True, description="Verify TLS (true/false) or the path of a CA bundle."
    )
    max_attempts: int | None = pydantic.Field(
        default=None, ge=1, description="Attempts per call, including the first (as boto3)."
    )
    retry_mode: Literal["standard", "adaptive", "legacy"] | None = pydantic.Field(
        default=None, description="standard (default) or adaptive, as boto3."
    )
    import_replication_tasks: bool = pydantic.Field(
        default=True, description="Replication tasks become materializable assets."
    )
    import_endpoints: bool = pydantic.Field(
        default=False, description="Endpoints become observable assets."
    )
    import_replication_instances: bool = pydantic.Field(
        default=False, description="Replication instances become observable assets."
    )
    import_serverless_replications: bool = pydantic.Field(
        default=False, description="Serverless replication configs become materializable assets."
    )
    import_tables: bool = pydantic.Field(
        default=False,
        description="Each table a replication task writes becomes an asset, keyed [schema, "
        "table] of the target (after the task's transformation rules).",
    )
    filter_by_name_pattern: str | None = pydantic.Field(
        default=None,
        description="Keep resources whose identifier matches this regex (search semantics).",
    )
    exclude_name_pattern: str | None = pydantic.Field(
        default=None, description="Drop resources whose identifier matches this regex."
    )
    filter_by_tags: str | None = pydantic.Field(
        default=None,
        description="Comma-separated tag keys (`key` or `key=value`); every one must match.",
    )
    replication_task_type: StartTypeName = pydantic.Field(
        default="start-replication",
        description="How a materialization starts a task; run config can override it.",
    )
    generate_sensor: bool = pydantic.Field(
        default=True, description="Add `<group_name>_observation_sensor`."
    )
    poll_interval_seconds: int = pydantic.Field(
        default=60, gt=0, description="Minimum interval of the observation sensor."
    )
    group_name: str = pydantic.Field(default="aws_dms", description="Asset group of all assets.")
    description: str | None = pydantic.Field(
        default=None, description="Shown on every asset of this component."
    )
    start_timeout_seconds: float = pydantic.Field(
        default=600, gt=0, description="How long a start may take to reach `running`."
    )
    completion_timeout_seconds: float | None = pydantic.Field(
        default=None, gt=0, description="How long a run may take in all (none: no limit)."
    )
    stop_task_on_termination: bool = pydantic.Field(
        default=True, description="Terminating a run stops the task it started."
    )
    cdc_latency_threshold_seconds: float = pydantic.Field(
        default=300, gt=0, description="The CDC latency check fails above this."
    )
    cdc_metrics_period_seconds: int = pydantic.Field(
        default=cloudwatch.DEFAULT_PERIOD_SECONDS,
        description="The CloudWatch period CDC latency is averaged over (its newest period is "
        "read). 60 suits AWS DMS, which publishes once a minute; dms-local publishes every "
        "--metrics-interval-ms and can be read at 1, 5, 10, 20 or 30.",
    )
    premigration_assessment: PremigrationAssessmentSettings | None = pydantic.Field(
        default=None,
        description="Adds the on-demand `premigration_assessment` check to every task: a DMS "
        "premigration assessment run, its results written where this says.",
    )
    assess_before_start: bool = pydantic.Field(
        default=False,
        description="A materialization runs the premigration assessment first and does not "
        "start the task when it fails (needs premigration_assessment).",
    )
    test_connections_on_observe: bool = pydantic.Field(
        default=False, description="Observing an endpoint starts a connection test first."
    )
    translation: (
        Annotated[
            TranslationFn[DmsResourceProps],
            TranslationFnResolver(template_vars_for_translation_fn=lambda props: {"props": props}),
        ]
        | None
    ) = pydantic.Field(
        default=None,
        description="Asset attributes (key, group, metadata, tags, owners...) per resource; "
        "`props` is the resource (props.kind, props.identifier, props.tags...).",
    )
    defs_state: ResolvedDefsStateConfig = DefsStateConfigArgs.local_filesystem()

    @pydantic.field_validator("filter_by_name_pattern", "exclude_name_pattern", "filter_by_tags")
    @classmethod
    def _valid_filter(cls, value: str | None, info: pydantic.ValidationInfo) -> str | None:
        # The core that matches at refresh checks at load, with the same words as dmsctl.
        if value is not None:
            check_resource_filter(
                value if info.field_name == "filter_by_name_pattern" else None,
                value if info.field_name == "exclude_name_pattern" else None,
                value if info.field_name == "filter_by_tags" else None,
            )
        return value

    @pydantic.model_validator(mode="after")
    def _assessment_configured(self) -> "AWSDMSComponent":
        if self.assess_before_start and self.premigration_assessment is None:
            raise ValueError(
                "assess_before_start needs premigration_assessment (its service_access_role_arn "
                "and result_location_bucket)"
            )
        return self

    @pydantic.field_validator("cdc_metrics_period_seconds")
    @classmethod
    def _valid_period(cls, value: int) -> int:
        if not cloudwatch.valid_period(value):
            raise ValueError(
                f"cdc_metrics_period_seconds: {value} is not a CloudWatch period; use 1, 5, 10, "
                "20, 30 or a multiple of 60"
            )
        return value

    @pydantic.field_validator("group_name")
    @classmethod
    def _valid_group(cls, value: str) -> str:
        if not _GROUP_NAME.match(value):
            raise ValueError(f"group_name: {value!r} may hold only letters, digits and underscores")
        return value

    # ---- settings ---------------------------------------------------------------------------

    @cached_property
    def aws_settings(self) -> AwsSettings:
        return AwsSettings(
            region_name=self.aws_region,
            profile_name=self.profile_name,
            endpoint_url=self.endpoint_url,
            verify=self.verify,
            max_attempts=self.max_attempts,
            retry_mode=self.retry_mode,
            aws_access_key_id=self.aws_access_key_id or None,
            aws_secret_access_key=self.aws_secret_access_key or None,
            aws_session_token=self.aws_session_token or None,
        )

    @property
    def dms_resource(self) -> "DmsResource":
        """A :class:`~dagster_dms.DmsResource` with this component's AWS settings, for your own
        assets and ops (``Definitions(resources={"dms": component.dms_resource})``)."""
        from dagster_dms.resource import DmsResource  # the resource module imports this package

        return DmsResource.from_settings(self.aws_settings)

    @property
    def run_settings(self) -> TaskRunSettings:
        return TaskRunSettings(
            start_type=self.replication_task_type,
            start_timeout_seconds=self.start_timeout_seconds,
            completion_timeout_seconds=self.completion_timeout_seconds,
            stop_task_on_termination=self.stop_task_on_termination,
            cdc_latency_threshold_seconds=self.cdc_latency_threshold_seconds,
            metrics_period_seconds=self.cdc_metrics_period_seconds,
        )

    @property
    def filters(self) -> dict[str, Any]:
        return {
            "filter_by_name_pattern": self.filter_by_name_pattern,
            "exclude_name_pattern": self.exclude_name_pattern,
            "filter_by_tags": self.filter_by_tags,
            "import_replication_tasks": self.import_replication_tasks,
            "import_endpoints": self.import_endpoints,
            "import_replication_instances": self.import_replication_instances,
            "import_serverless_replications": self.import_serverless_replications,
            **({"import_tables": True} if self.import_tables else {}),
        }

    def pattern_warnings(self) -> list[str]:
        """Name patterns that can never match a DMS identifier, with the hyphen form to use."""
        found = []
        for name in ("filter_by_name_pattern", "exclude_name_pattern"):
            pattern = getattr(self, name)
            if pattern:
                warning = identifier_pattern_warning(name, pattern)
                if warning:
                    found.append(warning)
        return found

    @property
    def defs_state_config(self) -> DefsStateConfig:
        default_key = f"{type(self).__name__}[{self.aws_region},{self.group_name}]"
        return DefsStateConfig.from_args(self.defs_state, default_key=default_key)

    @cached_property
    def translator(self) -> DagsterDmsTranslator:
        return DagsterDmsTranslator()

    def get_asset_spec(self, props: DmsResourceProps) -> dg.AssetSpec:
        """The spec of one resource: the translator's, then the component's, then `translation`."""
        spec = self.translator.get_asset_spec(props)
        description = spec.description or ""
        if self.description:
            description = f"{self.description}\n\n{description}"
        spec = spec.replace_attributes(group_name=self.group_name, description=description)
        if self.translation is not None:
            spec = self.translation(spec, props)
        return spec

    # ---- state ------------------------------------------------------------------------------

    def write_state_to_path(self, state_path: Path) -> None:
        state = self.discover()
        logger = dg.get_dagster_logger()
        for warning in state.warnings:
            logger.warning(f"AWSDMSComponent ({self.group_name}): {warning}")
        state_path.write_text(state.to_json(), encoding="utf-8")

    def discover(self) -> DmsState:
        """Lists the resources the configuration selects (the refresh's one AWS round)."""
        client = self.aws_settings.client()
        pattern = self.filter_by_name_pattern
        exclude = self.exclude_name_pattern
        tags = self.filter_by_tags
        warnings: list[str] = list(self.pattern_warnings())

        def find(
            kind: Literal["tasks", "endpoints", "instances", "replication-configs"],
            include_unselected: bool = False,
        ) -> list[Any]:
            items, found_warnings = client.discover(
                kind,
                name_pattern=pattern,
                exclude_pattern=exclude,
                tags=tags,
                read_tags=True,
                with_settings=kind == "tasks",
                include_unselected=include_unselected,
            )
            warnings.extend(f"{kind}: {w}" for w in found_warnings)
            return items

        tasks = find("tasks") if self.import_replication_tasks else []
        replications = find("replication-configs") if self.import_serverless_replications else []
        # Task metadata names related endpoints and instances whether they are imported or not:
        # when they are, the same listing serves both (the filters' leftovers come with it).
        all_endpoints: list[Any] = []
        endpoints: list[Any] = []
        if self.import_endpoints:
            listed = find("endpoints", include_unselected=bool(tasks or replications))
            endpoints = [d for d in listed if d.selected]
            if tasks or replications:
                all_endpoints = [d.resource for d in listed]
        elif tasks or replications:
            all_endpoints = client.describe_endpoints()
        all_instances: list[Any] = []
        instances: list[Any] = []
        if self.import_replication_instances:
            listed = find("instances", include_unselected=bool(tasks))
            instances = [d for d in listed if d.selected]
            if tasks:
                all_instances = [d.resource for d in listed]
        elif tasks:
            all_instances = client.describe_replication_instances()
        task_tables: dict[str, Any] = {}
        if self.import_tables:
            targets = {e.endpoint_arn: e for e in all_endpoints}
            for d in tasks:
                resolved, found_warnings = tables.resolve_task_tables(
                    client, d.resource, targets.get(d.resource.target_endpoint_arn)
                )
                task_tables[d.resource.replication_task_arn or ""] = resolved
                warnings.extend(found_warnings)
        return DmsState(
            region=client.region_name,
            refreshed_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            filters=self.filters,
            tasks=[task_state(d.resource, d.tags) for d in tasks],
            endpoints=[endpoint_state(d.resource, d.tags) for d in endpoints],
            instances=[instance_state(d.resource, d.tags) for d in instances],
            replications=[replication_state(d.resource, d.tags) for d in replications],
            endpoint_names={
                e.endpoint_arn or "": e.endpoint_identifier or "" for e in all_endpoints
            },
            endpoint_engines={e.endpoint_arn or "": e.engine_name or "" for e in all_endpoints},
            instance_names={
                i.replication_instance_arn or "": i.replication_instance_identifier or ""
                for i in all_instances
            },
            warnings=warnings,
            task_tables=task_tables,
        )

    # ---- definitions ------------------------------------------------------------------------

    def build_defs_from_state(
        self, context: dg.ComponentLoadContext, state_path: Path | None
    ) -> dg.Definitions:
        logger = dg.get_dagster_logger()
        if state_path is None or not state_path.exists():
            logger.warning(
                f"AWSDMSComponent ({self.group_name}): no defs state yet, so no DMS assets. "
                "Create it with `dg utils refresh-defs-state` (or run `dagster dev`, which "
                "refreshes it)."
            )
            return dg.Definitions()
        state = DmsState.from_json(state_path.read_text(encoding="utf-8"))
        for warning in state.warnings:
            logger.warning(f"AWSDMSComponent ({self.group_name}): {warning}")
        if dict(state.filters) != self.filters:
            logger.warning(
                f"AWSDMSComponent ({self.group_name}): the defs state was refreshed with other "
                "filters or imports than the component now has; run "
                "`dg utils refresh-defs-state` to apply them."
            )
        return self.build_defs_from_discovery(state)

    def build_defs_from_discovery(self, state: DmsState) -> dg.Definitions:
        """Definitions from a discovery, with no AWS call."""
        endpoint_keys = {
            e.arn: dg.AssetKey(asset_name("endpoint", e.identifier)) for e in state.endpoints
        }
        assets: list[dg.AssetsDefinition] = []
        watched: list[WatchedTask] = []
        table_specs: list[tuple[dg.AssetSpec, tables.TableProps]] = []
        assessed: list[tuple[dg.AssetKey, str]] = []  # each task's key and ARN
        for task in state.tasks:
            props = _migration_props("task", task, state, endpoint_keys)
            spec = self.get_asset_spec(props)
            instance_identifier = state.instance_names.get(task.instance_arn, "")
            resolved = state.task_tables.get(task.arn, {}) if self.import_tables else {}
            task_table_specs = [
                (self.get_table_spec(p), p)
                for p in tables.table_props(
                    task, resolved, state.region, props.target_endpoint, spec.key
                )
            ]
            table_specs.extend(task_table_specs)
            table_keys = {p.source: s.key for s, p in task_table_specs}
            assets.append(self._task_asset(spec, task, instance_identifier, table_keys))
            assessed.append((spec.key, task.arn))
            watched.append(WatchedTask(task, spec.key, instance_identifier, table_keys))
        for table in tables.merge_table_specs(table_specs):
            assets.append(
                build_table_asset(table, self.aws_settings.client, self.completion_timeout_seconds)
            )
        for replication in state.replications:
            props = _migration_props("replication", replication, state, endpoint_keys)
            assets.append(self._replication_asset(self.get_asset_spec(props), replication))
        for endpoint in state.endpoints:
            props = DmsResourceProps(
                kind="endpoint",
                identifier=endpoint.identifier,
                arn=endpoint.arn,
                region=state.region,
                tags=endpoint.tags,
                resource=endpoint,
            )
            assets.append(self._endpoint_asset(self.get_asset_spec(props), endpoint))
        for instance in state.instances:
            props = DmsResourceProps(
                kind="instance",
                identifier=instance.identifier,
                arn=instance.arn,
                region=state.region,
                tags=instance.tags,
                resource=instance,
            )
            assets.append(self._instance_asset(self.get_asset_spec(props), instance))
        sensors = []
        if self.generate_sensor and watched:
            sensors.append(
                build_observation_sensor(
                    name=f"{self.group_name}_observation_sensor",
                    settings=self.aws_settings,
                    watched=watched,
                    minimum_interval_seconds=self.poll_interval_seconds,
                    cdc_latency_threshold_seconds=self.cdc_latency_threshold_seconds,
                    metrics_period_seconds=self.cdc_metrics_period_seconds,
                    description=self.description,
                )
            )
        jobs = []
        if state.tasks:
            jobs.append(
                build_stop_job(
                    name=f"{self.group_name}_stop_tasks",
                    settings=self.aws_settings,
                    tasks={t.identifier: t for t in state.tasks},
                )
            )
        checks = [
            build_assessment_check(key, arn, self.aws_settings.client, settings)
            for key, arn in assessed
            if (settings := self.premigration_assessment) is not None
        ]
        return dg.Definitions(assets=assets, asset_checks=checks, sensors=sensors, jobs=jobs)

    def get_table_spec(self, props: tables.TableProps) -> dg.AssetSpec:
        """A table's spec: the default, then `translation` (props.kind is "table")."""
        spec = tables.default_table_spec(props, self.group_name)
        if self.translation is not None:
            spec = self.translation(spec, cast(Any, props))
        return spec

    def _task_asset(
        self,
        spec: dg.AssetSpec,
        task: Any,
        instance_identifier: str,
        table_keys: dict[tuple[str, str], dg.AssetKey],
    ) -> dg.AssetsDefinition:
        checks = [
            dg.AssetCheckSpec(
                CHECK_NO_ERRORED_TABLES, asset=spec.key, description="No table ended in error."
            )
        ]
        if task.is_cdc:
            checks.append(
                dg.AssetCheckSpec(
                    CHECK_CDC_LATENCY,
                    asset=spec.key,
                    description=(
                        "CDCLatencySource and CDCLatencyTarget (CloudWatch) are under "
                        f"{self.cdc_latency_threshold_seconds:g}s."
                    ),
                )
            )
        if task.validation_enabled:
            checks.append(
                dg.AssetCheckSpec(
                    CHECK_VALIDATION, asset=spec.key, description="No validation failures."
                )
            )
        check_names = [c.name for c in checks]
        component = self

        @dg.multi_asset(name=spec.key.to_python_identifier(), specs=[spec], check_specs=checks)
        def _asset(
            context: dg.AssetExecutionContext, config: DmsRunConfig
        ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
            settings = component.run_settings
            if config.start_type is not None:
                settings = dataclasses.replace(
                    settings, start_type=cast(StartTypeName, config.start_type)
                )
            client = component.aws_settings.client()
            settings_for_gate = component.premigration_assessment
            # The gate comes before a start; a repair (reload_tables) works on the running task.
            if component.assess_before_start and settings_for_gate and not config.reload_tables:
                assess_before_start(context, client, task.arn, settings_for_gate)
            if config.reload_tables:
                # Repair first; the run below then finds the task running and reports it.
                tables.reload(
                    context,
                    client,
                    task.arn,
                    tables.parse_table_names(config.reload_tables),
                    config.reload_option,
                    settings.completion_timeout_seconds,
                )
            yield from run_task_asset(
                context,
                client,
                task,
                instance_identifier,
                settings,
                check_names,
                on_tables=tables.table_reporter(task.arn, table_keys),
            )

        return _asset

    def _replication_asset(self, spec: dg.AssetSpec, replication: Any) -> dg.AssetsDefinition:
        component = self

        @dg.multi_asset(name=spec.key.to_python_identifier(), specs=[spec])
        def _asset(
            context: dg.AssetExecutionContext, config: DmsRunConfig
        ) -> Iterator[dg.MaterializeResult[None]]:
            settings = component.run_settings
            if config.start_type is not None:
                settings = dataclasses.replace(
                    settings, start_type=cast(StartTypeName, config.start_type)
                )
            yield from run_replication_asset(
                context, component.aws_settings.client(), replication, settings
            )

        return _asset

    def _endpoint_asset(self, spec: dg.AssetSpec, endpoint: Any) -> dg.AssetsDefinition:
        component = self

        # The decorator is untyped upstream.
        @dg.multi_observable_source_asset(name=spec.key.to_python_identifier(), specs=[spec])  # type: ignore[untyped-decorator]
        def _observe(context: dg.AssetExecutionContext) -> dg.ObserveResult:
            result = observe_endpoint(
                component.aws_settings.client(),
                endpoint,
                test_connections=component.test_connections_on_observe,
                log=context.log,
            )
            return dg.ObserveResult(
                asset_key=spec.key, data_version=result.data_version, metadata=result.metadata
            )

        return cast(dg.AssetsDefinition, _observe)

    def _instance_asset(self, spec: dg.AssetSpec, instance: Any) -> dg.AssetsDefinition:
        component = self

        # The decorator is untyped upstream.
        @dg.multi_observable_source_asset(name=spec.key.to_python_identifier(), specs=[spec])  # type: ignore[untyped-decorator]
        def _observe(context: dg.AssetExecutionContext) -> dg.ObserveResult:
            result = observe_instance(component.aws_settings.client(), instance, log=context.log)
            return dg.ObserveResult(
                asset_key=spec.key, data_version=result.data_version, metadata=result.metadata
            )

        return cast(dg.AssetsDefinition, _observe)


def _migration_props(
    kind: Literal["task", "replication"],
    resource: TaskState | ReplicationState,
    state: DmsState,
    endpoint_keys: dict[str, dg.AssetKey],
) -> DmsResourceProps:
    """What a translation sees of a task or a serverless replication: the resource, the names
    and engines of its endpoints (imported or not) and its source endpoint's asset as a dep."""
    source, target = resource.source_endpoint_arn, resource.target_endpoint_arn
    instance_arn = resource.instance_arn if isinstance(resource, TaskState) else ""
    return DmsResourceProps(
        kind=kind,
        identifier=resource.identifier,
        arn=resource.arn,
        region=state.region,
        tags=resource.tags,
        resource=resource,
        source_endpoint=state.endpoint_names.get(source),
        target_endpoint=state.endpoint_names.get(target),
        instance=state.instance_names.get(instance_arn) if instance_arn else None,
        source_engine=state.endpoint_engines.get(source),
        target_engine=state.endpoint_engines.get(target),
        deps=(endpoint_keys[source],) if source in endpoint_keys else (),
    )
