"""The table asset of `import_tables`: materializing it repairs the table in the task writing it.

No `from __future__ import annotations` here: Dagster reads the run-config annotation of the asset
function at definition time.
"""

from collections.abc import Callable, Iterator

import dagster as dg

from dagster_dms.client import DmsClient
from dagster_dms.component.metadata import DmsMetadataSet
from dagster_dms.component.tables import (
    CHECK_TABLE_HEALTHY,
    TableAsset,
    reload,
    table_check,
    table_metadata,
)


class TableRunConfig(dg.Config):
    """Run config of a table asset: how DMS reloads the table."""

    reload_option: str = "data-reload"


def build_table_asset(
    table: TableAsset,
    client_factory: Callable[[], DmsClient],
    timeout_seconds: float | None,
) -> dg.AssetsDefinition:
    """A table asset. Materializing it reloads the table (ReloadTables) in the running task that
    writes it and reports the table's statistics; the tasks' own materializations report it too."""
    key = table.spec.key
    check = dg.AssetCheckSpec(
        CHECK_TABLE_HEALTHY,
        asset=key,
        description="The table is not in `Table error` and its validation has not failed.",
    )

    @dg.multi_asset(name=key.to_python_identifier(), specs=[table.spec], check_specs=[check])
    def _asset(
        context: dg.AssetExecutionContext, config: TableRunConfig
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        client = client_factory()
        refusals: list[str] = []
        for writer in table.writers:
            try:
                statistics = reload(
                    context,
                    client,
                    writer.task_arn,
                    [writer.source],
                    config.reload_option,
                    timeout_seconds,
                )
            except dg.Failure as failure:
                refusals.append(f"task {writer.task}: {failure.description}")
                continue
            found = next(
                (t for t in statistics if (t.schema_name, t.table_name) == writer.source), None
            )
            metadata = table_metadata(found) if found is not None else {}
            yield dg.MaterializeResult(
                asset_key=key, metadata={**metadata, **DmsMetadataSet(reloaded_by=writer.task)}
            )
            evaluation = table_check(key, found)
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=CHECK_TABLE_HEALTHY,
                passed=evaluation.passed,
                description=evaluation.description,
                metadata=evaluation.metadata,
            )
            return
        raise dg.Failure(description="\n".join(refusals))

    return _asset
