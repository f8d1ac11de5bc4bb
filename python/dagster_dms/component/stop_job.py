"""`<group_name>_stop_tasks`: stop DMS tasks from Dagster and wait until they have stopped."""

from collections.abc import Mapping

import dagster as dg

from dagster_dms.component.aws_settings import AwsSettings
from dagster_dms.component.state import TaskState
from dagster_dms.component.task_run import ProgressReporter


class StopTasksConfig(dg.Config):
    """Which tasks to stop (identifiers of this component's tasks) and how long to wait."""

    tasks: list[str]
    wait: bool = True
    timeout_seconds: float | None = None


def build_stop_job(
    *, name: str, settings: AwsSettings, tasks: Mapping[str, TaskState]
) -> dg.JobDefinition:
    @dg.op(name=f"{name}_op", description="Stops the named DMS tasks and waits for `stopped`.")
    def stop_tasks(context: dg.OpExecutionContext, config: StopTasksConfig) -> None:
        unknown = [t for t in config.tasks if t not in tasks]
        if unknown:
            raise dg.Failure(
                f"Unknown task(s) {', '.join(unknown)}: this job stops the component's tasks "
                f"({', '.join(sorted(tasks)) or 'none'})"
            )
        if not config.tasks:
            raise dg.Failure("Nothing to stop: name the tasks in the run config (`tasks: [...]`)")
        client = settings.client()
        failures: list[str] = []
        for identifier in config.tasks:
            result = client.stop_task(
                tasks[identifier].arn,
                wait=config.wait,
                timeout=config.timeout_seconds,
                on_progress=ProgressReporter(context.log, identifier),
            )
            for note in result.notes:
                context.log.info(f"{identifier}: {note}")
            context.log.info(f"{identifier}: {result.outcome} ({result.task.status})")
            if result.outcome not in ("succeeded",):
                failures.append(f"{identifier}: {result.outcome}: {result.message}")
        if failures:
            raise dg.Failure("Some tasks did not stop:\n" + "\n".join(failures))

    @dg.job(name=name, description="Stops DMS replication tasks named in the run config.")
    def _job() -> None:
        stop_tasks()

    return _job
