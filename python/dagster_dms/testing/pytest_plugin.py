"""pytest fixtures for testing Dagster DMS pipelines against ``dms-local``.

Registered through the ``pytest11`` entry point, so installing dagster-dms makes them available
in every test suite:

``dms_local``
    A :class:`~dagster_dms.testing.DmsLocalServer` on a free loopback port with a fresh state
    directory under the test's ``tmp_path``, stopped (and checked to exit cleanly) afterwards.
    While the test runs, ``AWS_ENDPOINT_URL``, ``AWS_REGION`` and the local key pair are set in
    the environment, so ``AWSDMSComponent`` YAML with ``env('AWS_ACCESS_KEY_ID')``, boto3 and
    ``dmsctl`` all talk to it. ``dms_local.boto3_client()`` and ``dms_local.dms_client()`` give
    ready clients.

``dms_local_postgres``
    A :class:`~dagster_dms.testing.PgCluster` for the whole session (``wal_level=logical``,
    trust authentication on 127.0.0.1), removed afterwards. Skips the test when no PostgreSQL
    server binaries are installed.

``dms_local_args``
    The extra ``dms-local serve`` arguments ``dms_local`` uses; override it in a ``conftest.py``
    to change them (the default keeps resource delays short).

A test suite that defines its own fixture of one of these names keeps its own: pytest prefers
fixtures from ``conftest.py`` and test modules over plugin fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from dagster_dms.testing.dms_local import DmsLocalServer
    from dagster_dms.testing.postgres import PgCluster

__all__ = ["dms_local", "dms_local_args", "dms_local_postgres"]


@pytest.fixture
def dms_local_args() -> list[str]:
    """Extra ``dms-local serve`` arguments for ``dms_local``."""
    from dagster_dms.testing.dms_local import FAST_ARGS

    return list(FAST_ARGS)


@pytest.fixture
def dms_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dms_local_args: list[str]
) -> Iterator[DmsLocalServer]:
    """A running dms-local with a fresh state; the AWS environment points at it."""
    from dagster_dms.testing.dms_local import DmsLocalServer, find_dms_local

    if find_dms_local() is None:
        pytest.fail("dms-local is not installed: install dagster-dms or set DMS_LOCAL")
    server = DmsLocalServer(tmp_path / "dms-local-state", extra_args=dms_local_args)
    server.start()
    try:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        yield server
    finally:
        code = server.stop()
    assert code == 0, f"dms-local exited with code {code} on SIGTERM"


@pytest.fixture(scope="session")
def dms_local_postgres() -> Iterator[PgCluster]:
    """A throw-away PostgreSQL cluster for the session, ready for full load and CDC."""
    from dagster_dms.testing.postgres import PgCluster, find_bindir

    try:
        find_bindir()
    except FileNotFoundError as error:
        pytest.skip(str(error))
    with PgCluster() as cluster:
        yield cluster
