"""Test helpers for Dagster DMS pipelines: a local DMS service and throw-away PostgreSQL clusters.

``pytest`` loads :mod:`dagster_dms.testing.pytest_plugin` automatically once dagster-dms is
installed, which provides the fixtures ``dms_local`` (a running ``dms-local`` on a free port with a
fresh state directory, the AWS environment pointed at it) and ``dms_local_postgres`` (a PostgreSQL
cluster for the session, configured for logical replication). The classes behind them can be used
directly too::

    from dagster_dms.testing import DmsLocalServer, PgCluster

    with PgCluster() as pg, DmsLocalServer(Path("state")) as dms:
        dms.boto3_client().create_endpoint(...)

:mod:`dagster_dms.testing.account` seeds an account through a boto3 client: PostgreSQL endpoints,
an instance that is ``available``, a task that is ``ready``, selection rules, or a whole small
account at once (:func:`seed_account`).
"""

from dagster_dms.testing import account
from dagster_dms.testing.account import (
    SeededAccount,
    create_available_instance,
    create_cluster_endpoint,
    create_postgres_endpoint,
    create_task,
    seed_account,
    selection_rule,
    selection_rules,
)
from dagster_dms.testing.dms_local import (
    FAST_ARGS,
    LOCAL_ACCESS_KEY_ID,
    LOCAL_REGION,
    LOCAL_SECRET_ACCESS_KEY,
    DmsLocalServer,
    find_dms_local,
)
from dagster_dms.testing.postgres import PgCluster, find_bindir

__all__ = [
    "FAST_ARGS",
    "LOCAL_ACCESS_KEY_ID",
    "LOCAL_REGION",
    "LOCAL_SECRET_ACCESS_KEY",
    "DmsLocalServer",
    "PgCluster",
    "SeededAccount",
    "account",
    "create_available_instance",
    "create_cluster_endpoint",
    "create_postgres_endpoint",
    "create_task",
    "find_bindir",
    "find_dms_local",
    "seed_account",
    "selection_rule",
    "selection_rules",
]
