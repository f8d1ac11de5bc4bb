"""Exactly-once CDC under crashes: dms-local is killed with SIGKILL at random moments while the
source keeps changing, restarted on the same state and resumed, round after round; in the end
the target holds exactly the source's rows.

DMS_CRASH_ROUNDS sets the number of rounds (default 30); `make soak` runs 200. DMS_CRASH_SEED
replays a run: the seed is printed with every failure.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from typing import Any

import pytest

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import create_migration_path, selection_rules
from dms_local_fixture import (  # noqa: F401  (the fixtures: the data-plane `server`, `databases`)
    databases_fixture,
    server_args_fixture,
    server_fixture,
)
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)
from test_dms_local_cdc import client, make_db, slots
from test_dms_local_full_load import (
    PASSWORD,
    create_task,
    describe_task,
    wait_until,
)

SCHEMA_SQL = """
CREATE SCHEMA load;
CREATE TABLE load.accounts (id integer PRIMARY KEY, balance bigint NOT NULL, note text);
CREATE TABLE load.orders (id bigint PRIMARY KEY, account integer, qty integer, state text);
-- No key and only inserts: a replayed insert shows as a second row, a lost one as a missing row.
CREATE TABLE load.changelog (txn bigint NOT NULL, op text NOT NULL, ref bigint);
"""

SEED_SQL = """
INSERT INTO load.accounts SELECT g, g * 10, 'seed' FROM generate_series(1, 2000) g;
INSERT INTO load.orders SELECT g, g % 2000 + 1, g % 7, 'new' FROM generate_series(1, 20000) g;
INSERT INTO load.changelog SELECT g, 'seed', g FROM generate_series(1, 1000) g;
"""

TABLES = ["load.accounts", "load.orders", "load.changelog"]
MAPPINGS = selection_rules("load", rule_name="load")


class SourceLoad:
    """A steady stream of small source transactions (inserts, updates and deletes over two keyed
    tables, each with a change-log row) through one psql session, on its own thread.

    With ``reconnect`` the load rides through restarts of the source: when psql loses its
    server it is started again (the transactions it had not run are lost, so `transactions`
    then counts the ones sent, not the ones committed: compare with the source, not with it)."""

    def __init__(
        self, cluster: PgCluster, dbname: str, rng: random.Random, reconnect: bool = False
    ) -> None:
        self._rng = rng
        self._stop = threading.Event()
        self._command = [
            str(cluster.bindir / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            cluster.dsn(dbname),
        ]
        self._reconnect = reconnect
        self._process = self._psql()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.transactions = 0
        self.reconnects = 0

    def _psql(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if self._reconnect else None,
            text=True,
        )

    def _replace_psql(self) -> None:
        """psql exits 2 when it loses its server (3 would be a failed statement: a bug)."""
        code = self._process.wait(timeout=60)
        assert code == 2, f"the source load failed with psql exit code {code}"
        self.reconnects += 1
        time.sleep(0.05)  # the source may still be restarting: don't spin
        self._process = self._psql()

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
                f"INSERT INTO load.accounts VALUES ({account}, {txn}, 'new {txn}') "
                f"ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance;"
            )
        elif kind == 1:
            change = f"DELETE FROM load.accounts WHERE id = {account};"
        elif kind == 2:
            change = f"INSERT INTO load.orders VALUES ({20000 + txn}, {account}, 1, 'new');"
        elif kind == 3:
            change = f"UPDATE load.orders SET qty = qty + 1, state = 's{txn}' WHERE id = {order};"
        elif kind == 4:
            change = f"DELETE FROM load.orders WHERE id = {order};"
        else:
            change = (
                f"UPDATE load.accounts SET balance = balance - 5 WHERE id = {account}; "
                f"UPDATE load.accounts SET balance = balance + 5 WHERE id = {account % 2000 + 1};"
            )
        log = f"INSERT INTO load.changelog VALUES ({txn}, 'k{kind}', {order});"
        return f"BEGIN; {change} {log} COMMIT;\n"

    def _run(self) -> None:
        txn = 0
        while not self._stop.is_set():
            txn += 1
            assert self._process.stdin is not None
            try:
                if self._reconnect and self._process.poll() is not None:
                    raise BrokenPipeError
                self._process.stdin.write(self._transaction(txn))
                self._process.stdin.flush()
            except (BrokenPipeError, ValueError):
                if not self._reconnect:
                    raise
                self._replace_psql()
                continue
            self.transactions = txn
            time.sleep(0.004)

    def finish(self) -> None:
        """Stops writing and waits until psql has committed everything written."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=30)
        assert self._process.stdin is not None
        try:
            self._process.stdin.write("\\q\n")
            self._process.stdin.close()
        except BrokenPipeError:
            assert self._reconnect, "the source load failed"
        code = self._process.wait(timeout=60)
        # A psql that lost its server at the very end (2) has nothing more to commit.
        assert code == 0 or (self._reconnect and code == 2), "the source load failed"


