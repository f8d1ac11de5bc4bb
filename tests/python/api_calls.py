"""What the dms-local tests ask of an answer: the error a boto3 call raises, and the AWS CLI's
answer to a `dms` command against a running server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from dagster_dms.testing import DmsLocalServer


def error_of(call: Callable[[], object]) -> tuple[str, str]:
    """The error code and message a call answers; fails when it succeeds."""
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return str(error["Code"]), str(error.get("Message", ""))


def aws_dms_cli(server: DmsLocalServer, *args: str, check: bool = True) -> Any:
    """`aws dms ARGS` against `server`: its JSON answer, or (check=False) the finished process."""
    assert shutil.which("aws"), "the AWS CLI is not installed: run `make bootstrap`"
    done = subprocess.run(
        ["aws", "dms", *args, "--endpoint-url", server.url, "--output", "json"],
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
        check=False,
        capture_output=True,
        text=True,
    )
    if not check:
        return done
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}
