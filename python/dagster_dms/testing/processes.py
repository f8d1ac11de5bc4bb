"""Child processes that never outlive the process that started them.

Servers started for tests and for the demo (``dms-local``, PostgreSQL, ``dg dev``) must not be left
running when their launcher goes away, whether it returns, raises, is interrupted or is killed
with SIGKILL. Three measures, from the most to the least orderly:

- :func:`stop` stops a child with bounded waits that escalate (say SIGINT, SIGTERM, then SIGKILL),
  each sent to the child's whole process group, and returns once the group is empty: every child
  is started in a session (and so a process group) of its own by :func:`spawn`, so the group
  holds exactly what the child started (``dg dev``'s webserver, daemon and code servers).
- Native servers can ask the kernel to signal them when their launcher dies
  (``dms-local`` does when ``DMS_LOCAL_STOP_WITH_PARENT`` is set; see
  :mod:`dagster_dms.testing.dms_local`).
- Everything :func:`spawn` starts (and each PostgreSQL server, see :func:`watch_postmaster`) is
  also registered with a small watchdog process, one per launcher process, that holds the read
  end of a pipe only the launcher can write to. When the launcher is gone the kernel closes the
  pipe and the watchdog stops whatever is still registered (see
  :mod:`dagster_dms.testing.watchdog`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dagster_dms.testing.watchdog import group_alive, postmaster_pid, signal_postmaster

__all__ = [
    "forget_directory",
    "forget_postmaster",
    "group_alive",
    "kill_all_now",
    "spawn",
    "stop",
    "watch_directory",
    "watch_postmaster",
]

WATCHDOG_SCRIPT = Path(__file__).with_name("watchdog.py")

#: The default escalation of :func:`stop`: each signal, then how long to wait for the group to go.
DEFAULT_STEPS: tuple[tuple[signal.Signals, float], ...] = (
    (signal.SIGTERM, 20.0),
    (signal.SIGKILL, 10.0),
)


class _WatchdogLink:
    """This process's end of the pipe to its watchdog, started on first use.

    Requests are single ``os.write`` calls of one line (shorter than PIPE_BUF, so atomic). A
    forked child closes its inherited copy of the pipe at once: otherwise the watchdog would wait
    for that child too before it saw the launcher go."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd = -1
        self._process: subprocess.Popen[bytes] | None = None
        self._watched: dict[tuple[str, str], str] = {}

    def watch(self, kind: str, ident: str, label: str) -> None:
        with self._lock:
            self._watched[(kind, ident)] = label
            self._send({"op": "watch", "kind": kind, "id": ident, "label": label})

    def forget(self, kind: str, ident: str) -> None:
        with self._lock:
            if self._watched.pop((kind, ident), None) is not None:
                self._send({"op": "forget", "kind": kind, "id": ident})

    def watched(self) -> dict[tuple[str, str], str]:
        with self._lock:
            return dict(self._watched)

    def _send(self, message: dict[str, str]) -> None:
        if self._fd < 0 or self._process is None or self._process.poll() is not None:
            self._start()  # sends everything watched, this message included
            return
        try:
            os.write(self._fd, (json.dumps(message) + "\n").encode())
        except OSError:
            self._start()

    def _start(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        read_end, write_end = os.pipe()  # both close on exec: no other child inherits them
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", str(WATCHDOG_SCRIPT), str(os.getpid())],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        self._fd = write_end
        for (kind, ident), label in self._watched.items():
            message = {"op": "watch", "kind": kind, "id": ident, "label": label}
            os.write(self._fd, (json.dumps(message) + "\n").encode())

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = -1
        self._process = None
        self._watched = {}


_LINK = _WatchdogLink()
os.register_at_fork(after_in_child=_LINK.after_fork_in_child)


def spawn(args: Sequence[str], *, label: str, **popen_kwargs: Any) -> subprocess.Popen[bytes]:
    """Starts `args` in a new session (its own process group), registered with the watchdog.

    `label` names it in messages. `popen_kwargs` go to :class:`subprocess.Popen`; standard input
    is ``/dev/null`` unless given. Stop it with :func:`stop`."""
    popen_kwargs.setdefault("stdin", subprocess.DEVNULL)
    process = subprocess.Popen(list(args), start_new_session=True, **popen_kwargs)
    _LINK.watch("group", str(process.pid), f"{label} (pid {process.pid})")
    return process


def wait_for_port_file(
    process: subprocess.Popen[bytes], port_file: Path, label: str, timeout: float
) -> int:
    """The port a server started by :func:`spawn` writes to ``port_file`` once it listens.

    Raises RuntimeError when the process exits first, TimeoutError (after stopping it with
    SIGKILL) when no port is written within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (port_file.exists() and port_file.read_text().strip()):
        if process.poll() is not None:
            raise RuntimeError(f"{label} exited early with code {process.returncode}")
        if time.monotonic() > deadline:
            stop(process, label, [(signal.SIGKILL, 30.0)])
            raise TimeoutError(f"{label} did not listen within {timeout:g} s")
        time.sleep(0.02)
    return int(port_file.read_text().strip())


def _wait_gone(process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        process.poll()  # reaps the leader, so that a zombie does not keep the group alive
        if process.returncode is not None and not group_alive(process.pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def stop(
    process: subprocess.Popen[bytes],
    label: str,
    steps: Sequence[tuple[signal.Signals, float]] = DEFAULT_STEPS,
    log: Callable[[str], None] | None = None,
) -> int | None:
    """Stops a child that :func:`spawn` started and everything in its process group.

    Each step sends its signal to the group, then waits up to its timeout for the group to be
    empty; a step is skipped once it is. `log` (if given) hears what is sent and why. Returns the
    child's exit code (negative: the signal that ended it), or None when even the last step did
    not end it (the watchdog still has it and tries again when this process exits)."""
    waited = 0.0
    for index, (sig, timeout) in enumerate(steps):
        if _wait_gone(process, 0):
            break
        if log is not None:
            if index == 0:
                log(f"stopping {label}: {sig.name} to its process group {process.pid}")
            else:
                log(f"{label} still running after {waited:.0f} s: {sig.name} to its process group")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        if _wait_gone(process, timeout):
            break
        waited += timeout
    if not _wait_gone(process, 0):
        if log is not None:
            log(f"{label} (process group {process.pid}) did not stop")
        return None
    _LINK.forget("group", str(process.pid))
    return process.returncode


def watch_postmaster(data_directory: Path, label: str = "PostgreSQL") -> None:
    """Registers the PostgreSQL server of `data_directory` with the watchdog (it is found through
    its ``postmaster.pid`` when needed, so restarts under a new pid stay covered)."""
    _LINK.watch("postmaster", str(data_directory), f"{label} ({data_directory})")


def forget_postmaster(data_directory: Path) -> None:
    _LINK.forget("postmaster", str(data_directory))


def watch_directory(path: Path) -> None:
    """Asks the watchdog to remove `path` after it has stopped everything (if it has to)."""
    _LINK.watch("directory", str(path), str(path))


def forget_directory(path: Path) -> None:
    _LINK.forget("directory", str(path))


def kill_all_now() -> None:
    """SIGKILL to every process group and PostgreSQL server still registered: the last resort of
    a launcher that must exit at once (the watchdog then only removes directories)."""
    for (kind, ident), _label in _LINK.watched().items():
        if kind == "group":
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(ident), signal.SIGKILL)
        elif kind == "postmaster":
            pid = postmaster_pid(ident)
            if pid is not None:
                signal_postmaster(pid, signal.SIGKILL)