def checksums(cluster: PgCluster, dbname: str) -> dict[str, tuple[int, str]]:
    return {table: cluster.table_checksum(dbname, table) for table in TABLES}


def crash_rounds() -> int:
    return int(os.environ.get("DMS_CRASH_ROUNDS", "30"))


def alive(task: dict[str, Any], seed: int, round_: int) -> None:
    """A running task may be killed; one that failed by itself (a replayed insert hitting a
    primary key, say) is the bug this test is after."""
    assert task["Status"] in ("starting", "running"), (
        f"seed {seed}, round {round_}: the task ended by itself: {task}"
    )


# Both of DMS's apply modes: transactional (its default) and batch optimized apply, whose
# batches are held longer (BatchApplyTimeoutMin) and so are often cut by a kill.
APPLY_MODES: dict[str, dict[str, Any]] = {
    "transactional": {},
    "batch": {
        "TargetMetadata": {"BatchApplyEnabled": True},
        "ChangeProcessingTuning": {"BatchApplyTimeoutMin": 1, "BatchApplyTimeoutMax": 3},
    },
}


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("apply_mode", sorted(APPLY_MODES))
def test_sigkill_at_random_moments_keeps_the_target_exact(
    server: DmsLocalServer, pg_cluster: PgCluster, databases: list[str], apply_mode: str
) -> None:
    seed = int(os.environ.get("DMS_CRASH_SEED", str(random.SystemRandom().randrange(2**32))))
    print(f"crash test seed: {seed} (DMS_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    rounds = crash_rounds()
    source = make_db(pg_cluster, databases, "crash_source", SCHEMA_SQL + SEED_SQL)
    target = make_db(pg_cluster, databases, "crash_target", "")
    dms = client(server, "dms")
    path = create_migration_path(dms, pg_cluster, source, target, password=PASSWORD)
    settings = {"ReplicationTaskSettings": json.dumps(APPLY_MODES[apply_mode])}
    arn = create_task(dms, "crash", *path, MAPPINGS, "full-load-and-cdc", **settings)

    with SourceLoad(pg_cluster, source, rng) as load:
        start_type = "start-replication"
        for round_ in range(rounds):
            dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType=start_type)
            start_type = "resume-processing"
            # The first rounds are short enough to land in the full load (or before it starts);
            # later ones mostly in change processing.
            time.sleep(rng.uniform(0.0, 0.3 if round_ < 3 else 1.2))
            alive(describe_task(dms, arn), seed, round_)
            dms.close()
            assert server.restart(signal.SIGKILL) == -signal.SIGKILL
            dms = client(server, "dms")
            task = describe_task(dms, arn)
            assert task["Status"] == "failed", f"seed {seed}, round {round_}: {task}"
            assert "stopped unexpectedly" in task["LastFailureMessage"], (
                f"seed {seed}, round {round_}: {task}"
            )
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType=start_type)
        time.sleep(0.5)
        load.finish()
        assert load.transactions > rounds, "the source barely changed"

    expected = checksums(pg_cluster, source)

    def caught_up() -> bool:
        alive(describe_task(dms, arn), seed, rounds)
        return checksums(pg_cluster, target) == expected

    try:
        wait_until(caught_up, timeout=120, interval=0.5)
    except AssertionError:
        pytest.fail(
            f"seed {seed}: the target differs from the source: target "
            f"{checksums(pg_cluster, target)}, source {expected}"
        )
    # Exact rows, not just equal digests of possibly empty tables.
    counts = {t: int(pg_cluster.psql(f"SELECT count(*) FROM {t}", target)) for t in TABLES}
    assert counts == {t: expected[t][0] for t in TABLES}, f"seed {seed}"
    assert counts["load.changelog"] == 1000 + load.transactions, f"seed {seed}"

    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_until(lambda: describe_task(dms, arn)["Status"] == "stopped", timeout=30)
    dms.delete_replication_task(ReplicationTaskArn=arn)
    dms.close()
    assert slots(pg_cluster) == []
