"""dms-local capturing changes from a MariaDB binary log into PostgreSQL: a full-load-and-cdc task
keeps the target equal to the source under a steady write load, every mapped type arrives through
the binary log exactly as the full load writes it, CdcStartPosition takes DMS's MySQL form, a
purged binary log is a clear failure, and SIGKILL rounds with resume-processing lose and repeat
nothing.

DMS_CRASH_ROUNDS sets the number of SIGKILL rounds (default 8); DMS_CRASH_SEED replays a run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_postgres_endpoint,
    create_task,
    describe_task,
    selection_rules,
    wait_until,
)
from dagster_dms.testing.mariadb import MariaDbCluster
from dms_local_fixture import (  # noqa: F401  (fixtures)
    boto3_dms,
    databases_fixture,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_mysql import DMS_PASSWORD, DMS_USER, EXPECTED_TYPES, TYPES_SQL, mysql_endpoint

SCHEMA_SQL = """
CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL, note varchar(40));
CREATE TABLE orders (id bigint unsigned PRIMARY KEY, account int, qty int, state varchar(20));
-- No key and only inserts: a replayed insert shows as a second row, a lost one as a missing row.
CREATE TABLE changelog (txn bigint NOT NULL, op varchar(8) NOT NULL, ref bigint);
INSERT INTO accounts SELECT seq, seq * 10, 'seed' FROM seq_1_to_2000;
INSERT INTO orders SELECT seq, seq % 2000 + 1, seq % 7, 'new' FROM seq_1_to_20000;
INSERT INTO changelog SELECT seq, 'seed', seq FROM seq_1_to_1000;
"""

# Each table's rows in a text form both servers produce alike, in a stable order.
ROWS_SQL = {
    "accounts": "SELECT id, balance, COALESCE(note, '<null>') FROM {t} ORDER BY id",
    "orders": "SELECT id, account, qty, COALESCE(state, '<null>') FROM {t} ORDER BY id",
    "changelog": "SELECT txn, op, ref FROM {t} ORDER BY txn, op, ref",
}


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDbCluster]:
    with MariaDbCluster() as cluster:
        cluster.create_user(DMS_USER, DMS_PASSWORD)
        yield cluster


def source_rows(cluster: MariaDbCluster, database: str, table: str) -> list[str]:
    return cluster.sql(ROWS_SQL[table].format(t=table), database).splitlines()


def target_rows(cluster: PgCluster, database: str, schema: str, table: str) -> list[str]:
    out = cluster.psql(
        f"COPY ({ROWS_SQL[table].format(t=f'{schema}.{table}')}) TO STDOUT", database
    )
    return out.splitlines()


def same_data(mariadb: MariaDbCluster, pg: PgCluster, source_db: str, target_db: str) -> bool:
    """Both sides hold the same rows; when they do not yet, waits half a second before saying so
    (every check runs six client processes: no need to spin)."""
    same = all(
        source_rows(mariadb, source_db, table) == target_rows(pg, target_db, source_db, table)
        for table in ROWS_SQL
    )
    if not same:
        time.sleep(0.5)
    return same


class SourceLoad:
    """A steady stream of small source transactions (inserts, updates and deletes over two keyed
    tables, each with a change-log row) through one `mariadb` client, on its own thread."""

    def __init__(self, cluster: MariaDbCluster, database: str, rng: random.Random) -> None:
        self._rng = rng
        self._stop = threading.Event()
        self._process = subprocess.Popen(
            [
                "mariadb",
                "--no-defaults",
                f"--socket={cluster.socket_path}",
                "--user=root",
                f"--database={database}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.transactions = 0

    def __enter__(self) -> SourceLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def _transaction(self, txn: int) -> str:
        rng = self._rng
        account = rng.randint(1, 2600)
        order = rng.randint(1, 20000 + txn)
        kind = rng.randrange(6)
        if kind == 0:
            change = (
                f"INSERT INTO accounts VALUES ({account}, {txn}, 'new {txn}') "
                f"ON DUPLICATE KEY UPDATE balance = VALUES(balance);"
            )
        elif kind == 1:
            change = f"DELETE FROM accounts WHERE id = {account};"
        elif kind == 2:
            change = f"INSERT INTO orders VALUES ({20000 + txn}, {account}, 1, 'new');"
        elif kind == 3:
            change = f"UPDATE orders SET qty = qty + 1, state = 's{txn}' WHERE id = {order};"
        elif kind == 4:
            change = f"DELETE FROM orders WHERE id = {order};"
        else:
            change = (
                f"UPDATE accounts SET balance = balance - 5 WHERE id = {account}; "
                f"UPDATE accounts SET balance = balance + 5 WHERE id = {account % 2000 + 1};"
            )
        log = f"INSERT INTO changelog VALUES ({txn}, 'k{kind}', {order});"
        return f"BEGIN; {change} {log} COMMIT;\n"

    def _run(self) -> None:
        txn = 0
        while not self._stop.is_set():
            txn += 1
            assert self._process.stdin is not None
            self._process.stdin.write(self._transaction(txn))
            self._process.stdin.flush()
            self.transactions = txn
            time.sleep(0.004)

    def finish(self) -> None:
        """Stops writing and waits until the client has committed everything written."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=30)
        assert self._process.stdin is not None
        self._process.stdin.close()
        assert self._process.wait(timeout=120) == 0, "the source load failed"


