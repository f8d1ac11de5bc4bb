"""Least privilege on dms-local: key pairs limited to IAM actions, read by independent clients
(boto3, the AWS CLI, a signed query-protocol request), and the component with each action of the
README's IAM list removed in turn."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    local_client,
)
from dms_local_fixture import FAST_ARGS
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

REGION = "us-east-1"
ACCOUNT = "000000000000"
AWS_CLI = "/usr/bin/aws" if Path("/usr/bin/aws").exists() else shutil.which("aws")
XMLNS = {"cw": "http://monitoring.amazonaws.com/doc/2010-08-01/"}

#: A key that may only read DMS resources and the task logs' events.
READER = {
    "access_key_id": "AKIDLPREADER",
    "secret_access_key": "reader-secret",
    "user_name": "dagster-reader",
    "actions": ["dms:Describe*", "logs:GetLogEvents"],
}
#: A key from a credentials file written before permissions existed: no "actions".
UNLIMITED = {"access_key_id": "AKIDLPOLDFILE", "secret_access_key": "old-secret"}
#: IAM wildcards: every DMS action, nothing of CloudWatch or Logs.
DMS_ONLY = {
    "access_key_id": "AKIDLPDMSONLY",
    "secret_access_key": "dms-secret",
    "actions": ["dms:*"],
}


def denial(user: str, action: str, resource: str) -> str:
    """AWS's wording of an identity-policy denial."""
    return (
        f"User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: {action} on "
        f"resource: {resource} because no identity-based policy allows the {action} action"
    )


def client_for(server: DmsLocalServer, service: str, key: dict[str, Any]) -> Any:
    return local_client(
        server.url,
        service,
        aws_access_key_id=key["access_key_id"],
        aws_secret_access_key=key["secret_access_key"],
    )


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    status = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return str(error["Code"]), str(error["Message"]), int(status)


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmsLocalServer]:
    """A dms-local (hold executor, no database needed) that knows the three keys above."""
    root = tmp_path_factory.mktemp("permissions")
    keys = root / "keys.json"
    keys.write_text(json.dumps([READER, UNLIMITED, DMS_ONLY]))
    server = DmsLocalServer(
        root / "state",
        extra_args=[*FAST_ARGS, "--test-executor", "hold", "--credentials-file", str(keys)],
    )
    server.start()
    try:
        yield server
    finally:
        assert server.stop() == 0


def test_boto3_sees_access_denied_worded_as_aws_words_it(
    limited_server: DmsLocalServer, aws_env: Path
) -> None:
    dms = client_for(limited_server, "dms", READER)
    # Allowed by dms:Describe*.
    assert dms.describe_replication_tasks()["ReplicationTasks"] == []
    task = f"arn:aws:dms:{REGION}:{ACCOUNT}:task:NOSUCHTASK"
    code, message, status = error_of(
        lambda: dms.start_replication_task(
            ReplicationTaskArn=task, StartReplicationTaskType="start-replication"
        )
    )
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == denial("dagster-reader", "dms:StartReplicationTask", task)
    attributes = dms.describe_account_attributes()  # dms:Describe* covers it
    assert attributes["ResponseMetadata"]["HTTPStatusCode"] == 200

    logs = client_for(limited_server, "logs", READER)
    code, message, _ = error_of(lambda: logs.describe_log_streams(logGroupName="dms-tasks-x"))
    assert code == "AccessDeniedException"
    assert message == denial(
        "dagster-reader",
        "logs:DescribeLogStreams",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:dms-tasks-x:log-stream:",
    )
    code, _, _ = error_of(
        lambda: logs.get_log_events(logGroupName="dms-tasks-x", logStreamName="dms-task-y")
    )
    assert code == "ResourceNotFoundException"  # allowed; the group just does not exist

    cloudwatch = client_for(limited_server, "cloudwatch", READER)
    code, message, status = error_of(lambda: cloudwatch.list_metrics(Namespace="AWS/DMS"))
    assert (code, status) == ("AccessDenied", 403)
    assert message == denial("dagster-reader", "cloudwatch:ListMetrics", "*")


