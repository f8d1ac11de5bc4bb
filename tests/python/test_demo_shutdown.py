"""The demo stops within its bound on SIGTERM whatever it is doing, and nothing it started
(dms-local, PostgreSQL, dg dev with its webserver, daemon and code servers) outlives it, even when
it or `make demo` is killed with SIGKILL. No browser needed; test_demo_browser.py covers Ctrl-C."""

from __future__ import annotations

import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo_run import STOP_BOUND_SECONDS, DemoRun

ROWS = 2000

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def demo_runs() -> Iterator[list[DemoRun]]:
    """The demos a test starts; torn down (and checked to leave nothing) however it ends."""
    runs: list[DemoRun] = []
    yield runs
    for run in runs:
        killed = run.teardown(signal.SIGKILL)
        assert not killed, f"processes of the demo survived it: {killed}\n{run.text()}"


def commands(run: DemoRun) -> str:
    return "\n".join(info.command for info in run.members())


def assert_the_demo_runs_everything(run: DemoRun) -> None:
    """What the kill tests must find (or they prove nothing): the demo's processes by name."""
    running = commands(run)
    for name in (
        "dms-local serve",
        "postgres -D",
        "dg dev",
        "dagster_webserver",
        "dagster._daemon",
    ):
        assert name in running, f"{name!r} is not running:\n{running}\n{run.text()}"


def assert_stopped_in_order(text: str, signal_name: str) -> None:
    assert f"demo: {signal_name} received: stopping everything" in text, text
    for line in ("change generator stopped", "dagster dev stopped", "dms-local stopped"):
        assert f"demo: {line}" in text, text
    assert "demo: PostgreSQL stopped" in text, text


def test_sigterm_while_dagster_dev_starts_stops_everything_within_the_bound(
    tmp_path: Path, demo_runs: list[DemoRun]
) -> None:
    run = DemoRun.start(tmp_path, rows=ROWS)
    demo_runs.append(run)
    # dg dev has just been started: its processes are coming up, the project is loading.
    run.wait_for(r"demo: starting dagster dev")
    signalled = time.monotonic()
    run.process.send_signal(signal.SIGTERM)

    code = run.wait_for_exit(STOP_BOUND_SECONDS)
    left = run.census.wait_until_gone(max(0.0, signalled + STOP_BOUND_SECONDS - time.monotonic()))

    assert code == 0, f"the demo did not exit within {STOP_BOUND_SECONDS} s:\n{run.text()}"
    assert not left, f"still running {STOP_BOUND_SECONDS} s after SIGTERM: {left}"
    assert_stopped_in_order(run.text(), "SIGTERM")


def test_sigkill_of_the_demo_leaves_nothing_running(
    tmp_path: Path, demo_runs: list[DemoRun]
) -> None:
    run = DemoRun.start(tmp_path, rows=ROWS)
    demo_runs.append(run)
    run.wait_for(r"DEMO READY")
    assert_the_demo_runs_everything(run)

    run.process.send_signal(signal.SIGKILL)
    run.process.wait()

    left = run.census.wait_until_gone(STOP_BOUND_SECONDS)
    assert not left, f"still running {STOP_BOUND_SECONDS} s after the demo's SIGKILL: {left}"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_sigkill_of_make_demo_stops_the_demo_and_everything_it_started(
    tmp_path: Path, demo_runs: list[DemoRun]
) -> None:
    # `make demo` as a user runs it, without its bootstrap prerequisite (the environment is
    # already built) and with this environment's Python.
    make = ["make", "--no-print-directory", "-o", "bootstrap", "demo", f"PYTHON={sys.executable}"]
    run = DemoRun.start(tmp_path, rows=ROWS, command=make)
    demo_runs.append(run)
    run.wait_for(r"DEMO READY")
    assert_the_demo_runs_everything(run)

    run.process.send_signal(signal.SIGKILL)  # make, the demo's parent
    run.process.wait()

    left = run.census.wait_until_gone(STOP_BOUND_SECONDS)
    assert not left, f"still running {STOP_BOUND_SECONDS} s after make's SIGKILL: {left}"
    # The demo stopped itself, in order, as on SIGTERM (not only its watchdog's last resort).
    assert_stopped_in_order(run.text(), "SIGTERM")