def make_source(mariadb: MariaDbCluster, name: str) -> str:
    mariadb.create_database(name)
    mariadb.sql(SCHEMA_SQL, name)
    return name


def make_task(
    dms: Any,
    mariadb: MariaDbCluster,
    pg: PgCluster,
    databases: list[str],
    source_db: str,
    name: str,
    migration_type: str = "full-load-and-cdc",
    table: str = "%",
    target_db: str | None = None,
    **extra: Any,
) -> tuple[str, str]:
    """A task (and its endpoints and instance) from `source_db` into a PostgreSQL database,
    `<source_db>_target` made anew unless `target_db` names an existing one; returns the task's
    ARN and the target database."""
    if target_db is None:
        target_db = f"{source_db}_target"
        pg.create_database(target_db)
        databases.append(target_db)
    arn = create_task(
        dms,
        name,
        source=mysql_endpoint(dms, f"src-{name}", mariadb, source_db),
        target=create_postgres_endpoint(
            dms,
            f"dst-{name}",
            "target",
            port=pg.port,
            database=target_db,
            username=pg.user,
            password="unused",
        ),
        instance=create_available_instance(dms, f"inst-{name}"),
        table_mappings=selection_rules(source_db, table),
        migration_type=migration_type,
        **extra,
    )
    return arn, target_db


def table_stats(dms: Any, arn: str) -> dict[str, dict[str, Any]]:
    stats = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    return {str(t["TableName"]): dict(t) for t in stats}


