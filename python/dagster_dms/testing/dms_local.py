"""A ``dms-local`` process for tests and demos: a free loopback port and its own state directory."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dagster_dms.client import DmsClient
from dagster_dms.testing import processes

#: dms-local's default key pair (the local-emulator convention); never valid on AWS.
LOCAL_ACCESS_KEY_ID = "test"
LOCAL_SECRET_ACCESS_KEY = "test"
LOCAL_REGION = "us-east-1"

#: Short resource delays that keep tests quick (the defaults mimic DMS's pace).
FAST_ARGS: tuple[str, ...] = (
    "--instance-create-delay-ms",
    "100",
    "--task-create-delay-ms",
    "100",
    "--task-start-delay-ms",
    "100",
)


#: Set to the launcher's pid, dms-local stops (SIGTERM) when that process dies, even by SIGKILL.
STOP_WITH_PARENT_VARIABLE = "DMS_LOCAL_STOP_WITH_PARENT"


def stop_with_parent_environment() -> dict[str, str]:
    """The environment variable that makes a dms-local started from here stop when this process
    dies. The kernel signals it when the *thread* that started it ends, so only the main thread
    (which lives as long as the process) asks for it; the watchdog of
    :mod:`dagster_dms.testing.processes` covers the others."""
    if threading.current_thread() is threading.main_thread():
        return {STOP_WITH_PARENT_VARIABLE: str(os.getpid())}
    return {}


def fault_settings(url: str, change: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reads (``change`` None: GET) or changes (POST) the fault settings of the dms-local at
    ``url`` through its unsigned admin endpoint ``/_dms-local/faults``; returns the settings and
    the counters of the faults met so far."""
    data = None if change is None else json.dumps(change).encode()
    request = urllib.request.Request(
        f"{url}/_dms-local/faults", data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        document: dict[str, Any] = json.load(response)
    return document


def find_dms_local() -> str | None:
    """The ``dms-local`` executable: ``$DMS_LOCAL`` when set, else the one installed beside the
    running Python (the environment's ``bin``), else the first on ``PATH``."""
    override = os.environ.get("DMS_LOCAL")
    if override:
        return override
    return shutil.which("dms-local", path=str(Path(sys.executable).parent)) or shutil.which(
        "dms-local"
    )


class DmsLocalServer:
    """One ``dms-local serve`` process on 127.0.0.1.

    ``port=0`` (the default) lets the server pick a free port; :attr:`url` is known once
    :meth:`start` returns. The state directory survives :meth:`stop`, so :meth:`restart` keeps
    every resource. Use it as a context manager or call :meth:`start` / :meth:`stop`.

    The server runs in a session of its own and never outlives this process: it stops when this
    process dies, even by SIGKILL (see :mod:`dagster_dms.testing.processes`).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        extra_args: Sequence[str] = (),
        binary: str | None = None,
        log_file: Path | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        found = binary or find_dms_local()
        if found is None:
            raise FileNotFoundError(
                "dms-local is not installed in this environment: `pip install dagster-dms` "
                "installs it, or set DMS_LOCAL=/path/to/dms-local"
            )
        self.binary = found
        self.state_dir = Path(state_dir)
        self.requested_port = port
        self.extra_args = list(extra_args)
        self.log_file = log_file
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        # A wildcard bind (with --allow-remote) is reached through loopback from here.
        self.host = host
        self.region = LOCAL_REGION
        self.access_key_id = LOCAL_ACCESS_KEY_ID
        self.secret_access_key = LOCAL_SECRET_ACCESS_KEY

    @property
    def url(self) -> str:
        """The endpoint URL to give boto3, ``DmsClient`` or ``AWS_ENDPOINT_URL``."""
        if not self.port:
            raise RuntimeError("dms-local is not running: call start() first")
        reach = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{reach}:{self.port}"

    @property
    def port_file(self) -> Path:
        """Where the server writes the port it listens on: beside the state directory."""
        return self.state_dir.parent / f"{self.state_dir.name}.port"

    def start(self) -> None:
        """Starts the process and returns once it listens."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.port_file
        port_file.unlink(missing_ok=True)
        output: Any = None
        if self.log_file is not None:
            output = self.log_file.open("ab")
        try:
            self.process = processes.spawn(
                [
                    self.binary,
                    "serve",
                    "--host",
                    self.host,
                    "--port",
                    str(self.requested_port),
                    "--port-file",
                    str(port_file),
                    "--state-dir",
                    str(self.state_dir),
                    *self.extra_args,
                ],
                label="dms-local",
                stdout=output,
                stderr=output,
                env={**os.environ, **stop_with_parent_environment()},
            )
        finally:
            if output is not None:
                output.close()
        process = self.process
        try:
            self.port = processes.wait_for_port_file(
                process, port_file, "dms-local", self.start_timeout
            )
        except (RuntimeError, TimeoutError):
            self.process = None
            raise

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signals the process (SIGTERM: a clean shutdown) and returns its exit code. Should it
        not exit within `timeout`, its process group gets SIGKILL and TimeoutExpired is raised."""
        if self.process is None:
            return 0
        process, self.process = self.process, None
        self.port = 0
        code = processes.stop(process, "dms-local", [(sig, timeout)])
        if code is None:
            processes.stop(process, "dms-local", [(signal.SIGKILL, 30.0)])
            raise subprocess.TimeoutExpired(process.args, timeout)
        return code

    def restart(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Stops and starts again on a new port with the same state; returns the exit code."""
        code = self.stop(sig)
        self.start()
        return code

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        """The server's process id (to read its CPU time or memory from /proc)."""
        if self.process is None:
            raise RuntimeError("dms-local is not running: call start() first")
        return self.process.pid

    def faults(self, change: dict[str, Any] | None = None) -> dict[str, Any]:
        """The fault settings and counters (see :func:`fault_settings`), changed first when
        ``change`` is given."""
        return fault_settings(self.url, change)

    def environment(self) -> dict[str, str]:
        """The environment variables that point AWS SDKs, ``dmsctl`` and the component here."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def client_settings(self) -> dict[str, Any]:
        """The keyword arguments that point boto3 or :class:`~dagster_dms.DmsClient` here."""
        return {
            "endpoint_url": self.url,
            "region_name": self.region,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }

    def boto3_client(self, service: str = "dms", **kwargs: Any) -> Any:
        """A boto3 client on this server (``boto3`` must be installed); ``kwargs`` win."""
        try:
            boto3: Any = importlib.import_module("boto3")  # optional; untyped
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("boto3_client() needs boto3: pip install boto3") from error
        return boto3.client(service, **{**self.client_settings(), **kwargs})

    def dms_client(self, **kwargs: Any) -> DmsClient:
        """A :class:`~dagster_dms.DmsClient` on this server; ``kwargs`` win."""
        return DmsClient(**{**self.client_settings(), **kwargs})

    def __enter__(self) -> DmsLocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        url = self.url if self.port else None
        return f"DmsLocalServer(url={url!r}, state_dir={self.state_dir})"
