"""The test suite's ``dms_local``: `dagster_dms.testing`'s server, started with the `hold` test
executor in the isolated AWS environment.

Test modules import the fixture explicitly, which takes precedence over the `dagster_dms.testing`
plugin's fixture of the same name."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from dagster_dms.testing.account import local_client, selection_rules
from dagster_dms.testing.dms_local import (
    FAST_ARGS,
    LOCAL_ACCESS_KEY_ID,
    LOCAL_REGION,
    LOCAL_SECRET_ACCESS_KEY,
    DmsLocalServer,
)


@pytest.fixture(name="dms_local")
def dms_local_fixture(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocalServer]:
    # Short delays keep the lifecycle tests quick; the hold executor keeps started tasks running
    # (moving no data) so stop and restart behaviour can be tested without a database.
    with serving(tmp_path, monkeypatch, [*FAST_ARGS, "--test-executor", "hold"]) as server:
        yield server


@contextlib.contextmanager
def serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: Sequence[str]
) -> Iterator[DmsLocalServer]:
    """A dms-local on `args` with its state under `tmp_path` and its default key pair (and
    region) in the environment; leaving the block stops it, which must exit cleanly."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", LOCAL_REGION)
    server = DmsLocalServer(tmp_path / "state", extra_args=args)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            assert server.stop() == 0, "dms-local did not exit cleanly on SIGTERM"


#: `server`'s arguments unless a module overrides the `server_args` fixture: the real data
#: plane with short delays, publishing metrics every 200 ms.
DATA_PLANE_ARGS = (*FAST_ARGS, "--metrics-interval-ms", "200")


@pytest.fixture(name="databases")
def databases_fixture(pg_cluster: Any) -> Iterator[list[str]]:
    """The databases a test makes on `pg_cluster` (it appends their names), dropped afterwards."""
    made: list[str] = []
    yield made
    drop_databases(pg_cluster, made)


@pytest.fixture(name="server_args")
def server_args_fixture() -> list[str]:
    """The `dms-local serve` arguments of `server`."""
    return list(DATA_PLANE_ARGS)


@pytest.fixture(name="server")
def server_fixture(
    tmp_path: Path,
    aws_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    databases: list[str],
    server_args: list[str],
) -> Iterator[DmsLocalServer]:
    """dms-local with its real data plane; it ends before the databases are dropped."""
    with serving(tmp_path, monkeypatch, server_args) as server:
        yield server


def drop_databases(cluster: Any, names: Sequence[str]) -> None:
    """Drops the databases a test made on `cluster` (a PgCluster), with any replication slot a
    failed test left in them: a slot blocks DROP DATABASE."""
    for name in names:
        cluster.psql(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            f"WHERE database = '{name}'"
        )
        cluster.drop_database(name)


def select_schema(schema: str) -> str:
    """TableMappings (JSON) that select every table of `schema`."""
    return selection_rules(schema, rule_name=schema)


def boto3_dms(url: str, *, max_attempts: int = 1) -> Any:
    """A boto3 DMS client on a dms-local at `url` with its default key pair (test/test)."""
    return local_client(url, max_attempts=max_attempts)
