"""Which processes belong to a run under test, read from /proc: for asserting that nothing a
launcher started survives it.

A run is recognised by a marker variable in its environment (every child inherits it) or by a
path in its command line (PostgreSQL rewrites its processes' environment area for `ps`, but the
postmaster's command line names its data directory), together with every process in the same
process groups (PostgreSQL backends, dg dev's webserver, daemon and code servers)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    start_ticks: int  # with the pid, identifies the process even if the pid is reused
    pgid: int
    state: str
    command: str

    def __str__(self) -> str:
        return f"{self.pid} (group {self.pgid}, state {self.state}): {self.command}"


def _read(pid: str, name: str) -> bytes:
    try:
        return (Path("/proc") / pid / name).read_bytes()
    except OSError:
        return b""


def _info(pid: str) -> ProcessInfo | None:
    stat = _read(pid, "stat").decode(errors="replace")
    if not stat:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    command = _read(pid, "cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
    return ProcessInfo(int(pid), int(fields[19]), int(fields[2]), fields[0], command)


def all_processes() -> dict[int, ProcessInfo]:
    found = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (info := _info(pid)) is not None:
            found[info.pid] = info
    return found


@dataclass(frozen=True)
class Census:
    """`marker` is NAME=VALUE as it appears in the environment; `paths` are strings whose
    presence in a command line marks the run's processes. `exclude` holds pids never counted
    (the test process itself, or the launcher the test reaps)."""

    marker: str
    paths: tuple[str, ...] = ()
    exclude: frozenset[int] = frozenset()

    def members(self) -> dict[int, ProcessInfo]:
        everything = all_processes()
        own_group = os.getpgrp()
        marked = {
            pid
            for pid, info in everything.items()
            if pid not in self.exclude
            and (
                self.marker.encode() in _read(str(pid), "environ").split(b"\0")
                or any(path in info.command for path in self.paths)
            )
        }
        groups = {everything[pid].pgid for pid in marked} - {own_group}
        return {
            pid: info
            for pid, info in everything.items()
            if pid not in self.exclude
            and pid != os.getpid()
            and (pid in marked or info.pgid in groups)
        }

    def wait_until_gone(self, timeout: float) -> list[ProcessInfo]:
        """Waits until no member is left; returns those still there at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            left = list(self.members().values())
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(0.2)

    def kill_all(self) -> list[ProcessInfo]:
        """SIGKILL to every member (the last resort of a teardown); returns whom it hit."""
        hit = list(self.members().values())
        for info in hit:
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGKILL)
        return hit
