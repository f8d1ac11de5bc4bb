"""Seeds a DMS account for tests and benchmarks: endpoints, an available instance, tasks.

Every function takes ``dms``, a boto3 DMS client (on ``dms-local`` or on moto), so the seeding goes
through the same wire protocol a user's code does. boto3 stays an optional dependency of
dagster-dms: only :func:`local_client` imports it, and only when called.

The waits poll a condition until a deadline; the defaults are generous because a loaded CI
machine runs many servers at once, and a condition that is met returns at once::

    from dagster_dms.testing import account

    dms = account.local_client(server.url)
    instance = account.create_available_instance(dms, "local")
    source = account.create_postgres_endpoint(
        dms, "src", "source", port=pg.port, database="shop", username=pg.user, password="x"
    )
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from dagster_dms.testing.dms_local import LOCAL_ACCESS_KEY_ID, LOCAL_REGION, LOCAL_SECRET_ACCESS_KEY
from dagster_dms.testing.postgres import PgCluster

#: How long a newly created instance or task may take to become usable on a loaded machine.
DEFAULT_TIMEOUT = 120.0


def local_client(
    url: str, service: str = "dms", *, max_attempts: int | None = 1, **kwargs: Any
) -> Any:
    """A boto3 client for ``service`` on the dms-local at ``url`` with its default key pair.

    ``max_attempts`` is 1 by default so that a test sees each server error instead of a retry
    hiding it; ``None`` keeps botocore's retry defaults. ``kwargs`` go to ``boto3.client`` and
    win (for example another key pair or a whole ``config``)."""
    try:
        boto3: Any = importlib.import_module("boto3")  # optional; untyped
        config: Any = importlib.import_module("botocore.config")
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("local_client() needs boto3: pip install boto3") from error
    settings: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": LOCAL_REGION,
        "aws_access_key_id": LOCAL_ACCESS_KEY_ID,
        "aws_secret_access_key": LOCAL_SECRET_ACCESS_KEY,
    }
    if max_attempts is not None:
        settings["config"] = config.Config(retries={"max_attempts": max_attempts})
    settings.update(kwargs)
    return boto3.client(service, **settings)


def wait_until(
    condition: Callable[[], bool], what: str, *, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Polls ``condition`` until it holds; raises ``TimeoutError`` naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not reached within {timeout:g} s")
        time.sleep(0.05)


def selection_rule(
    schema: str = "public",
    table: str = "%",
    *,
    rule_id: str = "1",
    rule_name: str | None = None,
    action: str = "include",
) -> dict[str, Any]:
    """One selection rule for ``schema``.``table`` (``%`` = any), named after its id unless
    ``rule_name`` is given."""
    return {
        "rule-type": "selection",
        "rule-id": rule_id,
        "rule-name": rule_name or rule_id,
        "object-locator": {"schema-name": schema, "table-name": table},
        "rule-action": action,
    }


def selection_mappings(
    schema: str = "public", table: str = "%", *, rule_name: str = "1", action: str = "include"
) -> dict[str, Any]:
    """The table-mapping document with one selection rule for ``schema``.``table`` (``%`` = any),
    as a dict (for a ``dms-local --seed`` file or to add rules to)."""
    return {"rules": [selection_rule(schema, table, rule_name=rule_name, action=action)]}


def selection_rules(
    schema: str = "public", table: str = "%", *, rule_name: str = "1", action: str = "include"
) -> str:
    """``TableMappings`` JSON with one selection rule for ``schema``.``table`` (``%`` = any)."""
    return json.dumps(selection_mappings(schema, table, rule_name=rule_name, action=action))


def create_postgres_endpoint(
    dms: Any,
    identifier: str,
    endpoint_type: str,
    *,
    port: int,
    database: str,
    username: str,
    password: str | None,
    server: str = "127.0.0.1",
    **extra: Any,
) -> str:
    """Creates a PostgreSQL endpoint (``endpoint_type``: ``source`` or ``target``) and returns
    its ARN. ``password=None`` leaves the password out (a server that trusts loopback needs
    none); ``extra`` goes to CreateEndpoint as is (for example ``Tags``)."""
    if password is not None:
        extra["Password"] = password
    endpoint = dms.create_endpoint(
        EndpointIdentifier=identifier,
        EndpointType=endpoint_type,
        EngineName="postgres",
        ServerName=server,
        Port=port,
        DatabaseName=database,
        Username=username,
        **extra,
    )["Endpoint"]
    return str(endpoint["EndpointArn"])


def create_cluster_endpoint(
    dms: Any,
    identifier: str,
    endpoint_type: str,
    cluster: PgCluster,
    database: str,
    *,
    password: str | None = "unused",
    **extra: Any,
) -> str:
    """A PostgreSQL endpoint on ``database`` of ``cluster`` as its superuser; returns the ARN.
    A :class:`PgCluster` trusts loopback connections, so the password is never checked."""
    return create_postgres_endpoint(
        dms,
        identifier,
        endpoint_type,
        server=cluster.host,
        port=cluster.port,
        database=database,
        username=cluster.user,
        password=password,
        **extra,
    )


def describe_instance(dms: Any, arn: str) -> dict[str, Any]:
    """The replication instance with ARN ``arn``."""
    found = dms.describe_replication_instances(
        Filters=[{"Name": "replication-instance-arn", "Values": [arn]}]
    )["ReplicationInstances"]
    return dict(found[0])


def create_available_instance(
    dms: Any,
    identifier: str,
    *,
    instance_class: str = "dms.t3.micro",
    timeout: float = DEFAULT_TIMEOUT,
    **extra: Any,
) -> str:
    """Creates a replication instance, waits until it is ``available`` and returns its ARN."""
    arn = str(
        dms.create_replication_instance(
            ReplicationInstanceIdentifier=identifier,
            ReplicationInstanceClass=instance_class,
            **extra,
        )["ReplicationInstance"]["ReplicationInstanceArn"]
    )
    wait_until(
        lambda: describe_instance(dms, arn)["ReplicationInstanceStatus"] == "available",
        f"replication instance {identifier} available",
        timeout=timeout,
    )
    return arn


class MigrationPath(NamedTuple):
    """What a task needs besides its table mappings: the ARNs of a source endpoint, a target
    endpoint and an available replication instance, in that order."""

    source: str
    target: str
    instance: str


def create_migration_path(
    dms: Any,
    cluster: PgCluster,
    source_database: str,
    target_database: str,
    *,
    target_cluster: PgCluster | None = None,
    password: str | None = "unused",
    timeout: float = DEFAULT_TIMEOUT,
) -> MigrationPath:
    """Endpoints ``src`` (on ``source_database`` of ``cluster``) and ``dst`` (on
    ``target_database`` of ``target_cluster``, by default the same cluster) and the instance
    ``local``, waited for until it is ``available``."""
    return MigrationPath(
        create_cluster_endpoint(dms, "src", "source", cluster, source_database, password=password),
        create_cluster_endpoint(
            dms, "dst", "target", target_cluster or cluster, target_database, password=password
        ),
        create_available_instance(dms, "local", timeout=timeout),
    )


def describe_task(dms: Any, arn: str) -> dict[str, Any]:
    """The replication task with ARN ``arn``, without its settings document."""
    found = dms.describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WithoutSettings=True
    )["ReplicationTasks"]
    return dict(found[0])


def create_task(
    dms: Any,
    identifier: str,
    *,
    source: str,
    target: str,
    instance: str,
    table_mappings: str | None = None,
    migration_type: str = "full-load",
    wait_ready: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    **extra: Any,
) -> str:
    """Creates a replication task and returns its ARN; by default it also waits until the task
    has left ``creating`` (status ``ready``), as Start and Modify need.

    ``table_mappings`` defaults to every table of schema ``public``; ``extra`` goes to
    CreateReplicationTask as is (for example ``ReplicationTaskSettings`` or ``Tags``)."""
    arn = str(
        dms.create_replication_task(
            ReplicationTaskIdentifier=identifier,
            SourceEndpointArn=source,
            TargetEndpointArn=target,
            ReplicationInstanceArn=instance,
            MigrationType=migration_type,
            TableMappings=table_mappings if table_mappings is not None else selection_rules(),
            **extra,
        )["ReplicationTask"]["ReplicationTaskArn"]
    )
    if wait_ready:
        wait_until(
            lambda: describe_task(dms, arn)["Status"] == "ready",
            f"replication task {identifier} ready",
            timeout=timeout,
        )
    return arn


@dataclass(frozen=True)
class SeededAccount:
    """What :func:`seed_account` created: one instance, a source and a target endpoint, and the
    tasks by identifier."""

    instance_arn: str
    source_arn: str
    target_arn: str
    task_arns: dict[str, str]


def seed_account(dms: Any, tasks: Mapping[str, Mapping[str, Any]]) -> SeededAccount:
    """A small account for control-plane tests (no data moves: the endpoints point at
    PostgreSQL ports nobody needs to serve): instance ``rep-instance-1`` tagged ``env=prod``,
    endpoints ``src-postgres`` and ``tgt-postgres`` (with passwords that must never be shown),
    and ``tasks``: ``{identifier: {"migration_type": ..., "tags": {key: value}}}``. Neither the
    instance nor the tasks are waited for."""
    instance = str(
        dms.create_replication_instance(
            ReplicationInstanceIdentifier="rep-instance-1",
            ReplicationInstanceClass="dms.t3.micro",
            Tags=[{"Key": "env", "Value": "prod"}],
        )["ReplicationInstance"]["ReplicationInstanceArn"]
    )
    source, target = (
        create_postgres_endpoint(
            dms,
            identifier,
            endpoint_type,
            port=port,
            database=database,
            username="dms",
            password=f"{endpoint_type}-password-never-shown",
        )
        for identifier, endpoint_type, port, database in (
            ("src-postgres", "source", 5432, "shop"),
            ("tgt-postgres", "target", 5433, "warehouse"),
        )
    )
    task_arns = create_tagged_tasks(
        dms,
        tasks,
        MigrationPath(source, target, instance),
        table_mappings=selection_rules(rule_name="all"),
    )
    return SeededAccount(instance, source, target, task_arns)


def create_tagged_tasks(
    dms: Any,
    tasks: Mapping[str, Mapping[str, Any]],
    path: MigrationPath,
    *,
    table_mappings: str | None = None,
    **extra: Any,
) -> dict[str, str]:
    """Creates ``tasks`` (``{identifier: {"migration_type": ..., "tags": {key: value}}}``, both
    optional) on ``path`` without waiting for them; returns their ARNs by identifier.
    ``extra`` goes to every CreateReplicationTask (for example ``ReplicationTaskSettings``)."""
    return {
        identifier: create_task(
            dms,
            identifier,
            source=path.source,
            target=path.target,
            instance=path.instance,
            table_mappings=table_mappings,
            migration_type=spec.get("migration_type", "full-load"),
            wait_ready=False,
            **_tags(spec.get("tags")),
            **extra,
        )
        for identifier, spec in tasks.items()
    }


def _tags(tags: Mapping[str, str] | None) -> dict[str, Any]:
    """CreateReplicationTask's ``Tags`` argument for ``tags``; none at all when there are none."""
    return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
