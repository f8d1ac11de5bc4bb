"""The counting proxy (dagster_dms.testing.counting_proxy) as a child process of a benchmark, so
that the CPU time the benchmark measures in its own process is not inflated by the proxy's
threads."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


class ProxyProcess:
    """The proxy as a child process; ``counts(reset=True)`` reads and clears its counters."""

    def __init__(self, upstream: str, work_dir: Path) -> None:
        port_file = work_dir / "proxy.port"
        port_file.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dagster_dms.testing.counting_proxy", upstream, str(port_file)]
        )
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the counting proxy did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{int(port_file.read_text().strip())}"

    def counts(self, reset: bool = False) -> dict[str, int]:
        suffix = "?reset=1" if reset else ""
        with urllib.request.urlopen(f"{self.url}/_counts{suffix}", timeout=30) as response:
            counts: dict[str, int] = json.loads(response.read())
        return counts

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
