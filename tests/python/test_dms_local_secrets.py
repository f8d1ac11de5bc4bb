"""dms-local never gives an endpoint password away: connection-test failures, task failures and
task logs read the same whatever the password is (so a short or common-word password can neither
mangle a message nor be spotted in it), and a long password never appears anywhere.

The cluster here asks for a password over TCP (scram-sha-256), so a wrong one really fails the
login and the right one really succeeds."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_postgres_endpoint,
    create_task,
    local_client,
)
from dms_local_fixture import FAST_ARGS, serving
from pg_cluster import SUPERUSER, PgCluster

REAL_PASSWORD = "the-real-superuser-password-7f3a"
LONG_PASSWORD = "a-long-and-unguessable-password-93c1e5d2"
# Short ones once replaced every `1` or `o` in the message; common words collide with the words
# of the message itself ("password authentication failed", user "postgres").
WRONG_PASSWORDS = ["1", "o", "postgres", "password", "test", "127.0.0.1", LONG_PASSWORD]
REFERENCE_PASSWORD = "reference-password-nobody-uses"


@pytest.fixture(scope="module")
def guarded() -> Iterator[PgCluster]:
    """A cluster whose TCP logins need the password (trust only on its Unix socket)."""
    with PgCluster() as cluster:
        cluster.psql(f"ALTER ROLE {SUPERUSER} PASSWORD '{REAL_PASSWORD}';")
        (cluster.datadir / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
            "host replication all 127.0.0.1/32 scram-sha-256\n"
        )
        # This session was admitted under the old rules; the new ones apply from now on.
        cluster.psql("SELECT pg_reload_conf();")
        yield cluster


@pytest.fixture()
def server(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DmsLocalServer]:
    with serving(tmp_path, monkeypatch, [*FAST_ARGS]) as server:
        yield server


def client(server: DmsLocalServer, service: str = "dms") -> Any:
    return local_client(server.url, service)


def wait_until(predicate: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def create_instance(dms: Any) -> str:
    return create_available_instance(dms, "local")


def create_endpoint(dms: Any, name: str, port: int, password: str, kind: str = "source") -> str:
    return create_postgres_endpoint(
        dms, name, kind, port=port, database="postgres", username=SUPERUSER, password=password
    )


def connection_test(dms: Any, endpoint: str, instance: str) -> dict[str, Any]:
    dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)
    found: dict[str, Any] = {}

    def finished() -> bool:
        found.update(
            dms.describe_connections(Filters=[{"Name": "endpoint-arn", "Values": [endpoint]}])[
                "Connections"
            ][0]
        )
        return found["Status"] != "testing"

    wait_until(finished)
    return found


def assert_never_shown(messages: dict[str, str], must_contain: list[str]) -> None:
    """Each password's message is the reference one (so it says nothing about the password),
    reads whole, and the long password appears in none."""
    reference = messages.pop(REFERENCE_PASSWORD)
    for part in must_contain:
        assert part in reference, reference
    assert "****" not in reference
    for password, message in messages.items():
        assert message == reference, f"password {password!r} changed the message"
    assert all(LONG_PASSWORD not in message for message in messages.values())


def test_the_right_password_logs_in(guarded: PgCluster, server: DmsLocalServer) -> None:
    dms = client(server)
    instance = create_instance(dms)
    endpoint = create_endpoint(dms, "right", guarded.port, REAL_PASSWORD)
    connection = connection_test(dms, endpoint, instance)
    assert connection["Status"] == "successful", connection


def test_a_wrong_password_fails_with_a_message_that_does_not_depend_on_it(
    guarded: PgCluster, server: DmsLocalServer
) -> None:
    dms = client(server)
    instance = create_instance(dms)
    messages: dict[str, str] = {}
    for i, password in enumerate([REFERENCE_PASSWORD, *WRONG_PASSWORDS]):
        endpoint = create_endpoint(dms, f"wrong-{i}", guarded.port, password)
        connection = connection_test(dms, endpoint, instance)
        assert connection["Status"] == "failed", connection
        messages[password] = str(connection["LastFailureMessage"])
    assert_never_shown(
        messages,
        [
            "Test Endpoint failed",
            f'connection to server at "127.0.0.1", port {guarded.port} failed',
            f'password authentication failed for user "{SUPERUSER}"',
        ],
    )


def test_an_unreachable_server_fails_with_a_message_that_does_not_depend_on_it(
    server: DmsLocalServer,
) -> None:
    dms = client(server)
    instance = create_instance(dms)
    port = closed_port()
    messages: dict[str, str] = {}
    for i, password in enumerate([REFERENCE_PASSWORD, *WRONG_PASSWORDS]):
        endpoint = create_endpoint(dms, f"down-{i}", port, password)
        connection = connection_test(dms, endpoint, instance)
        assert connection["Status"] == "failed", connection
        messages[password] = str(connection["LastFailureMessage"])
    assert_never_shown(
        messages,
        [
            "Network error has occurred",
            f'connection to server at "127.0.0.1", port {port} failed',
            "Connection refused",
        ],
    )


def test_a_failed_task_shows_no_password_in_its_failure_or_its_log(
    guarded: PgCluster, server: DmsLocalServer
) -> None:
    dms = client(server)
    logs = client(server, "logs")
    instance = create_instance(dms)
    # The target is reachable; the source's password is wrong.
    target = create_endpoint(dms, "dst", guarded.port, REAL_PASSWORD, kind="target")
    failures: dict[str, str] = {}
    log_lines: dict[str, str] = {}
    for i, password in enumerate([REFERENCE_PASSWORD, "1", "password", LONG_PASSWORD]):
        source = create_endpoint(dms, f"src-{i}", guarded.port, password)
        arn = create_task(
            dms,
            f"load-{i}",
            source=source,
            target=target,
            instance=instance,
            ReplicationTaskSettings=json.dumps({"Logging": {"EnableLogging": True}}),
        )

        def task(arn: str = arn) -> dict[str, Any]:
            found = dms.describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
            )["ReplicationTasks"][0]
            return dict(found)

        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
        wait_until(lambda: task()["Status"] == "failed")
        failures[password] = str(task()["LastFailureMessage"])

        stream = f"dms-task-{arn.rsplit(':', 1)[1]}"
        events: list[str] = []

        def logged_failure(stream: str = stream, events: list[str] = events) -> bool:
            page = logs.get_log_events(
                logGroupName="dms-tasks-local", logStreamName=stream, startFromHead=True
            )
            events[:] = [str(event["message"]) for event in page["events"]]
            return any("password authentication failed" in line for line in events)

        wait_until(logged_failure)
        # The lines without what differs from task to task: time stamps and the task's name.
        log_lines[password] = "\n".join(
            line.split("]", 1)[-1].replace(f"load-{i}", "load-N")
            for line in events
            if "password authentication" in line
        )
        assert LONG_PASSWORD not in json.dumps(task(), default=str)
    assert_never_shown(
        failures,
        [
            "Error connecting to source database",
            f"127.0.0.1:{guarded.port}",
            f'password authentication failed for user "{SUPERUSER}"',
        ],
    )
    assert_never_shown(log_lines, ['password authentication failed for user "postgres"'])
    endpoints = json.dumps(dms.describe_endpoints()["Endpoints"], default=str)
    assert LONG_PASSWORD not in endpoints and REAL_PASSWORD not in endpoints
