"""Throw-away MariaDB servers: a data directory in a temporary directory, served on a free loopback
port, with the binary log on in ROW format with FULL row images (what DMS needs to capture changes).

MariaDB refuses to run as root, so when the tests run as root the server and ``mariadb-install-db``
run as the ``mysql`` system user (the Debian package creates it) and the directory belongs to it.
``root`` has no password and is reachable over the socket and 127.0.0.1 only: the server lives for
one test session. The server is started with :func:`dagster_dms.testing.processes.spawn`, so it
never outlives the process that started it, even when that process is killed, and its directory
is removed with it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from dagster_dms.testing import processes
from dagster_dms.testing.postgres import _free_port as free_port

SERVER_USER = "mysql"


def find_server() -> Path:
    """The MariaDB server binary (Debian's layout first, then PATH)."""
    for candidate in (Path("/usr/sbin/mariadbd"), Path("/usr/sbin/mysqld")):
        if candidate.exists():
            return candidate
    found = shutil.which("mariadbd") or shutil.which("mysqld")
    if found:
        return Path(found)
    raise FileNotFoundError("no MariaDB server (mariadbd) found; install `mariadb-server`")


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def quote_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


class MariaDbCluster:
    """One MariaDB server process with its own data directory, socket and port.

    ``settings`` are extra server options (``{"binlog_format": "STATEMENT"}``); ``log_bin=False``
    starts it without a binary log. Use it as a context manager, or call :meth:`start` and
    :meth:`stop`; stopping removes every file the server made."""

    def __init__(
        self,
        base_dir: Path | None = None,
        settings: dict[str, str] | None = None,
        log_bin: bool = True,
    ) -> None:
        self.server = find_server()
        self.host = "127.0.0.1"
        self.port = 0
        self.user = "root"
        self.password = ""
        self._settings = dict(settings or {})
        self._log_bin = log_bin
        self._root = Path(tempfile.mkdtemp(prefix="mariadb-cluster-", dir=base_dir))
        self.datadir = self._root / "data"
        self.socket_path = self._root / "mariadb.sock"
        self.logfile = self._root / "server.log"
        self._as_server_user = os.geteuid() == 0
        self._process: subprocess.Popen[bytes] | None = None
        processes.watch_directory(self._root)

    # -- process plumbing -------------------------------------------------------------------

    def _account_kwargs(self) -> dict[str, Any]:
        if not self._as_server_user:
            return {}
        account = pwd.getpwnam(SERVER_USER)
        return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def server_log_tail(self, lines: int = 30) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _server_args(self) -> list[str]:
        args = [
            str(self.server),
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket_path}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            f"--log-error={self.logfile}",
            f"--pid-file={self._root / 'mariadbd.pid'}",
            "--innodb-buffer-pool-size=64M",
            # Durable enough for a server process killed by a test (the OS keeps the writes),
            # and much quicker on a shared machine.
            "--innodb-flush-log-at-trx-commit=2",
            "--sync-binlog=0",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--default-time-zone=+00:00",
        ]
        if self._log_bin:
            args += [
                "--log-bin=mariadb-bin",
                "--server-id=1",
                "--binlog-format=ROW",
                "--binlog-row-image=FULL",
            ]
        args += [f"--{key.replace('_', '-')}={value}" for key, value in self._settings.items()]
        return args

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        self._root.chmod(0o755)
        if self._as_server_user:
            account = pwd.getpwnam(SERVER_USER)
            os.chown(self._root, account.pw_uid, account.pw_gid)
        install = subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            capture_output=True,
            text=True,
            cwd=self._root,
            check=False,
            **self._account_kwargs(),
        )
        if install.returncode != 0:
            raise RuntimeError(
                f"mariadb-install-db failed with code {install.returncode}: "
                f"{install.stderr.strip() or install.stdout.strip()}"
            )
        # A free port can be taken between the probe and the bind: try a few.
        last_error = ""
        for _ in range(5):
            self.port = free_port()
            if self._serve(timeout):
                return
            last_error = self.server_log_tail()
            self._stop_process()
        raise RuntimeError(f"MariaDB did not start:\n{last_error}")

    def _serve(self, timeout: float) -> bool:
        """Starts the server process; whether it answers within `timeout` seconds."""
        self._process = processes.spawn(
            self._server_args(),
            label="MariaDB",
            cwd=self._root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **self._account_kwargs(),
        )
        return self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            probe = subprocess.run(
                [*self._client_args(), "-e", "SELECT 1"],
                capture_output=True,
                text=True,
                check=False,
            )
            if probe.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    def _stop_process(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self._process is not None:
            processes.stop(self._process, "MariaDB", [(sig, 60.0), (signal.SIGKILL, 10.0)])
            self._process = None

    def stop(self) -> None:
        """Stops the server (if running) and removes every file it made."""
        try:
            self._stop_process()
        finally:
            shutil.rmtree(self._root, ignore_errors=True)
            processes.forget_directory(self._root)

    def kill(self) -> None:
        """SIGKILL to the server, as a crash (start it again with :meth:`restart`)."""
        self._stop_process(signal.SIGKILL)

    def restart(self, timeout: float = 120.0) -> None:
        """Starts the server again on the same port and data (after :meth:`kill` or a stop)."""
        self._stop_process()
        if not self._serve(timeout):
            raise RuntimeError(f"MariaDB did not restart:\n{self.server_log_tail()}")

    def __enter__(self) -> MariaDbCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what callers use ------------------------------------------------------------------------

    def _client_args(self, database: str | None = None) -> list[str]:
        args = [
            "mariadb",
            "--no-defaults",
            f"--socket={self.socket_path}",
            "--user=root",
            "--batch",
            "--skip-column-names",
            "--raw",
            "--default-character-set=utf8mb4",
        ]
        if database:
            args.append(f"--database={database}")
        return args

    def sql(self, statements: str, database: str | None = None, check: bool = True) -> str:
        """Runs SQL through the ``mariadb`` client (as root, over the socket) and returns its
        tab-separated output."""
        result = subprocess.run(
            self._client_args(database),
            input=statements,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"mariadb failed: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, name: str) -> None:
        quoted = quote_identifier(name)
        self.sql(f"DROP DATABASE IF EXISTS {quoted}; CREATE DATABASE {quoted};")

    def create_user(self, name: str, password: str, privileges: str = "ALL PRIVILEGES") -> None:
        """A user that may log in from 127.0.0.1 with `password`, granted `privileges` on
        ``*.*`` (an empty string grants nothing beyond the login)."""
        account = f"{quote_literal(name)}@'127.0.0.1'"
        statements = f"CREATE OR REPLACE USER {account} IDENTIFIED BY {quote_literal(password)};"
        if privileges:
            statements += f"GRANT {privileges} ON *.* TO {account};"
        self.sql(statements)

    def endpoint_settings(
        self, database: str, user: str = "root", password: str = ""
    ) -> dict[str, Any]:
        """The CreateEndpoint members that reach this server."""
        return {
            "ServerName": self.host,
            "Port": self.port,
            "DatabaseName": database,
            "Username": user,
            "Password": password,
        }
