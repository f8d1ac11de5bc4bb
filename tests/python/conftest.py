"""Shared fixtures: a real moto server on a free loopback port, and an isolated AWS environment."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from dagster_dms.testing import processes

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("DAGSTER_DMS_SHARED_DIR", REPO_ROOT.parent / "shared"))

# Variables that would let the developer's own AWS setup leak into a test.
_AWS_VARIABLES = [name for name in os.environ if name.startswith("AWS_")]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(
    url: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server for {url} exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class MotoServer:
    """A moto server subprocess: an independent implementation of the AWS APIs."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process = processes.spawn(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            label="moto server",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_http(f"{self.url}/moto-api/", process=self._process)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        processes.stop(
            self._process, "moto server", [(signal.SIGTERM, 10.0), (signal.SIGKILL, 30.0)]
        )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS environment with nothing from the developer's machine: fake keys, region, and a
    HOME with empty config files. Returns the fake HOME."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return home


@pytest.fixture
def moto(moto_server: MotoServer, aws_env: Path) -> Iterator[MotoServer]:
    """A clean moto server for one test, with the isolated AWS environment in place."""
    moto_server.reset()
    yield moto_server
    moto_server.reset()


@pytest.fixture
def boto3_client(moto: MotoServer) -> Callable[[str], Any]:
    """boto3 clients on the moto server, for seeding and cross-checking."""

    def make(service: str) -> Any:
        return boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url=moto.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing-secret",
        )

    return make


@pytest.fixture
def dmsctl_path() -> str:
    path = shutil.which("dmsctl", path=str(Path(sys.executable).parent))
    if path is None:
        raise RuntimeError("dmsctl is not installed in this environment; run `make bootstrap`")
    return path
