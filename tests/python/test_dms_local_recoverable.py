"""Recoverable errors, as DMS handles them (ErrorBehavior.Recoverable*): dms-local keeps a task
running through lost connections and database restarts, retries after RecoverableErrorInterval,
and resumes without losing or repeating a change; when the retries run out the task stops with
Stop Reason RECOVERABLE_ERROR.

The source and the target are two PostgreSQL clusters of their own, so each can be restarted
alone; the target is reached through a TCP proxy that breaks connections on demand.
DMS_RECOVERABLE_SEED replays a run of the restart test (its seed is printed with every failure).
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import create_postgres_endpoint, create_task, describe_task
from dms_local_fixture import FAST_ARGS, drop_databases, select_schema, serving
from pg_cluster import PgCluster
from tcp_cut_proxy import CutProxy, cut_proxy
from test_dms_local_cdc import client, wait_replicating
from test_dms_local_cdc_crash import MAPPINGS, SCHEMA_SQL, SEED_SQL, TABLES, SourceLoad
from test_dms_local_full_load import PASSWORD, create_instance, wait_for_end, wait_until

RETRY_LINE = "]W:  Recoverable error: "


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[PgCluster, PgCluster]]:
    """A source and a target cluster of their own: the tests restart them."""
    with PgCluster() as source, PgCluster() as target:
        yield source, target


@pytest.fixture()
def databases(clusters: tuple[PgCluster, PgCluster]) -> Iterator[list[str]]:
    """The test databases (same names on both clusters), dropped afterwards."""
    made: list[str] = []
    yield made
    for cluster in clusters:
        drop_databases(cluster, made)


@pytest.fixture()
def server(
    tmp_path: Path, aws_env: Path, monkeypatch: pytest.MonkeyPatch, databases: list[str]
) -> Iterator[DmsLocalServer]:
    """dms-local with its real data plane; it ends before the databases are dropped."""
    with serving(tmp_path, monkeypatch, FAST_ARGS) as server:
        yield server


def make_dbs(
    clusters: tuple[PgCluster, PgCluster], made: list[str], name: str, source_sql: str
) -> None:
    source, target = clusters
    for cluster in clusters:
        cluster.create_database(name)
    made.append(name)
    source.psql(source_sql, name)
    del target


def endpoint(dms: Any, name: str, kind: str, port: int, db: str) -> str:
    return create_postgres_endpoint(
        dms, name, kind, port=port, database=db, username="postgres", password=PASSWORD
    )


def settings(**error_behavior: Any) -> str:
    """Task settings with the task log on and a 1 s RecoverableErrorInterval (5 s by default)."""
    return json.dumps(
        {
            "Logging": {"EnableLogging": True},
            "ErrorBehavior": {"RecoverableErrorInterval": 1, **error_behavior},
        }
    )


def start_task(
    server: DmsLocalServer,
    clusters: tuple[PgCluster, PgCluster],
    proxy: CutProxy,
    db: str,
    migration: str,
    mappings: str,
    task_settings: str,
) -> tuple[Any, str]:
    """A task from the source cluster to the target cluster through the proxy, started."""
    dms = client(server, "dms")
    source = endpoint(dms, "src", "source", clusters[0].port, db)
    target = endpoint(dms, "dst", "target", proxy.port, db)
    arn = create_task(
        dms,
        "recover",
        source=source,
        target=target,
        instance=create_instance(dms),
        table_mappings=mappings,
        migration_type=migration,
        ReplicationTaskSettings=task_settings,
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    return dms, str(arn)


def task_log(server: DmsLocalServer, arn: str) -> list[str]:
    """Every line of the task's log (group dms-tasks-local, stream dms-task-<resource id>)."""
    logs = client(server, "logs")
    kwargs: dict[str, Any] = {
        "logGroupName": "dms-tasks-local",
        "logStreamName": f"dms-task-{arn.rsplit(':', 1)[-1]}",
        "startFromHead": True,
    }
    lines: list[str] = []
    while True:
        try:
            page = logs.get_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return lines  # the task has logged nothing yet
        lines += [event["message"] for event in page["events"]]
        if not page["events"]:
            return lines
        kwargs["nextToken"] = page["nextForwardToken"]


