"""dms-local against hostile and careless clients: every case answers a clear 4xx (or refuses to
start) and the server keeps serving. Each test ends with a normal call that must still succeed."""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from api_calls import error_of
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_postgres_endpoint,
    create_task,
    local_client,
)
from dagster_dms.testing.dms_local import find_dms_local
from dms_local_fixture import (  # noqa: F401  (the fixture)
    FAST_ARGS,
    dms_local_fixture,
    select_schema,
)

DMS_TARGET = "AmazonDMSv20160101"
LOGS_TARGET = "Logs_20140328"
CLOUDWATCH_TARGET = "GraniteServiceVersion20100801"
DEPTH_LIMIT = 100  # kMaxNestingDepth in src/server/front/json_nesting.hpp
HOSTILE_DEPTH = 100_000


def dms_client(server: DmsLocalServer, key: str = "test", secret: str = "test") -> Any:
    return local_client(
        server.url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=30),
    )


def assert_still_serving(server: DmsLocalServer) -> None:
    """The process is alive and a normal signed call answers."""
    assert server.process is not None and server.process.poll() is None, "dms-local died"
    answer = dms_client(server).describe_account_attributes()
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200


def send(
    server: DmsLocalServer,
    headers: dict[str, str],
    body: bytes,
    method: str = "POST",
    path: str = "/",
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP request with exactly these headers (Host included)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def signed_headers(
    server: DmsLocalServer,
    body: bytes,
    headers: dict[str, str],
    *,
    region: str = "us-east-1",
    service: str = "dms",
    path: str = "/",
) -> dict[str, str]:
    """`headers` plus Host, X-Amz-Date and Authorization, signed by botocore (an independent
    signer) over exactly the headers given."""
    request = AWSRequest(method="POST", url=f"{server.url}{path}", data=body, headers=headers)
    SigV4Auth(Credentials("test", "test"), service, region).add_auth(request)
    out = {"Host": f"127.0.0.1:{server.port}"}
    out.update({name: str(value) for name, value in request.headers.items()})
    return out


def json_call(
    server: DmsLocalServer, target: str, body: bytes, *, region: str = "us-east-1"
) -> tuple[int, dict[str, Any]]:
    prefix = target.split(".")[0]
    service = {DMS_TARGET: "dms", LOGS_TARGET: "logs", CLOUDWATCH_TARGET: "monitoring"}[prefix]
    version = "1.0" if prefix == CLOUDWATCH_TARGET else "1.1"
    headers = {"Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": target}
    status, _, answer = send(
        server, signed_headers(server, body, headers, region=region, service=service), body
    )
    return status, json.loads(answer)


def nested_json(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# --- 1. bounded nesting --------------------------------------------------------------------------


def test_deeply_nested_bodies_get_400_in_every_protocol(dms_local: DmsLocalServer) -> None:
    hostile = ('{"UnknownMember":' + nested_json(HOSTILE_DEPTH) + "}").encode()
    for target in (
        f"{DMS_TARGET}.DescribeEndpoints",
        f"{LOGS_TARGET}.DescribeLogGroups",
        f"{CLOUDWATCH_TARGET}.ListMetrics",
    ):
        status, answer = json_call(dms_local, target, hostile)
        assert status == 400, target
        assert answer["__type"] == "SerializationException", target
        assert f"{DEPTH_LIMIT} levels" in answer["message"]
        assert_still_serving(dms_local)
    # Within the limit the unknown member is ignored, as before.
    status, answer = json_call(
        dms_local,
        f"{DMS_TARGET}.DescribeAccountAttributes",
        ('{"UnknownMember":' + nested_json(30) + "}").encode(),
    )
    assert status == 200 and "AccountQuotas" in answer

    # RPC v2 CBOR: arrays of one element, nested.
    cbor = b"\xa1\x61a" + b"\x81" * HOSTILE_DEPTH + b"\x01"
    path = f"/service/{CLOUDWATCH_TARGET}/operation/ListMetrics"
    headers = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
    status, _, _ = send(
        dms_local,
        signed_headers(dms_local, cbor, headers, service="monitoring", path=path),
        cbor,
        path=path,
    )
    assert status == 400
    assert_still_serving(dms_local)

    # Query protocol: cpp-httplib answers 413 to form bodies over 8 KB, so 3,000 levels is about
    # the deepest a parameter name can nest.
    form = ("Action=ListMetrics&Version=2010-08-01&" + ".".join(["A"] * 3000) + "=1").encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    status, _, answer_xml = send(
        dms_local, signed_headers(dms_local, form, headers, service="monitoring"), form
    )
    assert status == 400
    assert (
        b"InvalidParameterValue" in answer_xml and f"at most {DEPTH_LIMIT}".encode() in answer_xml
    )
    assert_still_serving(dms_local)


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.fixture(name="setup")
def setup_fixture(dms_local: DmsLocalServer) -> dict[str, str]:
    """Two endpoints, an available instance, a task and a replication config."""
    dms = dms_client(dms_local)
    arns: dict[str, str] = {}
    for name, kind in (("src", "source"), ("dst", "target")):
        arns[name] = create_postgres_endpoint(
            dms,
            name,
            kind,
            server="localhost",
            port=5432,
            database="app",
            username="dms",
            password="secret",
        )
    arns["instance"] = create_available_instance(dms, "ri")
    # Modify needs the task out of `creating`: create_task waits for `ready`.
    arns["task"] = create_task(
        dms,
        "task-1",
        source=arns["src"],
        target=arns["dst"],
        instance=arns["instance"],
        table_mappings=select_schema("public"),
    )
    arns["config"] = dms.create_replication_config(**config_arguments(arns, "config-1"))[
        "ReplicationConfig"
    ]["ReplicationConfigArn"]
    return arns


def task_arguments(arns: dict[str, str], name: str) -> dict[str, Any]:
    return {
        "ReplicationTaskIdentifier": name,
        "SourceEndpointArn": arns["src"],
        "TargetEndpointArn": arns["dst"],
        "ReplicationInstanceArn": arns["instance"],
        "MigrationType": "full-load",
        "TableMappings": select_schema("public"),
    }


def config_arguments(arns: dict[str, str], name: str) -> dict[str, Any]:
    return {
        "ReplicationConfigIdentifier": name,
        "SourceEndpointArn": arns["src"],
        "TargetEndpointArn": arns["dst"],
        "ComputeConfig": {"MaxCapacityUnits": 4, "MinCapacityUnits": 2},
        "ReplicationType": "full-load",
        "TableMappings": select_schema("public"),
    }


def test_deeply_nested_settings_and_mappings_are_refused(
    dms_local: DmsLocalServer, setup: dict[str, str]
) -> None:
    dms = dms_client(dms_local)
    deep = '{"Unknown":' + nested_json(HOSTILE_DEPTH) + "}"
    calls: list[Callable[[], object]] = [
        lambda: dms.create_replication_task(
            **task_arguments(setup, "deep-1"), ReplicationTaskSettings=deep
        ),
        lambda: dms.modify_replication_task(
            ReplicationTaskArn=setup["task"], ReplicationTaskSettings=deep
        ),
        lambda: dms.create_replication_task(
            **{**task_arguments(setup, "deep-2"), "TableMappings": deep}
        ),
        lambda: dms.modify_replication_task(ReplicationTaskArn=setup["task"], TableMappings=deep),
        lambda: dms.create_replication_config(
            **config_arguments(setup, "deep-3"), ReplicationSettings=deep
        ),
        lambda: dms.modify_replication_config(
            ReplicationConfigArn=setup["config"], ReplicationSettings=deep
        ),
    ]
    for call in calls:
        code, message = error_of(call)
        assert code == "InvalidParameterValueException"
        assert f"{DEPTH_LIMIT} levels" in message
        assert_still_serving(dms_local)
    # A document within the limit is stored as given.
    within = {"Unknown": json.loads(nested_json(50))}
    task = dms.modify_replication_task(
        ReplicationTaskArn=setup["task"], ReplicationTaskSettings=json.dumps(within)
    )["ReplicationTask"]
    assert json.loads(task["ReplicationTaskSettings"])["Unknown"] == within["Unknown"]


def test_empty_settings_on_modify_are_invalid_parameters(
    dms_local: DmsLocalServer, setup: dict[str, str]
) -> None:
    dms = dms_client(dms_local)
    code, message = error_of(
        lambda: dms.modify_replication_task(
            ReplicationTaskArn=setup["task"], ReplicationTaskSettings=""
        )
    )
    assert code == "InvalidParameterValueException" and "ReplicationTaskSettings" in message
    code, message = error_of(
        lambda: dms.modify_replication_config(
            ReplicationConfigArn=setup["config"], ReplicationSettings=""
        )
    )
    assert code == "InvalidParameterValueException" and "ReplicationSettings" in message
    assert_still_serving(dms_local)


def test_settings_with_wrong_types_are_refused_naming_the_field(
    dms_local: DmsLocalServer, setup: dict[str, str]
) -> None:
    dms = dms_client(dms_local)
    wrong = [
        ({"Logging": {"EnableLogging": "yes"}}, "Logging.EnableLogging must be true or false"),
        (
            {"FullLoadSettings": {"MaxFullLoadSubTasks": "8"}},
            "FullLoadSettings.MaxFullLoadSubTasks must be an integer",
        ),
        ({"ErrorBehavior": {"RecoverableErrorCount": 1.5}}, "must be an integer"),
        ({"TargetMetadata": {"TargetSchema": 7}}, "TargetMetadata.TargetSchema must be a string"),
        ({"Logging": []}, "Logging must be an object"),
    ]
    for index, (settings, expected) in enumerate(wrong):
        text = json.dumps(settings)
        name = f"typed-{index}"
        calls: list[Callable[[], object]] = [
            functools.partial(
                dms.create_replication_task,
                **task_arguments(setup, name),
                ReplicationTaskSettings=text,
            ),
            functools.partial(
                dms.modify_replication_task,
                ReplicationTaskArn=setup["task"],
                ReplicationTaskSettings=text,
            ),
            functools.partial(
                dms.create_replication_config,
                **config_arguments(setup, name),
                ReplicationSettings=text,
            ),
            functools.partial(
                dms.modify_replication_config,
                ReplicationConfigArn=setup["config"],
                ReplicationSettings=text,
            ),
        ]
        for call in calls:
            code, message = error_of(call)
            assert code == "InvalidParameterValueException", settings
            assert expected in message, message
    # The right types pass, and a null goes back to the default.
    task = dms.modify_replication_task(
        ReplicationTaskArn=setup["task"],
        ReplicationTaskSettings=json.dumps(
            {"FullLoadSettings": {"MaxFullLoadSubTasks": 4}, "Logging": {"EnableLogging": None}}
        ),
    )["ReplicationTask"]
    stored = json.loads(task["ReplicationTaskSettings"])
    assert stored["FullLoadSettings"]["MaxFullLoadSubTasks"] == 4
    assert stored["Logging"]["EnableLogging"] is False
    assert_still_serving(dms_local)


# --- 1. SigV4: region and signed headers ---------------------------------------------------------


@pytest.mark.parametrize(
    "region", ["bogus region!", "r" * 5000, "us-east-1:999999999999", ":x", "US-EAST-1", ""]
)
def test_credential_scope_region_is_validated(dms_local: DmsLocalServer, region: str) -> None:
    status, answer = json_call(dms_local, f"{DMS_TARGET}.DescribeEndpoints", b"{}", region=region)
    assert status in (400, 403)
    assert answer["__type"] in ("InvalidSignatureException", "IncompleteSignatureException")
    if region:
        assert "valid region" in answer["message"]
    assert_still_serving(dms_local)


def test_headers_that_steer_a_request_must_be_signed(dms_local: DmsLocalServer) -> None:
    body = b"{}"
    # A captured DescribeEndpoints signed over host and x-amz-date only, replayed as a delete.
    captured = signed_headers(dms_local, body, {})
    assert "SignedHeaders=host;x-amz-date," in captured["Authorization"]
    replay = {
        **captured,
        "X-Amz-Target": f"{DMS_TARGET}.DeleteEndpoint",
        "Content-Type": "application/x-amz-json-1.1",
    }
    status, _, answer = send(dms_local, replay, body)
    assert status == 403
    error = json.loads(answer)
    assert error["__type"] == "InvalidSignatureException"
    assert "'X-Amz-Target' must be a 'SignedHeader'" in error["message"]
    # The target signed but not the content type.
    partly = signed_headers(dms_local, body, {"X-Amz-Target": f"{DMS_TARGET}.DescribeEndpoints"})
    status, _, answer = send(
        dms_local, {**partly, "Content-Type": "application/x-amz-json-1.1"}, body
    )
    assert (
        status == 403 and "'Content-Type' must be a 'SignedHeader'" in json.loads(answer)["message"]
    )
    assert_still_serving(dms_local)


# --- 1. slow clients -----------------------------------------------------------------------------


class SlowLoris:
    """Connections that send a request's headers one line at a time, one line a second."""

    def __init__(self, port: int, count: int) -> None:
        self.sockets = [
            socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)
        ]
        for sock in self.sockets:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        line = 0
        while not self._stop.wait(1.0):
            line += 1
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # closed by the server
                    sock.sendall(f"X-Slow-{line}: {line}\r\n".encode())

    def open_count(self) -> int:
        """How many connections the server has not closed (nor answered) yet."""
        count = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                data = sock.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                count += 1  # nothing to read: still open, still waiting for its headers
            except OSError:
                pass
            else:
                del data  # an answer (400) or the end of the stream: the server let go
            finally:
                sock.setblocking(True)
        return count

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        for sock in self.sockets:
            sock.close()


def test_slow_clients_do_not_starve_others(dms_local: DmsLocalServer) -> None:
    # The client exists first, so what follows the slow connections is one request only.
    dms = dms_client(dms_local)
    # Twice cpp-httplib's fixed pool of eight threads. Each has sent its request line and adds a
    # header line every second.
    slow_loris = SlowLoris(dms_local.port, 16)
    try:
        answered = dms.describe_account_attributes()
        assert answered["ResponseMetadata"]["HTTPStatusCode"] == 200
        # The answer came while every slow client was still connected, mid-headers (the server
        # gives a request 15 s to arrive).
        assert slow_loris.open_count() == len(slow_loris.sockets)
        # And they do not keep their connections forever: the request deadline cuts them off.
        wait_until(lambda: slow_loris.open_count() == 0, timeout=120)
    finally:
        slow_loris.close()
    assert_still_serving(dms_local)


# --- 1. the fault admin endpoint -----------------------------------------------------------------


def test_fault_admin_refuses_what_a_web_page_could_send(dms_local: DmsLocalServer) -> None:
    host = f"127.0.0.1:{dms_local.port}"
    change = json.dumps({"latency_ms": 5000}).encode()
    path = "/_dms-local/faults"
    refused = [
        ({"Host": host, "Content-Type": "text/plain"}, 415, "application/json"),
        ({"Host": host, "Content-Type": "application/x-www-form-urlencoded"}, 415, "JSON"),
        (
            {"Host": host, "Content-Type": "application/json", "Origin": "http://evil.example"},
            403,
            "Origin",
        ),
        ({"Host": host, "Content-Type": "application/json", "Origin": "null"}, 403, "Origin"),
        ({"Host": "evil.example", "Content-Type": "application/json"}, 403, "Host"),
        ({"Host": "127.0.0.1.evil.example:80", "Content-Type": "application/json"}, 403, "Host"),
    ]
    for headers, status, words in refused:
        got, _, answer = send(dms_local, headers, change, path=path)
        assert got == status, headers
        assert words in json.loads(answer)["message"], headers
    # Reading is refused to a rebound host name too.
    got, _, _ = send(dms_local, {"Host": "evil.example"}, b"", method="GET", path=path)
    assert got == 403
    got, _, answer = send(dms_local, {"Host": host}, b"", method="GET", path=path)
    assert got == 200 and json.loads(answer)["latency_ms"] == 0  # nothing was changed
    # A local tool posting JSON still can, from localhost or a local page.
    for headers in (
        {"Host": host, "Content-Type": "application/json"},
        {"Host": f"localhost:{dms_local.port}", "Content-Type": "application/json; charset=utf-8"},
        {"Host": host, "Content-Type": "application/json", "Origin": "http://localhost:3000"},
    ):
        got, _, answer = send(dms_local, headers, b'{"latency_ms": 0}', path=path)
        assert got == 200, headers
    assert_still_serving(dms_local)


# --- 1. one server per state directory -----------------------------------------------------------


def start_second(binary: str, state_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, "serve", "--port", "0", "--state-dir", str(state_dir), *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_second_server_on_one_state_dir_refuses(dms_local: DmsLocalServer) -> None:
    binary = find_dms_local()
    assert binary is not None
    second = start_second(binary, dms_local.state_dir)
    assert second.returncode != 0
    assert str(dms_local.state_dir) in second.stderr
    assert "already served by another dms-local" in second.stderr
    assert_still_serving(dms_local)
    # The kernel drops the lock with the process, however it ends: a killed server restarts.
    assert dms_local.process is not None
    dms_local.process.send_signal(signal.SIGKILL)
    dms_local.process.wait(timeout=30)
    dms_local.process = None
    dms_local.start()
    assert_still_serving(dms_local)


# --- 7. exposure ---------------------------------------------------------------------------------


def test_non_loopback_host_must_be_deliberate(tmp_path: Path) -> None:
    binary = find_dms_local()
    assert binary is not None
    refused = start_second(binary, tmp_path / "a", "--host", "0.0.0.0")
    assert refused.returncode != 0 and "--allow-remote" in refused.stderr
    refused = start_second(binary, tmp_path / "b", "--host", "0.0.0.0", "--allow-remote")
    assert refused.returncode != 0 and "--credentials-file" in refused.stderr
    default_pair = tmp_path / "default.json"
    default_pair.write_text(json.dumps([{"access_key_id": "test", "secret_access_key": "test"}]))
    refused = start_second(
        binary,
        tmp_path / "c",
        "--host",
        "0.0.0.0",
        "--allow-remote",
        "--credentials-file",
        str(default_pair),
    )
    assert refused.returncode != 0 and "test/test" in refused.stderr


def test_allow_remote_serves_only_the_given_keys(tmp_path: Path, aws_env: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps([{"access_key_id": "AKIDLOCALTEAM", "secret_access_key": "s3cret-of-ours"}])
    )
    server = DmsLocalServer(
        tmp_path / "state",
        host="0.0.0.0",
        extra_args=[*FAST_ARGS, "--allow-remote", "--credentials-file", str(keys)],
    )
    server.start()
    try:
        code, _ = error_of(lambda: dms_client(server).describe_account_attributes())
        assert code == "UnrecognizedClientException"
        ours = dms_client(server, "AKIDLOCALTEAM", "s3cret-of-ours").describe_account_attributes()
        assert ours["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        assert server.stop() == 0
