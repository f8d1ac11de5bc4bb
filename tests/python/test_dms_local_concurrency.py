"""dms-local keeps answering readers while a write is under way: Describe and List operations
read a snapshot of the state store beside the writer instead of queueing behind it."""

from __future__ import annotations

import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import create_postgres_endpoint, local_client
from dms_local_fixture import dms_local_fixture  # noqa: F401  (the fixture)


def endpoint(dms: Any, name: str) -> str:
    return create_postgres_endpoint(
        dms,
        name,
        "source",
        server="localhost",
        port=5432,
        database="db",
        username="dms",
        password="secret",
    )


def test_readers_answer_while_a_long_write_holds_the_store(dms_local: DmsLocalServer) -> None:
    dms = local_client(dms_local.url)
    first = endpoint(dms, "first")
    # Another connection to the state file holds SQLite's write lock: dms-local's next write
    # (CreateEndpoint below) waits for it, inside the request, for as long as it is held.
    blocker = sqlite3.connect(dms_local.state_dir / "dms-local.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            writing = pool.submit(endpoint, local_client(dms_local.url), "second")
            answers = []
            deadline = time.monotonic() + 4  # within the store's 5 s wait for the lock
            for _ in range(10):
                listed = dms.describe_endpoints()["Endpoints"]
                answers.append([e["EndpointArn"] for e in listed])
                assert time.monotonic() < deadline, "readers waited for the writer"
            # Every read answered while the write was still held up, from the last commit.
            assert not writing.done()
            assert answers == [[first]] * 10
        finally:
            blocker.execute("COMMIT")
            blocker.close()
        second = writing.result(timeout=60)
    listed = {e["EndpointArn"] for e in dms.describe_endpoints()["Endpoints"]}
    assert listed == {first, second}


def test_a_read_that_records_a_due_change_still_answers_and_persists_it(
    dms_local: DmsLocalServer,
) -> None:
    dms = local_client(dms_local.url)
    created = dms.create_replication_instance(
        ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.t3.micro"
    )["ReplicationInstance"]
    assert created["ReplicationInstanceStatus"] == "creating"

    def status() -> str:
        (found,) = dms.describe_replication_instances()["ReplicationInstances"]
        return str(found["ReplicationInstanceStatus"])

    deadline = time.monotonic() + 60
    while status() != "available":
        assert time.monotonic() < deadline, "the instance never became available"
        time.sleep(0.05)
    # A Describe found the change due and, answering as a writer, stored it.
    with sqlite3.connect(dms_local.state_dir / "dms-local.sqlite3") as state:
        (doc,) = state.execute("SELECT doc FROM replication_instances").fetchone()
    assert json.loads(doc)["ReplicationInstanceStatus"] == "available"