def retries(server: DmsLocalServer, arn: str) -> list[str]:
    return [line for line in task_log(server, arn) if RETRY_LINE in line]


def applied_position(cluster: PgCluster, db: str) -> str | None:
    """The source position the target holds (awsdms_txn_state), or None while unreachable."""
    try:
        return cluster.psql("SELECT confirmed_lsn FROM awsdms_txn_state", db).strip() or None
    except RuntimeError:
        return None


def applied_past(cluster: PgCluster, db: str, position: str) -> bool:
    try:
        out = cluster.psql(f"SELECT confirmed_lsn > '{position}'::pg_lsn FROM awsdms_txn_state", db)
    except RuntimeError:
        return False
    return out.strip() == "t"


def checksums(cluster: PgCluster, db: str, tables: list[str]) -> dict[str, tuple[int, str]]:
    return {table: cluster.table_checksum(db, table) for table in tables}


class RandomCuts:
    """Breaks the connections through the proxy every 0.5 to 2 s, on its own thread."""

    def __init__(self, proxy: CutProxy, rng: random.Random) -> None:
        self._proxy = proxy
        self._rng = rng
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RandomCuts:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        # A pace for the fault, not a synchronisation: the test waits on conditions.
        while not self._stop.wait(self._rng.uniform(0.5, 2.0)):
            self._proxy.cut()


@pytest.mark.timeout(600)
def test_cdc_rides_through_restarts_and_cut_connections_and_the_target_stays_exact(
    server: DmsLocalServer, clusters: tuple[PgCluster, PgCluster], databases: list[str]
) -> None:
    seed = int(os.environ.get("DMS_RECOVERABLE_SEED", str(random.SystemRandom().randrange(2**32))))
    print(f"recoverable test seed: {seed} (DMS_RECOVERABLE_SEED={seed} replays it)")
    rng = random.Random(seed)
    source, target = clusters
    make_dbs(clusters, databases, "restarts", SCHEMA_SQL + SEED_SQL)
    # Ten target restarts, five source restarts and five cuts of the target's connections at
    # the proxy, in a random order, each in a random shutdown mode; meanwhile the proxy also
    # cuts connections at random moments.
    faults = ["target"] * 10 + ["source"] * 5 + ["cut"] * 5
    rng.shuffle(faults)

    with cut_proxy(target.port) as proxy:
        dms, arn = start_task(
            server, clusters, proxy, "restarts", "full-load-and-cdc", MAPPINGS, settings()
        )
        wait_replicating(dms, arn)

        def running() -> None:
            task = describe_task(dms, arn)
            assert task["Status"] == "running", f"seed {seed}: {task}"

        with SourceLoad(source, "restarts", rng, reconnect=True) as load, RandomCuts(proxy, rng):
            for round_, fault in enumerate(faults):
                retried = len(retries(server, arn))
                mode = rng.choice(["fast", "immediate"])
                if fault == "cut":
                    wait_until(lambda: proxy.connections() > 0, timeout=60)
                    proxy.cut()
                else:
                    (source if fault == "source" else target).restart(mode)
                # Measured once the fault is over: a source shut down in fast mode first sends
                # its last changes, and the target may still apply them.
                wait_until(lambda: applied_position(target, "restarts") is not None, timeout=60)
                position = applied_position(target, "restarts")
                assert position is not None
                print(f"round {round_}: {fault} ({mode}); the target held {position}")

                # Recovered: the run logged a retry and the target applied changes since.
                def recovered(position: str = position, retried: int = retried) -> bool:
                    running()
                    return applied_past(target, "restarts", position) and (
                        len(retries(server, arn)) > retried
                    )

                try:
                    wait_until(recovered, timeout=90, interval=0.2)
                except AssertionError:
                    pytest.fail(f"seed {seed}, round {round_}: no recovery after the {fault}")
            load.finish()
        assert load.reconnects >= 5, "the source load did not see the source restarts"
        assert proxy.cuts >= 5

        expected = checksums(source, "restarts", TABLES)

        def caught_up() -> bool:
            running()
            return checksums(target, "restarts", TABLES) == expected

        try:
            wait_until(caught_up, timeout=120, interval=0.5)
        except AssertionError:
            pytest.fail(
                f"seed {seed}: the target differs from the source: target "
                f"{checksums(target, 'restarts', TABLES)}, source {expected}"
            )
        # Exact rows, not just equal digests of possibly empty tables.
        counts = {t: int(target.psql(f"SELECT count(*) FROM {t}", "restarts")) for t in TABLES}
        assert counts == {t: expected[t][0] for t in TABLES}, f"seed {seed}"
        assert counts["load.changelog"] > 1000, f"seed {seed}: the source barely changed"

        # Every fault cost the run at least one retry, each logged in the task log.
        assert len(retries(server, arn)) >= len(faults), f"seed {seed}"
        dms.stop_replication_task(ReplicationTaskArn=arn)
        task = wait_for_end(dms, arn, timeout=60)
        assert (task["Status"], task["StopReason"]) == ("stopped", "Stop Reason NORMAL"), task
        dms.delete_replication_task(ReplicationTaskArn=arn)
        wait_until(
            lambda: source.psql("SELECT count(*) FROM pg_replication_slots").strip() == "0",
            timeout=30,
        )


