"""`scripts/demo.py` (or `make demo`) as a process under test: started with a marker in its
environment, read through its output file, and stopped by a teardown that never leaves a
process behind, whatever happened in the test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO_ROOT, free_port
from process_census import Census, ProcessInfo

#: What the demo promises: everything it started is gone this long after SIGINT or SIGTERM.
STOP_BOUND_SECONDS = 30.0
#: How long a loaded machine may take to bring the demo up to `dg dev` serving the project.
READY_SECONDS = 420.0
MARKER_VARIABLE = "DAGSTER_DMS_DEMO_RUN"


@dataclass
class DemoRun:
    process: subprocess.Popen[bytes]
    work_dir: Path
    output: Path
    census: Census

    @classmethod
    def start(
        cls,
        tmp_path: Path,
        *,
        rows: int,
        change_interval: float = 0.5,
        command: Sequence[str] | None = None,
    ) -> DemoRun:
        """Starts the demo in a session of its own; `command` replaces `python scripts/demo.py`
        (e.g. to start it through make)."""
        tmp_path.chmod(0o755)  # the postgres user must reach the cluster under it
        work_dir = tmp_path / "work"
        output = tmp_path / "demo.out"
        marker = f"{MARKER_VARIABLE}={uuid.uuid4().hex}"
        env = {
            **os.environ,
            "DEMO_ROWS": str(rows),
            "DEMO_DIR": str(work_dir),
            "DEMO_PORT": str(free_port()),
            "DEMO_DMS_PORT": "0",
            "DEMO_CHANGE_INTERVAL": str(change_interval),
            MARKER_VARIABLE: marker.split("=", 1)[1],
        }
        with output.open("wb") as sink:
            process = subprocess.Popen(
                list(command or [sys.executable, str(REPO_ROOT / "scripts" / "demo.py")]),
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        census = Census(marker, paths=(str(work_dir),), exclude=frozenset({process.pid}))
        return cls(process, work_dir, output, census)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = READY_SECONDS) -> re.Match[str]:
        """Waits until the output matches `pattern` (the demo must keep running meanwhile)."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.text())) is None:
            assert self.process.poll() is None, f"the demo exited early:\n{self.text()}"
            assert time.monotonic() < deadline, f"no {pattern!r} within {timeout} s:\n{self.text()}"
            time.sleep(0.5)
        return found

    def members(self) -> list[ProcessInfo]:
        return list(self.census.members().values())

    def wait_for_exit(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def teardown(self, sig: signal.Signals = signal.SIGINT) -> list[ProcessInfo]:
        """Stops the demo whatever state it is in: `sig`, then (past the demo's own bound, with
        room for a loaded machine) SIGKILL of its session, then SIGKILL of anything of the run
        still there. Returns the processes the last step had to kill: an empty list is the
        only good outcome."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            if self.wait_for_exit(2 * STOP_BOUND_SECONDS) is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # What the demo started has its own sessions; its watchdog stops them once it is gone.
        if not self.census.wait_until_gone(STOP_BOUND_SECONDS):
            return []
        return self.census.kill_all()