def test_full_load_and_cdc_keeps_the_target_equal_under_a_steady_write_load(
    server: DmsLocalServer, mariadb: MariaDbCluster, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source_db = make_source(mariadb, "steady")
    dms = boto3_dms(server.url)
    arn, target_db = make_task(dms, mariadb, pg_cluster, databases, source_db, "steady")
    with SourceLoad(mariadb, source_db, random.Random(17)) as load:
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
        wait_until(
            lambda: describe_task(dms, arn)["Status"] == "running", "task running", timeout=120
        )
        wait_until(
            lambda: (
                load.transactions > 300
                and describe_task(dms, arn)["ReplicationTaskStats"]["FullLoadProgressPercent"]
                == 100
            ),
            "full load done under load",
            timeout=180,
        )
        after_load = load.transactions
        wait_until(
            lambda: load.transactions > after_load + 300, "changes after the load", timeout=120
        )
        load.finish()
    started = time.monotonic()
    wait_until(
        lambda: same_data(mariadb, pg_cluster, source_db, target_db),
        "target equal to the source",
        timeout=180,
    )
    print(
        f"CDC drained {load.transactions} transactions; caught up in "
        f"{time.monotonic() - started:.1f} s after the load stopped"
    )
    task = describe_task(dms, arn)
    assert task["Status"] == "running", task
    assert task["RecoveryCheckpoint"].startswith("checkpoint:"), task

    # Each source transaction wrote one changelog row: the snapshot split them exactly between
    # the load and the change stream (the statistics are published at the report interval).
    def changelog_split() -> tuple[int, int, int]:
        table = table_stats(dms, arn)["changelog"]
        return table["FullLoadRows"], table["Inserts"], table["AppliedInserts"]

    wait_until(
        lambda: sum(changelog_split()[:2]) == 1000 + load.transactions,
        "changelog statistics complete",
        timeout=60,
    )
    loaded, inserts, applied = changelog_split()
    assert inserts >= 300 and applied == inserts, (loaded, inserts, applied)
    stats = table_stats(dms, arn)
    assert stats["orders"]["Deletes"] >= 1 and stats["orders"]["Updates"] >= 1, stats
    assert stats["accounts"]["Updates"] >= 1, stats
    # Every change of the changelog was read after the load or loaded with it: exact counts.
    rows = int(pg_cluster.psql(f"SELECT count(*) FROM {source_db}.changelog", target_db))
    assert rows == 1000 + load.transactions

    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_until(lambda: describe_task(dms, arn)["Status"] == "stopped", "stopped", timeout=60)
    # Changes made while the task is stopped arrive after resume-processing.
    mariadb.sql(
        "INSERT INTO changelog VALUES (-1, 'stopped', 0); DELETE FROM accounts WHERE id = 7;",
        source_db,
    )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    wait_until(
        lambda: same_data(mariadb, pg_cluster, source_db, target_db),
        "resumed changes applied",
        timeout=120,
    )
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_until(lambda: describe_task(dms, arn)["Status"] == "stopped", "stopped", timeout=60)


def test_every_type_arrives_through_the_binlog_as_the_full_load_writes_it(
    server: DmsLocalServer, mariadb: MariaDbCluster, pg_cluster: PgCluster, databases: list[str]
) -> None:
    mariadb.create_database("typed")
    mariadb.sql(TYPES_SQL, "typed")
    dms = boto3_dms(server.url)
    arn, target_db = make_task(dms, mariadb, pg_cluster, databases, "typed", "typed")
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_until(
        lambda: (
            describe_task(dms, arn)["Status"] == "running"
            and table_stats(dms, arn).get("types", {}).get("TableState") == "Table completed"
        ),
        "typed table loaded",
        timeout=120,
    )
    # The same values again, through the binary log: inserted, then updated into place, so
    # inserts, updates and deletes all carry every type.
    mariadb.sql(
        "SET SESSION sql_mode = '';"
        "INSERT INTO types SELECT id + 100, i8, u8, i16, u16, i24, u24, i32, u32, i64, u64, dec_, "
        "f, d, flag, bits, day, dt, ts, t, y, code, name, latin, note, big, bin, vbin, blb, size, "
        "tags, doc FROM types;"
        "INSERT INTO types (id) VALUES (200), (201);"
        "UPDATE types t JOIN types s ON s.id = 1 SET t.i8 = s.i8, t.u8 = s.u8, t.i16 = s.i16, "
        "t.u16 = s.u16, t.i24 = s.i24, t.u24 = s.u24, t.i32 = s.i32, t.u32 = s.u32, "
        "t.i64 = s.i64, t.u64 = s.u64, t.dec_ = s.dec_, t.f = s.f, t.d = s.d, t.flag = s.flag, "
        "t.bits = s.bits, t.day = s.day, t.dt = s.dt, t.ts = s.ts, t.t = s.t, t.y = s.y, "
        "t.code = s.code, t.name = s.name, t.latin = s.latin, t.note = s.note, t.big = s.big, "
        "t.bin = s.bin, t.vbin = s.vbin, t.blb = s.blb, t.size = s.size, t.tags = s.tags, "
        "t.doc = s.doc WHERE t.id = 200;"
        "DELETE FROM types WHERE id = 201;",
        "typed",
    )
    columns = ", ".join(f"{c}::text" for c in EXPECTED_TYPES)

    def rows(where: str) -> list[str]:
        return pg_cluster.psql(
            f"COPY (SELECT {columns} FROM typed.types WHERE {where} ORDER BY id) TO STDOUT",
            target_db,
        ).splitlines()

    wait_until(lambda: len(rows("id >= 100")) == 4, "typed changes applied", timeout=120)
    loaded = rows("id < 100")
    assert rows("id BETWEEN 100 AND 199") == loaded
    assert rows("id = 200") == loaded[:1]
    assert rows("id = 201") == []

    def counted() -> tuple[int, ...]:
        stats = table_stats(dms, arn)["types"]
        return tuple(stats[name] for name in COUNTERS)

    # Published at the report interval.
    wait_until(lambda: counted() == (5, 1, 1, 5, 1, 1), "typed statistics", timeout=60)
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_until(lambda: describe_task(dms, arn)["Status"] == "stopped", "stopped", timeout=60)


COUNTERS = ("Inserts", "Updates", "Deletes", "AppliedInserts", "AppliedUpdates", "AppliedDeletes")


def master_position(mariadb: MariaDbCluster) -> str:
    file, position = mariadb.sql("SHOW MASTER STATUS").split("\t")[:2]
    return f"{file}:{position}"


def test_cdc_start_position_in_binlog_form_and_a_purged_binlog(
    server: DmsLocalServer, mariadb: MariaDbCluster, pg_cluster: PgCluster, databases: list[str]
) -> None:
    source_db = make_source(mariadb, "positions")
    dms = boto3_dms(server.url)
    target_db = f"{source_db}_target"
    pg_cluster.create_database(target_db)
    databases.append(target_db)
    # The target already holds the tables as they were at `position` (a load done elsewhere).
    pg_cluster.psql(
        f"CREATE SCHEMA {source_db}; CREATE TABLE {source_db}.changelog (txn bigint NOT NULL, "
        "op varchar(8) NOT NULL, ref bigint);",
        target_db,
    )
    position = master_position(mariadb)
    mariadb.sql("INSERT INTO changelog VALUES (5001, 'after', 1), (5002, 'after', 2);", source_db)

    def from_position(name: str) -> str:
        arn, _ = make_task(
            dms,
            mariadb,
            pg_cluster,
            databases,
            source_db,
            name,
            migration_type="cdc",
            table="changelog",
            target_db=target_db,
            CdcStartPosition=position,
        )
        return arn

    arn = from_position("from-position")
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_until(
        lambda: (
            pg_cluster.psql(
                f"SELECT string_agg(txn::text, ',' ORDER BY txn) FROM {source_db}.changelog",
                target_db,
            ).strip()
            == "5001,5002"
        ),
        "changes after CdcStartPosition applied",
        timeout=120,
    )
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_until(lambda: describe_task(dms, arn)["Status"] == "stopped", "stopped", timeout=60)

    # The binary log holding that position goes: the task cannot start there any more.
    mariadb.sql("FLUSH BINARY LOGS;")
    current = master_position(mariadb).split(":")[0]
    old_file = position.split(":")[0]

    def purged() -> bool:
        # The server refuses to purge a file a dump thread still reads: the stopped task's
        # thread may take a moment to notice its client went.
        mariadb.sql(f"PURGE BINARY LOGS TO '{current}';", check=False)
        return old_file not in mariadb.sql("SHOW BINARY LOGS")

    wait_until(purged, "the old binary log purged", timeout=120)
    purged = from_position("purged")
    dms.start_replication_task(
        ReplicationTaskArn=purged, StartReplicationTaskType="start-replication"
    )
    wait_until(
        lambda: describe_task(dms, purged)["Status"] in ("failed", "stopped"),
        "purged task ended",
        timeout=120,
    )
    task = describe_task(dms, purged)
    assert "was purged" in task["LastFailureMessage"], task
    assert position in task["LastFailureMessage"], task

    with pytest.raises(ClientError, match="InvalidParameterValueException"):
        dms.modify_replication_task(ReplicationTaskArn=purged, CdcStartPosition="not-a-position")


def crash_rounds() -> int:
    return int(os.environ.get("DMS_CRASH_ROUNDS", "8"))


@pytest.mark.timeout(1800)
def test_sigkill_rounds_with_resume_processing_keep_the_target_exact(
    server: DmsLocalServer, mariadb: MariaDbCluster, pg_cluster: PgCluster, databases: list[str]
) -> None:
    seed = int(os.environ.get("DMS_CRASH_SEED", str(random.SystemRandom().randrange(2**32))))
    print(f"crash test seed: {seed} (DMS_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    rounds = crash_rounds()
    source_db = make_source(mariadb, "crash")
    dms = boto3_dms(server.url)
    arn, target_db = make_task(dms, mariadb, pg_cluster, databases, source_db, "crash")
    with SourceLoad(mariadb, source_db, rng) as load:
        start_type = "start-replication"
        for round_ in range(rounds):
            dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType=start_type)
            start_type = "resume-processing"
            time.sleep(rng.uniform(0.0, 0.5 if round_ < 2 else 2.0))
            task = describe_task(dms, arn)
            assert task["Status"] in ("starting", "running"), f"seed {seed}: {task}"
            dms.close()
            assert server.restart(signal.SIGKILL) == -signal.SIGKILL
            dms = boto3_dms(server.url)
            task = describe_task(dms, arn)
            assert task["Status"] == "failed", f"seed {seed}, round {round_}: {task}"
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType=start_type)
        time.sleep(0.5)
        load.finish()
        assert load.transactions > rounds, "the source barely changed"

    def caught_up() -> bool:
        task = describe_task(dms, arn)
        assert task["Status"] in ("starting", "running"), f"seed {seed}: {task}"
        return same_data(mariadb, pg_cluster, source_db, target_db)

    wait_until(caught_up, f"seed {seed}: target equal to the source", timeout=240)
    rows = int(pg_cluster.psql(f"SELECT count(*) FROM {source_db}.changelog", target_db))
    assert rows == 1000 + load.transactions, f"seed {seed}"
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_until(lambda: describe_task(dms, arn)["Status"] == "stopped", "stopped", timeout=60)