def test_zero_recoverable_error_count_stops_the_task_at_the_first_loss(
    server: DmsLocalServer, clusters: tuple[PgCluster, PgCluster], databases: list[str]
) -> None:
    source, _ = clusters
    make_dbs(clusters, databases, "nocount", SCHEMA_SQL + SEED_SQL)
    with cut_proxy(clusters[1].port) as proxy:
        dms, arn = start_task(
            server,
            clusters,
            proxy,
            "nocount",
            "full-load-and-cdc",
            MAPPINGS,
            settings(RecoverableErrorCount=0),
        )
        wait_replicating(dms, arn)
        proxy.down()
        # The apply session notices the loss with the next change it writes.
        source.psql("INSERT INTO load.changelog VALUES (-1, 'after the cut', 0)", "nocount")
        task = wait_for_end(dms, arn, timeout=60)
    assert task["Status"] == "failed", task
    assert task["StopReason"] == "Stop Reason RECOVERABLE_ERROR", task
    assert "RecoverableErrorCount is 0" in task["LastFailureMessage"], task
    assert PASSWORD not in task["LastFailureMessage"]
    assert retries(server, arn) == []
    assert any(
        "]E:  Task 'recover' failed (Stop Reason RECOVERABLE_ERROR)" in line
        for line in task_log(server, arn)
    )


def test_a_stop_ends_a_retry_wait_at_once_and_the_task_runs_while_it_waits(
    server: DmsLocalServer, clusters: tuple[PgCluster, PgCluster], databases: list[str]
) -> None:
    source, _ = clusters
    make_dbs(clusters, databases, "waiting", SCHEMA_SQL + SEED_SQL)
    with cut_proxy(clusters[1].port) as proxy:
        dms, arn = start_task(
            server,
            clusters,
            proxy,
            "waiting",
            "full-load-and-cdc",
            MAPPINGS,
            settings(RecoverableErrorInterval=600),
        )
        wait_replicating(dms, arn)
        proxy.down()
        source.psql("INSERT INTO load.changelog VALUES (-1, 'after the cut', 0)", "waiting")
        wait_until(lambda: retries(server, arn) != [], timeout=60)
        line = retries(server, arn)[0]
        assert "Retry 1 in 600 s (ErrorBehavior.RecoverableErrorCount -1, no limit)" in line, line
        assert describe_task(dms, arn)["Status"] == "running"
        dms.stop_replication_task(ReplicationTaskArn=arn)
        # Far less than the 600 s wait.
        task = wait_for_end(dms, arn, timeout=30)
    assert (task["Status"], task["StopReason"]) == ("stopped", "Stop Reason NORMAL"), task


