"""A running ``dms-local`` for tests: a real process on a free loopback port with its own state.

The project's own variant of the `dms_local` fixture (started with the `hold` test executor);
test modules import it explicitly, which takes precedence over the `dagster_dms.testing` plugin's
fixture of the same name."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dagster_dms.testing import processes
from dagster_dms.testing.account import local_client, selection_rules
from dagster_dms.testing.dms_local import (
    FAST_ARGS,
    fault_settings,
    find_dms_local,
    stop_with_parent_environment,
)


@dataclass
class DmsLocal:
    """One dms-local process; ``restart`` keeps the state directory."""

    binary: str
    state_dir: Path
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        port_file = self.state_dir.parent / "dms-local.port"
        port_file.unlink(missing_ok=True)
        # Its own process group, stopped with this process even when pytest is killed.
        self.process = processes.spawn(
            [
                self.binary,
                "serve",
                "--port",
                "0",
                "--port-file",
                str(port_file),
                "--state-dir",
                str(self.state_dir),
                *self.extra_args,
            ],
            label="dms-local",
            env={**os.environ, **stop_with_parent_environment()},
        )
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"dms-local exited early with code {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("dms-local did not write its port file within 30 s")
            time.sleep(0.02)
        self.port = int(port_file.read_text().strip())

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Signals the process and returns its exit code; SIGKILL (and TimeoutExpired) if it has
        not exited within 30 s."""
        assert self.process is not None
        process, self.process = self.process, None
        code = processes.stop(process, "dms-local", [(sig, 30.0)])
        if code is None:
            processes.stop(process, "dms-local", [(signal.SIGKILL, 30.0)])
            raise subprocess.TimeoutExpired(process.args, 30.0)
        return code

    def restart(self, sig: signal.Signals = signal.SIGTERM) -> int:
        code = self.stop(sig)
        self.start()
        return code

    def faults(self, change: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET (no change) or POST the fault settings; returns the admin document."""
        return fault_settings(self.url, change)


@pytest.fixture(name="dms_local")
def dms_local_fixture(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocal]:
    # Short delays keep the lifecycle tests quick; the hold executor keeps started tasks running
    # (moving no data) so stop and restart behaviour can be tested without a database.
    with serving(tmp_path, monkeypatch, [*FAST_ARGS, "--test-executor", "hold"]) as server:
        yield server


@contextlib.contextmanager
def serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: Sequence[str]
) -> Iterator[DmsLocal]:
    """A dms-local on `args` with its state under `tmp_path` and its default key pair (and
    region) in the environment; leaving the block stops it, which must exit cleanly."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    binary = find_dms_local()
    if binary is None:
        raise RuntimeError("dms-local is not built: run `make bootstrap` or set DMS_LOCAL=/path")
    server = DmsLocal(binary, tmp_path / "state", list(args))
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            assert server.stop() == 0, "dms-local did not exit cleanly on SIGTERM"


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