def test_cloudwatch_query_protocol_answers_an_xml_access_denied(
    limited_server: DmsLocalServer, aws_env: Path
) -> None:
    body = urllib.parse.urlencode(
        {"Action": "ListMetrics", "Version": "2010-08-01", "Namespace": "AWS/DMS"}
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = AWSRequest(method="POST", url=limited_server.url + "/", data=body, headers=headers)
    SigV4Auth(
        Credentials(READER["access_key_id"], READER["secret_access_key"]), "monitoring", REGION
    ).add_auth(request)
    answer = requests.post(
        limited_server.url + "/", data=body, headers=dict(request.headers), timeout=60
    )
    assert answer.status_code == 403, answer.text
    error = ET.fromstring(answer.text)
    assert error.findtext(".//cw:Type", namespaces=XMLNS) == "Sender"
    assert error.findtext(".//cw:Code", namespaces=XMLNS) == "AccessDenied"
    assert error.findtext(".//cw:Message", namespaces=XMLNS) == denial(
        "dagster-reader", "cloudwatch:ListMetrics", "*"
    )
    assert "reader-secret" not in answer.text


def test_wildcards_and_keys_without_actions(limited_server: DmsLocalServer, aws_env: Path) -> None:
    # dms:* allows every DMS action and nothing of another service.
    dms_only = client_for(limited_server, "dms", DMS_ONLY)
    assert dms_only.describe_account_attributes()["ResponseMetadata"]["HTTPStatusCode"] == 200
    code, message, _ = error_of(
        lambda: client_for(limited_server, "logs", DMS_ONLY).describe_log_groups()
    )
    assert code == "AccessDeniedException"
    # No "user_name": the user is named after the access key.
    assert message == denial("AKIDLPDMSONLY", "logs:DescribeLogGroups", "*")
    # An entry without "actions", and the default key, may call everything.
    for key in (UNLIMITED, {"access_key_id": "test", "secret_access_key": "test"}):
        for service, call in (
            ("logs", lambda c: c.describe_log_groups()),
            ("cloudwatch", lambda c: c.list_metrics(Namespace="AWS/DMS")),
            ("dms", lambda c: c.describe_account_attributes()),
        ):
            answer = call(client_for(limited_server, service, key))
            assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200, (key, service)


def aws_cli(
    server: DmsLocalServer, key: dict[str, Any], *args: str
) -> subprocess.CompletedProcess[str]:
    assert AWS_CLI is not None, "the AWS CLI is not installed: run `make bootstrap`"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": key["secret_access_key"],
        "AWS_MAX_ATTEMPTS": "1",
    }
    return subprocess.run(
        [AWS_CLI, *args, "--endpoint-url", server.url, "--region", REGION, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "action", "resource"),
    [
        (
            (
                "dms",
                "stop-replication-task",
                "--replication-task-arn",
                "arn:aws:dms:us-east-1:000000000000:task:T1",
            ),
            "dms:StopReplicationTask",
            "arn:aws:dms:us-east-1:000000000000:task:T1",
        ),
        (
            (
                "cloudwatch",
                "get-metric-statistics",
                "--namespace",
                "AWS/DMS",
                "--metric-name",
                "CDCLatencySource",
                "--start-time",
                "2026-01-01T00:00:00Z",
                "--end-time",
                "2026-01-01T01:00:00Z",
                "--period",
                "60",
                "--statistics",
                "Average",
            ),
            "cloudwatch:GetMetricStatistics",
            "*",
        ),
        (
            ("logs", "describe-log-streams", "--log-group-name", "dms-tasks-local"),
            "logs:DescribeLogStreams",
            "arn:aws:logs:us-east-1:000000000000:log-group:dms-tasks-local:log-stream:",
        ),
    ],
)
def test_aws_cli_reports_the_denial(
    limited_server: DmsLocalServer, aws_env: Path, args: tuple[str, ...], action: str, resource: str
) -> None:
    done = aws_cli(limited_server, READER, *args)
    assert done.returncode == 254, done.stderr
    assert "AccessDenied" in done.stderr
    assert denial("dagster-reader", action, resource) in done.stderr
    assert READER["secret_access_key"] not in done.stderr