FULL_LOAD_SQL = """
CREATE SCHEMA big;
CREATE TABLE big.wide (id integer PRIMARY KEY, pad text);
CREATE TABLE big.more (id integer PRIMARY KEY, pad text);
CREATE TABLE big.tiny (id integer PRIMARY KEY);
INSERT INTO big.wide SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 60000) g;
INSERT INTO big.more SELECT g, md5(g::text) FROM generate_series(1, 40000) g;
INSERT INTO big.tiny SELECT g FROM generate_series(1, 10) g;
"""
FULL_LOAD_TABLES = ["big.wide", "big.more", "big.tiny"]


def test_full_load_that_loses_its_target_retries_and_completes_exactly(
    server: DmsLocalServer, clusters: tuple[PgCluster, PgCluster], databases: list[str]
) -> None:
    source, target = clusters
    make_dbs(clusters, databases, "bulk", FULL_LOAD_SQL)
    with cut_proxy(target.port) as proxy:
        # The target goes away in the middle of the COPY data and stays away until the task
        # has logged a retry (the retries meanwhile find it refusing connections).
        proxy.down_after(1_000_000)
        dms, arn = start_task(
            server, clusters, proxy, "bulk", "full-load", select_schema("big"), settings()
        )
        wait_until(lambda: retries(server, arn) != [], timeout=60)
        assert describe_task(dms, arn)["Status"] == "running"
        proxy.up()
        task = wait_for_end(dms, arn, timeout=120)
    assert (task["Status"], task["StopReason"]) == (
        "stopped",
        "Stop Reason FULL_LOAD_ONLY_FINISHED",
    ), task
    expected = checksums(source, "bulk", FULL_LOAD_TABLES)
    assert checksums(target, "bulk", FULL_LOAD_TABLES) == expected
    assert [expected[t][0] for t in FULL_LOAD_TABLES] == [60000, 40000, 10]
    stats = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    rows = {f"{s['SchemaName']}.{s['TableName']}": s["FullLoadRows"] for s in stats}
    assert rows == {t: expected[t][0] for t in FULL_LOAD_TABLES}
    assert {s["TableState"] for s in stats} == {"Table completed"}
    assert task["ReplicationTaskStats"]["TablesLoaded"] == 3, task
    # The loss is named with its SQLSTATE: a connection exception or a server shutdown.
    assert re.search(r"SqlState: (08|57P0)", retries(server, arn)[0]), retries(server, arn)


def test_full_load_and_cdc_that_loses_its_target_during_the_load_starts_again_and_replicates(
    server: DmsLocalServer, clusters: tuple[PgCluster, PgCluster], databases: list[str]
) -> None:
    """The slot held no position yet: the retry starts afresh (a new slot, a new load)."""
    source, target = clusters
    make_dbs(clusters, databases, "bulkcdc", FULL_LOAD_SQL)
    with cut_proxy(target.port) as proxy:
        proxy.down_after(1_000_000)
        dms, arn = start_task(
            server,
            clusters,
            proxy,
            "bulkcdc",
            "full-load-and-cdc",
            select_schema("big"),
            settings(),
        )
        wait_until(lambda: retries(server, arn) != [], timeout=60)
        proxy.up()
        wait_replicating(dms, arn)
        source.psql(
            "INSERT INTO big.tiny SELECT g FROM generate_series(11, 20) g; "
            "UPDATE big.more SET pad = 'changed' WHERE id <= 100; "
            "DELETE FROM big.wide WHERE id > 59000",
            "bulkcdc",
        )
        expected = checksums(source, "bulkcdc", FULL_LOAD_TABLES)
        assert [expected[t][0] for t in FULL_LOAD_TABLES] == [59000, 40000, 20]
        wait_until(lambda: checksums(target, "bulkcdc", FULL_LOAD_TABLES) == expected, timeout=60)
        assert describe_task(dms, arn)["Status"] == "running"
        dms.stop_replication_task(ReplicationTaskArn=arn)
        task = wait_for_end(dms, arn, timeout=60)
    assert (task["Status"], task["StopReason"]) == ("stopped", "Stop Reason NORMAL"), task
    # One slot, the retry's: the first attempt's was dropped when it started again.
    assert source.psql("SELECT count(*) FROM pg_replication_slots").strip() == "1"
