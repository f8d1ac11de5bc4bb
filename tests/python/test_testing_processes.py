"""Nothing that dagster_dms.testing starts outlives its launcher: bounded, escalating stops of whole
process groups; dms-local's opt-in parent-death signal; and the watchdog that stops dms-local and
PostgreSQL (and removes the cluster's files) when the launcher is killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagster_dms.testing import find_dms_local, processes
from dagster_dms.testing.dms_local import STOP_WITH_PARENT_VARIABLE
from process_census import Census

#: Generous for a loaded machine; conditions are polled, so a quick stop ends the wait early.
DEADLINE = 30.0


@pytest.fixture
def census_marker() -> str:
    return f"DAGSTER_DMS_PROCESS_TEST={uuid.uuid4().hex}"


@pytest.fixture
def launchers(census_marker: str) -> Iterator[list[subprocess.Popen[str]]]:
    """Launcher processes a test starts (each in its own session, with the census marker);
    afterwards none of them, nor anything they started, may be left."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for launcher in started:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
    census = Census(census_marker, exclude=frozenset(p.pid for p in started))
    left = census.wait_until_gone(DEADLINE)
    killed = census.kill_all()
    assert not left, f"left behind: {killed}"


def start_launcher(
    launchers: list[subprocess.Popen[str]], marker: str, source: str, *args: str
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Runs `source` in a Python process that prints one JSON line once it has started what it
    launches, then waits for the test to kill it."""
    name, value = marker.split("=", 1)
    launcher = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(source), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, name: value},
        start_new_session=True,
    )
    launchers.append(launcher)
    assert launcher.stdout is not None
    line = launcher.stdout.readline()
    assert line, f"the launcher exited with code {launcher.wait()} before it was ready"
    return launcher, json.loads(line)


SERVERS_LAUNCHER = """
    import json, sys
    from pathlib import Path
    from dagster_dms.testing import DmsLocalServer, PgCluster

    pg = PgCluster()
    pg.start()
    dms = DmsLocalServer(Path(sys.argv[1]))
    dms.start()
    print(json.dumps({"datadir": str(pg.datadir), "dms_local": dms.process.pid}), flush=True)
    sys.stdin.read()  # until the test kills this process
"""


def test_a_launcher_killed_with_sigkill_leaves_no_server_and_no_cluster_files(
    tmp_path: Path, census_marker: str, launchers: list[subprocess.Popen[str]]
) -> None:
    launcher, started = start_launcher(
        launchers, census_marker, SERVERS_LAUNCHER, str(tmp_path / "state")
    )
    datadir = Path(started["datadir"])
    census = Census(census_marker, paths=(str(datadir),), exclude=frozenset({launcher.pid}))
    running = "\n".join(info.command for info in census.members().values())
    for name in ("dms-local serve", f"postgres -D {datadir}", "watchdog.py"):
        assert name in running, f"{name!r} is not running:\n{running}"

    launcher.kill()
    launcher.wait()

    assert census.wait_until_gone(DEADLINE) == []
    assert not datadir.parent.exists(), "the cluster's directory outlived its launcher"


BLOCKING_TEST = """
    import sys


    def test_blocks(dms_local, dms_local_postgres):
        print("READY", dms_local_postgres.datadir, flush=True)
        sys.stdin.read()  # until the test kills pytest
"""


def test_a_killed_pytest_leaves_nothing_of_the_plugin_fixtures(
    tmp_path: Path, census_marker: str, launchers: list[subprocess.Popen[str]]
) -> None:
    (tmp_path / "test_blocking.py").write_text(textwrap.dedent(BLOCKING_TEST))
    name, value = census_marker.split("=", 1)
    pytest_process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "test_blocking.py"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, name: value},
        start_new_session=True,
    )
    launchers.append(pytest_process)
    assert pytest_process.stdout is not None
    for line in pytest_process.stdout:
        if line.startswith("READY"):
            break
    else:
        raise AssertionError(f"pytest exited with code {pytest_process.wait()} before the test ran")
    datadir = line.split(maxsplit=1)[1].strip()
    census = Census(census_marker, paths=(datadir,), exclude=frozenset({pytest_process.pid}))
    running = "\n".join(info.command for info in census.members().values())
    assert "dms-local serve" in running and f"postgres -D {datadir}" in running, running

    pytest_process.kill()
    pytest_process.wait()

    assert census.wait_until_gone(DEADLINE) == []
    assert not Path(datadir).exists()


DMS_LOCAL_ALONE_LAUNCHER = """
    import json, os, subprocess, sys, time
    from pathlib import Path

    binary, state, variable = sys.argv[1:4]
    port_file = Path(state + ".port")
    with open(state + ".log", "wb") as log:
        server = subprocess.Popen(
            [binary, "serve", "--port", "0", "--port-file", str(port_file), "--state-dir", state],
            stdout=log, stderr=log, start_new_session=True,
            env={**os.environ, variable: str(os.getpid())},
        )
    deadline = time.monotonic() + 60
    while not port_file.exists():
        assert server.poll() is None and time.monotonic() < deadline, "dms-local did not start"
        time.sleep(0.02)
    print(json.dumps({"dms_local": server.pid}), flush=True)
    sys.stdin.read()  # until the test kills this process
"""


def test_dms_local_asked_to_stop_with_its_parent_stops_cleanly_when_it_is_killed(
    tmp_path: Path, census_marker: str, launchers: list[subprocess.Popen[str]]
) -> None:
    # No watchdog here: only the kernel's parent-death signal can stop this dms-local.
    binary = find_dms_local()
    assert binary is not None
    state = tmp_path / "state"
    launcher, started = start_launcher(
        launchers,
        census_marker,
        DMS_LOCAL_ALONE_LAUNCHER,
        binary,
        str(state),
        STOP_WITH_PARENT_VARIABLE,
    )
    census = Census(census_marker, exclude=frozenset({launcher.pid}))
    assert started["dms_local"] in census.members()

    launcher.kill()
    launcher.wait()

    assert census.wait_until_gone(DEADLINE) == []
    log = (tmp_path / "state.log").read_text()
    assert "dms-local stopped" in log, log  # SIGTERM: the ordinary clean shutdown


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1", f"{STOP_WITH_PARENT_VARIABLE}=1 is not the process that started dms-local"),
        ("abc", f"{STOP_WITH_PARENT_VARIABLE} must be the launching process's pid, not 'abc'"),
    ],
)
def test_dms_local_refuses_a_parent_that_is_not_its_parent(
    tmp_path: Path, value: str, message: str
) -> None:
    binary = find_dms_local()
    assert binary is not None
    result = subprocess.run(
        [binary, "serve", "--port", "0", "--state-dir", str(tmp_path / "state")],
        env={**os.environ, STOP_WITH_PARENT_VARIABLE: value},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert message in result.stderr


STUBBORN = """
    import signal, subprocess, sys
    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    # A grandchild in the same process group, as dg dev's webserver and daemon are; it ends on
    # SIGINT (Python's default) and prints its pid once it runs.
    subprocess.Popen([sys.executable, "-c",
                      "import os, signal; print(os.getpid(), flush=True); signal.pause()"])
    sys.stdin.read()
"""


def test_stop_escalates_to_sigkill_of_the_whole_group(census_marker: str) -> None:
    name, value = census_marker.split("=", 1)
    child = processes.spawn(
        [sys.executable, "-c", textwrap.dedent(STUBBORN)],
        label="stubborn",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, name: value},
    )
    try:
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())  # the signal handlers are in place
        heard: list[str] = []
        steps = [(signal.SIGINT, 1.0), (signal.SIGTERM, 1.0), (signal.SIGKILL, DEADLINE)]

        code = processes.stop(child, "stubborn", steps, heard.append)

        assert code == -signal.SIGKILL
        assert not processes.group_alive(child.pid)
        assert grandchild not in Census(census_marker).members()
        assert heard == [
            f"stopping stubborn: SIGINT to its process group {child.pid}",
            "stubborn still running after 1 s: SIGTERM to its process group",
            "stubborn still running after 2 s: SIGKILL to its process group",
        ]
    finally:
        if processes.group_alive(child.pid):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


LEAVES_A_CHILD = """
    import subprocess, sys
    # The grandchild prints its pid once it ignores SIGTERM; the child ends on SIGTERM.
    subprocess.Popen([sys.executable, "-c", "import os, signal; "
                      "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                      "print(os.getpid(), flush=True); signal.pause()"])
    sys.stdin.read()
"""


def test_stop_waits_for_the_group_not_only_for_the_child(census_marker: str) -> None:
    # The child exits on SIGTERM; the grandchild it leaves behind does not (a code server that
    # outlives dg dev): the group is not empty until SIGKILL.
    name, value = census_marker.split("=", 1)
    child = processes.spawn(
        [sys.executable, "-c", textwrap.dedent(LEAVES_A_CHILD)],
        label="parent",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, name: value},
    )
    try:
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())
        heard: list[str] = []

        code = processes.stop(
            child, "parent", [(signal.SIGTERM, 1.0), (signal.SIGKILL, DEADLINE)], heard.append
        )

        assert code == -signal.SIGTERM
        assert heard[-1] == "parent still running after 1 s: SIGKILL to its process group"
        assert grandchild not in Census(census_marker).members()
        assert not processes.group_alive(child.pid)
    finally:
        if processes.group_alive(child.pid):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
