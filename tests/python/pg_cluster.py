"""The tests' PostgreSQL cluster: `dagster_dms.testing.postgres.PgCluster` as a session fixture.

`initdb` into a temporary directory as the `postgres` user when running as root, a free loopback
port, `wal_level=logical`, trust authentication on 127.0.0.1; removed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dagster_dms.testing.postgres import SUPERUSER, PgCluster, find_bindir

__all__ = ["SUPERUSER", "PgCluster", "find_bindir", "pg_cluster_fixture"]


# Registered as `pg_cluster`; the function has another name so that importing it (from a conftest
# or a test module) does not shadow the parameter tests receive.
@pytest.fixture(scope="session", name="pg_cluster")
def pg_cluster_fixture() -> Iterator[PgCluster]:
    """A PostgreSQL cluster for the whole session; removed afterwards, also after failures."""
    try:
        find_bindir()
    except FileNotFoundError as error:
        pytest.fail(str(error))
    with PgCluster() as cluster:
        yield cluster
