"""Throw-away PostgreSQL clusters: initdb into a temporary directory, serve on a free loopback port.

PostgreSQL refuses to run as root, so when the tests run as root the server commands run as the
`postgres` system user (the Debian package creates it) and the data directory belongs to it.
The cluster is configured for logical replication (wal_level=logical, slots and WAL senders), so
the same fixture serves full-load and CDC tests. Loopback connections use trust authentication:
the cluster lives for one test session and listens on 127.0.0.1 only. With ``tls=True`` it also
serves TLS, with a server certificate (for 127.0.0.1 and localhost) signed by a CA of its own
(``ca_certificate_pem``), made with the ``openssl`` command-line tool. The server and the
cluster's files never outlive the process that made them, even when it is killed (see
:mod:`dagster_dms.testing.processes`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from dagster_dms.testing import processes
from dagster_dms.testing.watchdog import postmaster_pid, signal_postmaster

SUPERUSER = "postgres"


def find_bindir() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian layout first, then PATH)."""
    candidates: list[tuple[float, Path]] = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if (bindir / "initdb").exists():
            with contextlib.suppress(ValueError):
                candidates.append((float(bindir.parent.name), bindir))
    if candidates:
        return max(candidates)[1]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
        bindir = Path(out.stdout.strip())
        if (bindir / "initdb").exists():
            return bindir
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise FileNotFoundError("no PostgreSQL server binaries (initdb) found; install `postgresql`")


