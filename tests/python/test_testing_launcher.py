"""The one dms-local launcher of dagster_dms.testing (DmsLocalServer), as tests and benchmarks
start it: the port file beside the state, early exits, restarts and the fault admin."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import local_client


def test_a_server_that_exits_at_once_says_so_and_leaves_nothing_running(tmp_path: Path) -> None:
    server = DmsLocalServer(tmp_path / "state", extra_args=["--no-such-option"])
    with pytest.raises(RuntimeError, match=r"dms-local exited early with code [1-9]"):
        server.start()
    assert not server.running
    assert server.stop() == 0  # nothing left to stop
    with pytest.raises(RuntimeError, match="call start"):
        _ = server.url


def test_port_file_restart_and_faults(tmp_path: Path, aws_env: Path) -> None:
    with DmsLocalServer(tmp_path / "state", extra_args=["--log-level", "warning"]) as server:
        assert server.port_file == tmp_path / "state.port"
        assert server.port_file.read_text().strip() == str(server.port)
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert Path(f"/proc/{server.pid}").exists()
        local_client(server.url).describe_account_attributes()
        assert server.faults()["counters"]["requests"] == 1
        assert server.faults({"reset_counters": True})["counters"]["requests"] == 0
        first_pid = server.pid
        assert server.restart() == 0
        assert server.pid != first_pid
        assert server.port_file.read_text().strip() == str(server.port)
        local_client(server.url).describe_account_attributes()
    assert not server.running
