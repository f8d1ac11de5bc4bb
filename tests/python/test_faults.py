"""Retries, timeouts and clean errors end to end, against a server that misbehaves on purpose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dagster_dms import (
    DmsClient,
    ProtocolError,
    ResourceNotFoundError,
    ServiceError,
    ThrottlingError,
    TransportError,
)
from fault_server import Fault, FaultServer

SECRET = "wJalrXUtnFEMI-super-secret-key"
TOKEN = "session-token-that-must-stay-hidden"
TASK = {
    "ReplicationTaskIdentifier": "orders",
    "ReplicationTaskArn": "arn:aws:dms:us-east-1:000000000000:task:ORDERS",
    "MigrationType": "full-load",
    "Status": "starting",
}
THROTTLE = Fault("error", 400, {"__type": "ThrottlingException", "message": "Rate exceeded"})


@pytest.fixture
def server(aws_env: Path) -> Iterator[tuple[FaultServer, str]]:
    fault_server = FaultServer()
    url = fault_server.start()
    yield fault_server, url
    fault_server.stop()


def make_client(url: str, **kwargs: object) -> DmsClient:
    return DmsClient(
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
        **kwargs,  # type: ignore[arg-type]
    )


def test_throttling_is_retried_until_it_passes(server: tuple[FaultServer, str]) -> None:
    faults, url = server
    faults.push(THROTTLE, THROTTLE, Fault("ok", body={"AccountQuotas": []}))
    assert make_client(url).describe_account_attributes() == []
    assert len(faults.requests) == 3
    assert all("authorization" in r.headers for r in faults.requests)
    assert all(r.target == "AmazonDMSv20160101.DescribeAccountAttributes" for r in faults.requests)


def test_throttling_beyond_max_attempts_raises_throttling_error(
    server: tuple[FaultServer, str],
) -> None:
    faults, url = server
    faults.push(THROTTLE, THROTTLE, THROTTLE)
    with pytest.raises(ThrottlingError) as raised:
        make_client(url, max_attempts=2).describe_account_attributes()
    assert len(faults.requests) == 2
    assert raised.value.code == "ThrottlingException"
    assert raised.value.request_id == "req-0001"


def test_server_errors_are_retried(server: tuple[FaultServer, str]) -> None:
    faults, url = server
    faults.push(
        Fault("error", 500, {"__type": "InternalFailure", "message": "boom"}),
        Fault("status", 503),
        Fault("ok", body={"AccountQuotas": [{"AccountQuotaName": "ReplicationTasks", "Max": 600}]}),
    )
    quotas = make_client(url).describe_account_attributes()
    assert [(q.account_quota_name, q.max) for q in quotas] == [("ReplicationTasks", 600)]
    assert len(faults.requests) == 3


def test_connection_reset_is_retried(server: tuple[FaultServer, str]) -> None:
    faults, url = server
    faults.push(Fault("reset"), Fault("ok", body={"AccountQuotas": []}))
    assert make_client(url).describe_account_attributes() == []
    assert len(faults.requests) == 2


def test_read_timeout_raises_transport_error(server: tuple[FaultServer, str]) -> None:
    faults, url = server
    faults.push(Fault("slow", delay=3.0, body={"AccountQuotas": []}))
    client = make_client(url, max_attempts=1, read_timeout=0.5)
    with pytest.raises(TransportError) as raised:
        client.describe_account_attributes()
    assert raised.value.kind == "timeout"


def test_truncated_response_raises_transport_error(server: tuple[FaultServer, str]) -> None:
    faults, url = server
    faults.push(Fault("truncate"))
    with pytest.raises(TransportError) as raised:
        make_client(url, max_attempts=1).describe_replication_tasks()
    assert raised.value.kind in {"truncated", "connection_reset"}


def test_malformed_json_is_a_protocol_error_naming_the_operation(
    server: tuple[FaultServer, str],
) -> None:
    faults, url = server
    faults.push(Fault("malformed"))
    with pytest.raises(ProtocolError, match="DescribeAccountAttributes"):
        make_client(url, max_attempts=1).describe_account_attributes()


def test_non_json_error_body_still_gives_a_clean_service_error(
    server: tuple[FaultServer, str],
) -> None:
    faults, url = server
    faults.push(Fault("status", 502), Fault("status", 502))
    with pytest.raises(ServiceError) as raised:
        make_client(url, max_attempts=2).describe_account_attributes()
    assert raised.value.http_status == 502
    assert "502" in str(raised.value)


def test_an_ambiguous_start_reads_the_task_before_sending_again(
    server: tuple[FaultServer, str],
) -> None:
    faults, url = server
    faults.push(
        Fault("error", 500, {"__type": "InternalFailure", "message": "maybe started"}),
        Fault("ok", body={"ReplicationTasks": [TASK]}),
    )
    task = make_client(url).start_replication_task(TASK["ReplicationTaskArn"])
    assert task.status == "starting"
    targets = [r.target.split(".")[1] for r in faults.requests]
    assert targets == ["StartReplicationTask", "DescribeReplicationTasks"]


def test_an_ambiguous_start_that_did_not_happen_is_sent_once_more(
    server: tuple[FaultServer, str],
) -> None:
    faults, url = server
    faults.push(
        Fault("error", 500, {"__type": "InternalFailure", "message": "lost"}),
        Fault("ok", body={"ReplicationTasks": [{**TASK, "Status": "ready"}]}),
        Fault("ok", body={"ReplicationTask": TASK}),
    )
    task = make_client(url).start_replication_task(TASK["ReplicationTaskArn"])
    assert task.status == "starting"
    targets = [r.target.split(".")[1] for r in faults.requests]
    assert targets == ["StartReplicationTask", "DescribeReplicationTasks", "StartReplicationTask"]


def test_errors_never_show_secrets(server: tuple[FaultServer, str]) -> None:
    faults, url = server
    faults.push(Fault("error", 403, {"__type": "AccessDeniedFault", "message": "no"}))
    with pytest.raises(ServiceError) as raised:
        make_client(url, max_attempts=1).describe_account_attributes()
    text = f"{raised.value!s} {raised.value!r} {raised.value.__dict__!r}"
    assert SECRET not in text and TOKEN not in text
    assert "Signature=" not in text
    authorization = faults.requests[0].headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert faults.requests[0].headers["x-amz-security-token"] == TOKEN
    assert faults.requests[0].headers["user-agent"].startswith("dagster-dms/")


def test_an_empty_answer_for_one_task_is_resource_not_found(
    server: tuple[FaultServer, str],
) -> None:
    faults, url = server
    faults.push(Fault("ok", body={"ReplicationTasks": []}))
    with pytest.raises(ResourceNotFoundError, match="'orders' not found in region us-east-1"):
        make_client(url).describe_replication_task("orders")
