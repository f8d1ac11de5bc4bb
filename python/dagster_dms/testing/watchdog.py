"""The watchdog that stops what a launcher started once the launcher is gone, however it went.

Run by :mod:`dagster_dms.testing.processes` as ``python -I watchdog.py LAUNCHER_PID`` in a session
of its own, with its standard input the read end of a pipe that only the launcher holds open. The
launcher writes one JSON object per line:

``{"op": "watch" | "forget", "kind": "group", "id": "<pgid>", "label": "dms-local"}``
    a process group the launcher started (each child is started in its own session);
``{"op": ..., "kind": "postmaster", "id": "<data directory>", ...}``
    a PostgreSQL server: ``pg_ctl`` daemonizes it, so it is found through ``postmaster.pid``
    when it is time to stop it (which also covers servers restarted under a new pid);
``{"op": ..., "kind": "directory", "id": "<path>", ...}``
    a directory to remove after everything is stopped.

The launcher forgets what it stops itself. End of file on the pipe means the launcher has exited
(the kernel closes the pipe even after SIGKILL): whatever is still watched gets SIGTERM
(PostgreSQL: SIGQUIT, its immediate shutdown), then SIGKILL after a grace period, and the
directories are removed. The script uses the standard library only, so it starts quickly.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

#: How long the watched processes get for a clean stop before SIGKILL.
GRACE_SECONDS = 5.0
#: How long, in all, the watchdog waits for them to go (SIGKILL is not always instant).
LIMIT_SECONDS = 15.0

Key = TypeVar("Key", int, str)


@dataclass
class Watched:
    groups: dict[int, str] = field(default_factory=dict)
    postmasters: dict[str, str] = field(default_factory=dict)
    directories: dict[str, str] = field(default_factory=dict)

    def apply(self, line: str) -> None:
        try:
            message = json.loads(line)
            op, kind, ident = message["op"], message["kind"], str(message["id"])
            label = str(message.get("label", ""))
            pgid = int(ident) if kind == "group" else 0
        except (ValueError, KeyError, TypeError):
            report(f"ignoring a malformed request: {line.strip()!r}")
            return
        watching = op == "watch"
        if kind == "group":
            update(self.groups, pgid, label, watching)
        elif kind == "postmaster":
            update(self.postmasters, ident, label, watching)
        elif kind == "directory":
            update(self.directories, ident, label, watching)
        else:
            report(f"ignoring an unknown kind {kind!r}")


def update(table: dict[Key, str], key: Key, label: str, watching: bool) -> None:
    if watching:
        table[key] = label
    else:
        table.pop(key, None)


def report(message: str) -> None:
    with_prefix = f"dagster-dms watchdog: {message}\n"
    # Nobody may be listening any more; the work still has to be done.
    with contextlib.suppress(OSError):
        os.write(2, with_prefix.encode(errors="replace"))


def group_alive(pgid: int) -> bool:
    """Whether any process (a zombie included) is still in process group `pgid`."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def postmaster_pid(data_directory: str) -> int | None:
    """The running postmaster of `data_directory`, checked against its command line so that a
    stale pid file never points the watchdog at an unrelated process."""
    try:
        pid = int((Path(data_directory) / "postmaster.pid").read_text().splitlines()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError, IndexError):
        return None
    return pid if data_directory in command else None


def signal_postmaster(pid: int, sig: int) -> None:
    try:
        # pg_ctl starts the postmaster in its own session; its backends share its group.
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop_everything(watched: Watched) -> None:
    started = time.monotonic()
    soft_sent: set[object] = set()
    while True:
        elapsed = time.monotonic() - started
        hard = elapsed >= GRACE_SECONDS
        groups = {pgid: label for pgid, label in watched.groups.items() if group_alive(pgid)}
        postmasters = {
            pid: label
            for directory, label in watched.postmasters.items()
            if (pid := postmaster_pid(directory)) is not None
        }
        if not groups and not postmasters:
            break
        if elapsed >= LIMIT_SECONDS:
            left = [*groups.values(), *postmasters.values()]
            report(f"giving up after {LIMIT_SECONDS:.0f} s; still running: {', '.join(left)}")
            break
        for pgid, label in groups.items():
            if hard or ("group", pgid) not in soft_sent:
                sig = signal.SIGKILL if hard else signal.SIGTERM
                report(f"sending {sig.name} to {label or 'process group'} (group {pgid})")
                soft_sent.add(("group", pgid))
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, sig)
        for pid, label in postmasters.items():
            if hard or ("postmaster", pid) not in soft_sent:
                sig = signal.SIGKILL if hard else signal.SIGQUIT
                report(f"sending {sig.name} to {label or 'PostgreSQL'} (pid {pid})")
                soft_sent.add(("postmaster", pid))
                signal_postmaster(pid, sig)
        time.sleep(0.1)
    for directory in watched.directories:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> int:
    launcher = sys.argv[1] if len(sys.argv) > 1 else "?"
    # Ctrl-C in a terminal reaches the launcher's group, not this session; be sure anyway.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watched = Watched()
    for line in sys.stdin:
        watched.apply(line)
    if watched.groups or watched.postmasters:
        labels = [*watched.groups.values(), *watched.postmasters.values()]
        report(f"process {launcher} exited; stopping what it started: {', '.join(labels)}")
    stop_everything(watched)
    return 0


if __name__ == "__main__":
    sys.exit(main())