def _openssl(*args: str, cwd: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("TLS test clusters need the `openssl` command; install openssl")
    done = subprocess.run([openssl, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()}")


def make_certificate_authority(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA valid for two days: (certificate, private key), PEM files in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key = directory / f"{name}.crt", directory / f"{name}.key"
    _openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
        *("-keyout", str(key), "-out", str(certificate), "-subj", f"/CN={name}"),
        *("-addext", "basicConstraints=critical,CA:TRUE"),
        *("-addext", "keyUsage=critical,keyCertSign,cRLSign"),
        cwd=directory,
    )
    return certificate, key


def make_server_certificate(
    directory: Path, ca: tuple[Path, Path], hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> tuple[Path, Path]:
    """A server certificate for `hosts` signed by the CA `ca`: (certificate, private key)."""
    certificate, key, request = (directory / f"server.{ext}" for ext in ("crt", "key", "csr"))
    names = ",".join(
        f"IP:{host}" if host.replace(".", "").isdigit() else f"DNS:{host}" for host in hosts
    )
    extensions = directory / "server.ext"
    extensions.write_text(f"subjectAltName={names}\nextendedKeyUsage=serverAuth\n")
    _openssl(
        *("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(request)),
        *("-subj", f"/CN={hosts[0]}"),
        cwd=directory,
    )
    _openssl(
        *("x509", "-req", "-in", str(request), "-CA", str(ca[0]), "-CAkey", str(ca[1])),
        *("-CAcreateserial", "-days", "2", "-out", str(certificate)),
        *("-extfile", str(extensions)),
        cwd=directory,
    )
    return certificate, key


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dsn_value(value: str) -> str:
    """Quotes a libpq connection-string value when it needs it."""
    if value and not any(c in value for c in " '\\\t"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class PgCluster:
    """One PostgreSQL server process with its own data directory, socket directory and port.

    ``base_dir`` is where the cluster's directory is made (the system temporary directory by
    default). Use it as a context manager, or call :meth:`start` and :meth:`stop`; stopping
    removes every file the cluster made.
    """

    def __init__(self, base_dir: Path | None = None, *, tls: bool = False) -> None:
        self.bindir = find_bindir()
        self.tls = tls
        # The PEM text of the CA that signed the server's certificate (tls=True), once started.
        self.ca_certificate_pem: str | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.user = SUPERUSER
        self._root = Path(tempfile.mkdtemp(prefix="pg-cluster-", dir=base_dir))
        self.datadir = self._root / "data"
        self.socket_dir = self._root / "socket"
        self.logfile = self._root / "server.log"
        self._as_postgres = os.geteuid() == 0
        processes.watch_directory(self._root)

    # -- process plumbing -------------------------------------------------------------------

    def _server_command(
        self, args: list[str], check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Runs a server-side command, as the postgres user when we are root."""
        kwargs: dict[str, Any] = {}
        env = dict(os.environ)
        if self._as_postgres:
            account = pwd.getpwnam(SUPERUSER)
            kwargs.update(user=account.pw_uid, group=account.pw_gid, extra_groups=[])
            env.update(HOME=account.pw_dir, USER=SUPERUSER, LOGNAME=SUPERUSER)
        result = subprocess.run(
            args,
            capture_output=True,
            text=True,
            cwd=self._root,
            env=env,
            check=False,
            **kwargs,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed with code {result.returncode}: "
                f"{result.stderr.strip() or result.stdout.strip()}\n{self.server_log_tail()}"
            )
        return result

    def server_log_tail(self, lines: int = 30) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _give_to_postgres(self, path: Path) -> None:
        if self._as_postgres:
            account = pwd.getpwnam(SUPERUSER)
            os.chown(path, account.pw_uid, account.pw_gid)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        # Watched before it exists: an interrupted `pg_ctl start` may leave a server running.
        processes.watch_postmaster(self.datadir)
        self._root.chmod(0o755)
        self._give_to_postgres(self._root)
        self.socket_dir.mkdir()
        self._give_to_postgres(self.socket_dir)
        self._server_command(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "wal_level": "logical",
            "max_replication_slots": "10",
            "max_wal_senders": "10",
            "max_connections": "100",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "timezone": "'UTC'",
            "log_timezone": "'UTC'",
        }
        if self.tls:
            settings.update(self._serve_tls())
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# dagster_dms.testing.postgres settings\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        (self.datadir / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
            "local replication all trust\n"
            "host replication all 127.0.0.1/32 trust\n"
        )
        # A free port can be taken between the probe and the bind: try a few.
        last_error: Exception | None = None
        for _ in range(5):
            self.port = _free_port()
            try:
                self._server_command(self._pg_ctl_on_port("start"))
                return
            except RuntimeError as error:
                last_error = error
                time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not start: {last_error}")

    def _serve_tls(self) -> dict[str, str]:
        """Makes the cluster's CA and server certificate; the settings that serve them."""
        directory = self._root / "tls"
        ca = make_certificate_authority(directory, "dagster-dms-test-ca")
        certificate, key = make_server_certificate(directory, ca)
        self.ca_certificate_pem = ca[0].read_text()
        # The server refuses a key that others can read; it reads both as the postgres user.
        key.chmod(0o600)
        for path in (directory, certificate, key):
            self._give_to_postgres(path)
        return {"ssl": "on", "ssl_cert_file": f"'{certificate}'", "ssl_key_file": f"'{key}'"}

    def _pg_ctl_on_port(self, *action: str) -> list[str]:
        """``pg_ctl`` starting the server on this cluster's port (logging to its log file) and
        waiting up to 60 s for it, then ``action``."""
        return [
            *(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile)),
            *("-o", f"-p {self.port}", "-w", "-t", "60"),
            *action,
        ]

    def stop(self, timeout: float = 30.0) -> str | None:
        """Stops the server (if running) and removes every file the cluster made.

        A fast shutdown gets `timeout` seconds (at least 1), then an immediate one a few more;
        should the server still run, its processes get SIGKILL. Returns how it stopped
        (``"fast"``, ``"immediate"`` or ``"SIGKILL"``), or None when it was not running."""
        try:
            if (self.datadir / "postmaster.pid").exists():
                return self._shut_down(timeout)
            return None
        finally:
            shutil.rmtree(self._root, ignore_errors=True)
            processes.forget_postmaster(self.datadir)
            processes.forget_directory(self._root)

    def _shut_down(self, timeout: float) -> str:
        pg_ctl = [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w"]
        for mode, seconds in (("fast", timeout), ("immediate", min(timeout, 5))):
            wait = ["-t", str(max(1, round(seconds)))]
            if (
                self._server_command([*pg_ctl, *wait, "-m", mode, "stop"], check=False).returncode
                == 0
            ):
                return mode
        pid = postmaster_pid(str(self.datadir))
        if pid is not None:
            signal_postmaster(pid, signal.SIGKILL)
        return "SIGKILL"

    def restart(self, mode: str = "fast") -> None:
        """Restarts the server on the same port, so settings that need a restart take effect.

        ``mode`` is pg_ctl's shutdown mode: ``fast`` ends sessions cleanly, ``immediate`` kills
        them like a crash (the server then recovers from its WAL)."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(f"unknown shutdown mode {mode!r}: use smart, fast or immediate")
        self._server_command(self._pg_ctl_on_port("-m", mode, "restart"))

    def __enter__(self) -> PgCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what callers use ------------------------------------------------------------------------

    def conninfo(self, dbname: str = "postgres") -> dict[str, Any]:
        """Connection settings as separate fields (what a DMS endpoint holds)."""
        return {
            "host": self.host,
            "port": self.port,
            "dbname": dbname,
            "user": self.user,
            "password": "",
        }

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq keyword/value connection string."""
        fields = {"host": self.host, "port": self.port, "dbname": dbname, "user": self.user}
        return " ".join(f"{key}={_dsn_value(str(value))}" for key, value in fields.items())

    def psql(
        self,
        sql: str,
        dbname: str = "postgres",
        check: bool = True,
        timeout: float | None = None,
    ) -> str:
        """Runs SQL through psql (unaligned, tuples only) and returns its standard output.
        With a `timeout`, psql is killed after that many seconds (TimeoutExpired)."""
        result = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                self.dsn(dbname),
            ],
            input=sql,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"psql failed on {dbname}: {result.stderr.strip()}")
        return result.stdout

    def table_checksum(self, dbname: str, table: str) -> tuple[int, str]:
        """Row count and md5 of the table's rows in text form, in a stable order: two tables
        hold the same data exactly when their checksums are equal."""
        out = self.psql(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "
            f"FROM {table} t",
            dbname,
        )
        count, digest = out.strip().split("|")
        return int(count), digest

    def create_database(self, name: str) -> str:
        """Creates a database (dropping an old one of that name) and returns its DSN."""
        quoted = '"' + name.replace('"', '""') + '"'
        self.psql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE);")
        self.psql(f"CREATE DATABASE {quoted};")
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        quoted = '"' + name.replace('"', '""') + '"'
        self.psql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE);")
