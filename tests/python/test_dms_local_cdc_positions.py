"""Where CDC starts and stops: CdcStartPosition, CdcStopPosition (server_time and commit_time),
CdcStartTime (refused for PostgreSQL sources, as DMS does), and the target's awsdms_txn_state
row that a resume continues from. boto3 against dms-local and real PostgreSQL."""

from __future__ import annotations

import datetime
import time
from typing import Any

import botocore.exceptions
import pytest

import test_dms_local_cdc
from dagster_dms.testing import DmsLocalServer
from dms_local_fixture import (  # noqa: F401  (the fixtures: the data-plane `server`, `databases`)
    databases_fixture,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_cdc import (
    delete_and_check_slots,
    make_db,
    setup_task,
    slots,
    stop,
    wait_replicating,
)
from test_dms_local_full_load import describe_task, wait_for_end, wait_until

SCHEMA_SQL = """
CREATE SCHEMA app;
CREATE TABLE app.items (id integer PRIMARY KEY, name text, qty integer, tags text[]);
CREATE TABLE app.pairs (a integer, b integer, val text, PRIMARY KEY (a, b));
CREATE TABLE app.notes (k text, v text);
"""


def ids(cluster: PgCluster, db: str) -> list[int]:
    out = cluster.psql("SELECT id FROM app.items ORDER BY id", db)
    return [int(line) for line in out.split()]


def insert(cluster: PgCluster, db: str, first: int, last: int) -> None:
    """One transaction per row, each with a note (no key: a replayed insert shows twice)."""
    cluster.psql(
        "".join(
            f"BEGIN; INSERT INTO app.items VALUES ({i}, 'i{i}', {i}, NULL); "
            f"INSERT INTO app.notes VALUES ('n{i}', NULL); COMMIT;\n"
            for i in range(first, last + 1)
        ),
        db,
    )


def notes(cluster: PgCluster, db: str) -> list[str]:
    return cluster.psql("SELECT k FROM app.notes ORDER BY k", db).split()


def utc_text(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )


def api_error(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(**kwargs)
    return dict(raised.value.response["Error"])


def cdc_task(
    server: DmsLocalServer, cluster: PgCluster, databases: list[str], name: str, **settings: Any
) -> tuple[Any, str, str, str]:
    """A cdc task into an empty copy of the source's tables, replicating and then stopped: its
    slot holds every later change for the next start."""
    source = make_db(cluster, databases, f"{name}_source", SCHEMA_SQL)
    target = make_db(cluster, databases, f"{name}_target", SCHEMA_SQL)
    dms, arn = setup_task(server, cluster, source, target, "cdc", settings or None)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_replicating(dms, arn)
    stop(dms, arn)
    return dms, arn, source, target


def test_the_target_records_each_position_in_awsdms_txn_state(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    control = {"ControlTablesSettings": {"ControlSchema": "dms_control"}}
    dms, arn, source, target = cdc_task(server, pg_cluster, databases, "txnstate", **control)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    insert(pg_cluster, source, 1, 5)
    wait_until(lambda: ids(pg_cluster, target) == [1, 2, 3, 4, 5], timeout=30)
    stopped = stop(dms, arn)
    row = pg_cluster.psql(
        "SELECT task_name, slot_name, checkpoint, confirmed_lsn, source_commit_time IS NOT NULL "
        "FROM dms_control.awsdms_txn_state",
        target,
    ).split("|")
    task_name, slot, checkpoint, lsn, has_commit_time = (part.strip() for part in row)
    assert task_name == arn.rsplit(":", 1)[1]
    assert [slot] == slots(pg_cluster)
    # The target's row and the stored RecoveryCheckpoint agree after a clean stop.
    assert checkpoint == stopped["RecoveryCheckpoint"], (checkpoint, stopped)
    high, low = lsn.split("/")
    assert checkpoint == f"checkpoint:V1#1#{int(high, 16):08X}/{int(low, 16):08X}#0#0#*#0#0"
    assert has_commit_time == "t"
    dms.delete_replication_task(ReplicationTaskArn=arn)


def test_cdc_start_position_skips_what_came_before_it(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms, arn, source, target = cdc_task(server, pg_cluster, databases, "startpos")
    insert(pg_cluster, source, 1, 5)
    # The insert position: the test cluster commits asynchronously, so the write position may
    # still be behind the last commit.
    position = pg_cluster.psql("SELECT pg_current_wal_insert_lsn()", source).strip()
    insert(pg_cluster, source, 6, 10)
    dms.start_replication_task(
        ReplicationTaskArn=arn,
        StartReplicationTaskType="resume-processing",
        CdcStartPosition=position,
    )
    wait_until(lambda: ids(pg_cluster, target) == [6, 7, 8, 9, 10], timeout=30)
    insert(pg_cluster, source, 11, 12)
    wait_until(lambda: ids(pg_cluster, target)[-1:] == [12], timeout=30)
    assert ids(pg_cluster, target) == list(range(6, 13))
    assert notes(pg_cluster, target) == sorted(f"n{i}" for i in range(6, 13))
    task = stop(dms, arn)
    assert task["CdcStartPosition"] == position

    # A position the slot has gone past cannot be delivered again: the run fails and says why.
    dms.start_replication_task(
        ReplicationTaskArn=arn,
        StartReplicationTaskType="resume-processing",
        CdcStartPosition="checkpoint:V1#1#00000000/00000001#0#0#*#0#0",
    )
    failed = wait_for_end(dms, arn, timeout=30)
    assert failed["Status"] == "failed", failed
    message = failed["LastFailureMessage"]
    (slot,) = slots(pg_cluster)
    confirmed = pg_cluster.psql(
        f"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{slot}'"
    ).strip()
    assert "CdcStartPosition 0/1 " in message, message
    assert f"its confirmed position is {confirmed}" in message, message
    # Nothing was applied twice meanwhile.
    assert ids(pg_cluster, target) == list(range(6, 13))
    delete_and_check_slots(dms, arn, pg_cluster)


def test_a_new_slot_cannot_start_before_its_creation(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "newslot_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "newslot_target", SCHEMA_SQL)
    dms, arn = setup_task(server, pg_cluster, source, target, "cdc")
    dms.start_replication_task(
        ReplicationTaskArn=arn,
        StartReplicationTaskType="start-replication",
        CdcStartPosition="0/10",
    )
    failed = wait_for_end(dms, arn, timeout=30)
    assert failed["Status"] == "failed", failed
    assert "CdcStartPosition 0/10 is before what replication slot" in failed["LastFailureMessage"]
    delete_and_check_slots(dms, arn, pg_cluster)


def test_cdc_stop_position_at_commit_time_then_resume_exactly_after_it(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms, arn, source, target = cdc_task(server, pg_cluster, databases, "committime")
    insert(pg_cluster, source, 1, 3)  # committed before the stop time
    stop_at = int(time.time()) + 1
    wait_until(lambda: time.time() >= stop_at + 1.05, timeout=5, interval=0.05)
    insert(pg_cluster, source, 4, 6)  # committed after it
    dms.start_replication_task(
        ReplicationTaskArn=arn,
        StartReplicationTaskType="resume-processing",
        CdcStopPosition=f"commit_time:{utc_text(stop_at)}",
    )
    task = wait_for_end(dms, arn, timeout=30)
    assert task["Status"] == "stopped", task
    assert task["StopReason"] == "Stop Reason STOPPED_AT_COMMIT_TIME", task
    assert ids(pg_cluster, target) == [1, 2, 3]

    # Resumed with a later stop position, the run goes on with the first transaction after it.
    dms.start_replication_task(
        ReplicationTaskArn=arn,
        StartReplicationTaskType="resume-processing",
        CdcStopPosition="commit_time:2099-01-01T00:00:00",
    )
    wait_until(lambda: ids(pg_cluster, target) == list(range(1, 7)), timeout=30)
    assert notes(pg_cluster, target) == notes(pg_cluster, source)
    stop(dms, arn)
    dms.delete_replication_task(ReplicationTaskArn=arn)


def test_cdc_stop_position_at_server_time(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    dms, arn, source, target = cdc_task(server, pg_cluster, databases, "servertime")
    insert(pg_cluster, source, 1, 3)
    stop_epoch = int(time.time()) + 2
    stop_at = utc_text(stop_epoch)
    dms.start_replication_task(
        ReplicationTaskArn=arn,
        StartReplicationTaskType="resume-processing",
        CdcStopPosition=f"server_time:{stop_at}",
    )
    task = wait_for_end(dms, arn, timeout=30)
    assert task["Status"] == "stopped", task
    assert task["StopReason"] == "Stop Reason STOPPED_AT_SERVER_TIME", task
    assert task["CdcStopPosition"] == f"server_time:{stop_at}"
    assert task["ReplicationTaskStats"]["StopDate"].timestamp() >= stop_epoch, task
    # How much was applied before the clock got there depends on the machine's speed; whatever it
    # was, the resumed run goes on from exactly there.
    insert(pg_cluster, source, 4, 5)
    dms.start_replication_task(
        ReplicationTaskArn=arn,
        StartReplicationTaskType="resume-processing",
        CdcStopPosition="server_time:2099-01-01T00:00:00",
    )
    wait_until(lambda: ids(pg_cluster, target) == [1, 2, 3, 4, 5], timeout=30)
    assert notes(pg_cluster, target) == notes(pg_cluster, source)
    stop(dms, arn)
    dms.delete_replication_task(ReplicationTaskArn=arn)


def test_malformed_positions_and_cdc_start_time_are_refused_at_the_api(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source = make_db(pg_cluster, databases, "badpos_source", SCHEMA_SQL)
    target = make_db(pg_cluster, databases, "badpos_target", SCHEMA_SQL)
    dms, arn = setup_task(server, pg_cluster, source, target, "cdc")
    task = describe_task(dms, arn)
    create = {
        "ReplicationTaskIdentifier": "other",
        "SourceEndpointArn": task["SourceEndpointArn"],
        "TargetEndpointArn": task["TargetEndpointArn"],
        "ReplicationInstanceArn": task["ReplicationInstanceArn"],
        "MigrationType": "cdc",
        "TableMappings": test_dms_local_cdc.MAPPINGS,
    }
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (dms.create_replication_task, {**create, "CdcStopPosition": "tomorrow"}, "CdcStopPosition"),
        (dms.create_replication_task, {**create, "CdcStartPosition": "4AF"}, "CdcStartPosition"),
        (
            dms.modify_replication_task,
            {"ReplicationTaskArn": arn, "CdcStopPosition": "server_time:2026-02-30T00:00:00"},
            "CdcStopPosition",
        ),
        (
            dms.start_replication_task,
            {
                "ReplicationTaskArn": arn,
                "StartReplicationTaskType": "start-replication",
                "CdcStopPosition": "commit_time:2026-01-01 00:00:00",
            },
            "CdcStopPosition",
        ),
        (
            dms.start_replication_task,
            {
                "ReplicationTaskArn": arn,
                "StartReplicationTaskType": "start-replication",
                "CdcStartTime": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
            },
            "CdcStartTime is not supported for PostgreSQL sources",
        ),
    ]
    for call, kwargs, named in cases:
        error = api_error(call, **kwargs)
        assert error["Code"] == "InvalidParameterValueException", (kwargs, error)
        assert named in error["Message"], (kwargs, error)
    # Nothing was started or changed by the refused calls.
    after = describe_task(dms, arn)
    assert after["Status"] == "ready" and "CdcStopPosition" not in after, after
    assert slots(pg_cluster) == []
    dms.delete_replication_task(ReplicationTaskArn=arn)
