"""Shared pieces of the benchmarks: the machine description, how a benchmark starts dms-local
(dagster_dms.testing's server, quiet and logging to a file), a peak-memory poller, per-process
CPU time, and the median-and-spread of repeated runs."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dagster_dms.testing.account import local_client
from dagster_dms.testing.dms_local import DmsLocalServer

REPO_ROOT = Path(__file__).resolve().parents[1]
QUIET_ARGS = ["--log-level", "warning"]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_ints(name: str, default: list[int]) -> list[int]:
    """A comma-separated list of integers (BENCH_ROWS=1000000,10000000)."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return [int(part) for part in value.replace(" ", "").split(",") if part]
    except ValueError:
        raise SystemExit(f"{name}={value!r}: expected integers separated by commas") from None


def spread(values: list[float]) -> dict[str, float]:
    """Median, minimum and maximum of repeated runs: the figure and how far the runs strayed."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (p99 of 100 values is the 99th)."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # After the command name: state is field 3, utime field 14 and stime field 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def machine() -> dict[str, Any]:
    """nproc, memory, CPU model, kernel and load: what a reader needs to weigh the figures."""
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    pg = ""
    try:
        from dagster_dms.testing.postgres import find_bindir

        out = subprocess.run(
            [str(find_bindir() / "postgres"), "--version"], capture_output=True, text=True
        )
        pg = out.stdout.strip()
    except Exception:
        pg = "unknown"
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": cpu_model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres": pg,
        "load_average": load_average(),
    }


def dms_client(url: str) -> Any:
    """A boto3 DMS client on the dms-local at `url`, with its default key pair."""
    return local_client(url, max_attempts=3)


#: Short resource delays: a benchmark measures the data plane, not DMS's pace.
SHORT_DELAY_ARGS = [
    *("--instance-create-delay-ms", "10"),
    *("--task-create-delay-ms", "10"),
    *("--task-start-delay-ms", "10"),
]


def server_args(extra_args: Sequence[str] = ()) -> list[str]:
    """The ``dms-local serve`` arguments of a benchmark: warnings only, then ``extra_args``."""
    return [*QUIET_ARGS, *extra_args]


def bench_server(state_dir: Path, extra_args: Sequence[str] = ()) -> DmsLocalServer:
    """dms-local for a benchmark: warnings only, its output in ``<state dir>.log`` beside the
    state, and up to 600 s to start (a large ``--seed`` file takes a while)."""
    return DmsLocalServer(
        state_dir,
        extra_args=server_args(extra_args),
        log_file=state_dir.parent / f"{state_dir.name}.log",
        start_timeout=600,
    )


class PeakMemory:
    """Polls /proc/<pid>/status while running: VmHWM (the kernel's own peak RSS) and VmRSS."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.hwm_kib = 0
        self.max_rss_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> None:
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                self.hwm_kib = max(self.hwm_kib, int(line.split()[1]))
            elif line.startswith("VmRSS:"):
                self.max_rss_kib = max(self.max_rss_kib, int(line.split()[1]))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._read()
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._read()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()
