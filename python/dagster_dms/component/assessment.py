"""Premigration assessments of a replication task: the on-demand ``premigration_assessment`` asset
check and the ``assess_before_start`` gate of a materialization.

The core starts the assessment run, follows it and judges it (``DmsClient.run_assessment``); this
module turns its result into a check result or a failure, with each individual assessment's
status in the metadata.

No `from __future__ import annotations` here: Dagster reads the check function's annotations.
"""

from collections.abc import Callable
from typing import Any

import dagster as dg
import pydantic

from dagster_dms import models
from dagster_dms.client import AssessmentRunResult, DmsClient

CHECK_PREMIGRATION_ASSESSMENT = "premigration_assessment"


class PremigrationAssessmentSettings(dg.Model, dg.Resolvable):
    """Where a premigration assessment run writes its results, and which assessments it runs
    (StartReplicationTaskAssessmentRun's members)."""

    service_access_role_arn: str = pydantic.Field(
        description="The IAM role DMS assumes to write the results (iam:PassRole is needed)."
    )
    result_location_bucket: str = pydantic.Field(description="The S3 bucket of the results.")
    result_location_folder: str = pydantic.Field(
        default="", description="The folder in the bucket (none: the bucket's root)."
    )
    include_only: list[str] = pydantic.Field(
        default=[], description="Run only these individual assessments (their API names)."
    )
    exclude: list[str] = pydantic.Field(
        default=[], description="Run every applicable individual assessment but these."
    )
    timeout_seconds: float = pydantic.Field(
        default=3600, gt=0, description="How long a run may take before it is cancelled."
    )

    @pydantic.model_validator(mode="after")
    def _one_selection(self) -> "PremigrationAssessmentSettings":
        if self.include_only and self.exclude:
            raise ValueError(
                "premigration_assessment: give include_only or exclude, not both (DMS refuses both)"
            )
        return self


def run_assessment(
    client: DmsClient, task_arn: str, settings: PremigrationAssessmentSettings, log: Any
) -> AssessmentRunResult:
    """Runs a premigration assessment of the task and logs its progress."""
    last: list[tuple[str, int]] = []

    def progress(run: models.ReplicationTaskAssessmentRun) -> None:
        counts = run.assessment_progress or models.ReplicationTaskAssessmentRunProgress()
        done = counts.individual_assessment_completed_count or 0
        key = (run.status or "", done)
        if not last or last[-1] != key:  # a line per change
            last.append(key)
            log.info(
                f"premigration assessment {run.assessment_run_name}: {key[0]} "
                f"({done}/{counts.individual_assessment_count or 0} done)"
            )

    return client.run_assessment(
        task_arn,
        service_access_role_arn=settings.service_access_role_arn,
        result_bucket=settings.result_location_bucket,
        result_folder=settings.result_location_folder,
        include_only=settings.include_only,
        exclude=settings.exclude,
        timeout_seconds=settings.timeout_seconds,
        on_progress=progress,
    )


def assessment_metadata(result: AssessmentRunResult) -> dict[str, Any]:
    """The run (name, status, ARN, verdict) and each individual assessment's status, keyed
    ``assessment/<API name>``."""
    run = result.run
    metadata: dict[str, Any] = {
        "assessment_run": run.assessment_run_name or "",
        "assessment_run_arn": run.replication_task_assessment_run_arn or "",
        "assessment_status": run.status or "",
        "message": result.message,
    }
    if run.last_failure_message:
        metadata["last_failure_message"] = run.last_failure_message
    if run.result_location_bucket:
        folder = "/".join(
            p for p in (run.result_location_folder or "", run.assessment_run_name or "") if p
        )
        metadata["results"] = f"s3://{run.result_location_bucket}/{folder}/"
    for item in sorted(result.individual, key=lambda i: i.individual_assessment_name or ""):
        metadata[f"assessment/{item.individual_assessment_name}"] = item.status or ""
    return metadata


def build_assessment_check(
    asset_key: dg.AssetKey,
    task_arn: str,
    client: Callable[[], DmsClient],
    settings: PremigrationAssessmentSettings,
) -> dg.AssetChecksDefinition:
    """The task's ``premigration_assessment`` check: run on demand (it does not run with the
    materialization), it starts an assessment run and passes when the run ends ``passed`` or
    ``warning``."""
    spec = dg.AssetCheckSpec(
        CHECK_PREMIGRATION_ASSESSMENT,
        asset=asset_key,
        description="A DMS premigration assessment run of the task passes (passed or warning).",
    )

    @dg.multi_asset_check(
        specs=[spec], name=f"{asset_key.to_python_identifier()}_{CHECK_PREMIGRATION_ASSESSMENT}"
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        result = run_assessment(client(), task_arn, settings, context.log)
        return dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=CHECK_PREMIGRATION_ASSESSMENT,
            passed=result.passed,
            metadata=assessment_metadata(result),
            description=result.message,
        )

    return _check


def assess_before_start(
    context: dg.AssetExecutionContext,
    client: DmsClient,
    task_arn: str,
    settings: PremigrationAssessmentSettings,
) -> None:
    """Runs the assessment; a run that does not pass stops the materialization before the task
    starts, with the assessments that failed in the failure's message and metadata."""
    status = client.describe_replication_task(task_arn).status or ""
    if status in ("starting", "running"):
        # Nothing will be started; DMS refuses assessment runs of a task in motion anyway.
        context.log.info(f"the task is {status}: no premigration assessment before this run")
        return
    result = run_assessment(client, task_arn, settings, context.log)
    if not result.passed:
        raise dg.Failure(
            description=f"{result.message}. The task was not started (assess_before_start).",
            metadata=assessment_metadata(result),
        )
    context.log.info(f"{result.message}; starting the task")
