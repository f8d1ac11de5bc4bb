"""Part 6 of the benchmark: MariaDB -> PostgreSQL, a full load against the practical limit and the
drain of a binary log backlog by a full-load-and-cdc task.

A throw-away MariaDB server (dagster_dms.testing.mariadb: binary log on, ROW/FULL) holds database
`src` with table `t` of BENCH_MYSQL_ROWS (1000000) rows of mixed types (bigint unsigned key,
varchar, decimal, double, datetime, date, tinyint); a throw-away PostgreSQL cluster holds the
targets. The reference is ``mariadb --batch --raw -e "SELECT ..." | psql -c "COPY t FROM STDIN"``
into an empty table of the mapped definition (the rows hold no tab, newline, backslash or NULL,
so the client's tab-separated output is COPY's text format). A dms-local full-load task copies
`src` into database `dst`; each is timed from its start to the last row committed (the task:
StartReplicationTask to `stopped`, polled every 0.2 s). The two alternate BENCH_REPEAT (3) times.

The drain: a full-load-and-cdc task on a 1000-row copy is stopped, BENCH_MYSQL_BACKLOG (100000)
rows are written in transactions of 10 rows, and `resume-processing` is timed until the target
holds them all (polled every 0.2 s): rows per second of binary log read, decoded and applied.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    SHORT_DELAY_ARGS,
    bench_server,
    dms_client,
    env_int,
    load_average,
    spread,
)
from dagster_dms.testing.account import (
    create_available_instance,
    create_postgres_endpoint,
    create_task,
    describe_task,
    selection_rules,
)
from dagster_dms.testing.mariadb import MariaDbCluster
from dagster_dms.testing.postgres import PgCluster

DDL = """CREATE TABLE t (id bigint unsigned PRIMARY KEY, name varchar(60), amount decimal(12,2),
    ratio double, created datetime, day date, flag tinyint)"""
FILL = """INSERT INTO t SELECT seq, CONCAT('customer-', MD5(seq)), (seq % 100000) / 100,
    seq / 7, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND,
    DATE '2024-01-01' + INTERVAL (seq % 1000) DAY, seq % 2 FROM seq_1_to_{rows}"""
PG_DDL = """CREATE TABLE src.t (id numeric(20,0) PRIMARY KEY, name varchar(60),
    amount numeric(12,2), ratio double precision, created timestamp(0), day date, flag smallint)"""
COLUMNS = "id, name, amount, ratio, created, day, flag"


def copy_pipe(mariadb: MariaDbCluster, pg: PgCluster) -> float:
    pg.psql("TRUNCATE src.t", "ref")
    read = " ".join(
        shlex.quote(part)
        for part in [
            "mariadb",
            "--no-defaults",
            f"--socket={mariadb.socket_path}",
            "--user=root",
            "--batch",
            "--raw",
            "--skip-column-names",
            "--quick",
            "--database=src",
            "-e",
            f"SELECT {COLUMNS} FROM t",
        ]
    )
    psql = shlex.quote(str(pg.bindir / "psql"))
    write = f"{psql} -X -q -d {shlex.quote(pg.dsn('ref'))} -c 'COPY src.t FROM STDIN'"
    start = time.perf_counter()
    subprocess.run(f"set -o pipefail; {read} | {write}", shell=True, check=True, executable="bash")
    return time.perf_counter() - start


def maria_task(
    dms: Any, mariadb: MariaDbCluster, pg: PgCluster, database: str, migration_type: str
) -> str:
    """A task from MariaDB database `database` into PostgreSQL database `dst`, with its
    endpoints and instance; returns its ARN."""
    source = str(
        dms.create_endpoint(
            EndpointIdentifier="maria",
            EndpointType="source",
            EngineName="mariadb",
            ServerName=mariadb.host,
            Port=mariadb.port,
            DatabaseName=database,
            Username="bench",
            Password="bench-pw",
        )["Endpoint"]["EndpointArn"]
    )
    target = create_postgres_endpoint(
        dms, "pg", "target", port=pg.port, database="dst", username=pg.user, password=None
    )
    return create_task(
        dms,
        f"maria-{database}",
        source=source,
        target=target,
        instance=create_available_instance(dms, "bench"),
        table_mappings=selection_rules(database),
        migration_type=migration_type,
    )


def fresh_server(work: Path) -> Any:
    server = bench_server(
        Path(tempfile.mkdtemp(prefix="maria-", dir=work)) / "state", SHORT_DELAY_ARGS
    )
    server.start()
    return server


def dms_full_load(mariadb: MariaDbCluster, pg: PgCluster, work: Path) -> float:
    server = fresh_server(work)
    try:
        dms = dms_client(server.url)
        arn = maria_task(dms, mariadb, pg, "src", "full-load")
        start = time.perf_counter()
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
        while describe_task(dms, arn)["Status"] not in ("stopped", "failed"):
            time.sleep(0.2)
        wall = time.perf_counter() - start
        task = describe_task(dms, arn)
        if task.get("StopReason") != "Stop Reason FULL_LOAD_ONLY_FINISHED":
            raise RuntimeError(f"the full load did not finish: {task}")
        return wall
    finally:
        server.stop()


def count(pg: PgCluster, database: str, table: str) -> int:
    return int(pg.psql(f"SELECT count(*) FROM {table}", database).strip() or 0)


def cdc_drain(mariadb: MariaDbCluster, pg: PgCluster, work: Path, backlog: int) -> dict[str, Any]:
    mariadb.create_database("drain")
    mariadb.sql(DDL + ";" + FILL.format(rows=1000), "drain")
    pg.create_database("dst")
    server = fresh_server(work)
    try:
        dms = dms_client(server.url)
        arn = maria_task(dms, mariadb, pg, "drain", "full-load-and-cdc")
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
        while not (_has_table(pg) and count(pg, "dst", "drain.t") >= 1000):
            time.sleep(0.2)
        dms.stop_replication_task(ReplicationTaskArn=arn)
        while describe_task(dms, arn)["Status"] != "stopped":
            time.sleep(0.2)
        per_tx = 10
        statements = "".join(
            f"BEGIN; INSERT INTO t SELECT seq, 'n', 1, 1, NOW(), CURDATE(), 1 FROM "
            f"seq_{first}_to_{first + per_tx - 1}; COMMIT;\n"
            for first in range(1_000_001, 1_000_001 + backlog, per_tx)
        )
        write_start = time.perf_counter()
        mariadb.sql(statements, "drain")
        write_wall = time.perf_counter() - write_start
        start = time.perf_counter()
        dms.start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing"
        )
        while count(pg, "dst", "drain.t") < 1000 + backlog:
            time.sleep(0.2)
        wall = time.perf_counter() - start
        dms.stop_replication_task(ReplicationTaskArn=arn)
        return {"backlog": backlog, "rows_per_tx": per_tx, "wall": wall, "write_wall": write_wall}
    finally:
        server.stop()
        pg.drop_database("dst")


def _has_table(pg: PgCluster) -> bool:
    return pg.psql("SELECT to_regclass('drain.t') IS NOT NULL", "dst").strip() == "t"


def run(work: Path) -> dict[str, Any]:
    rows = env_int("BENCH_MYSQL_ROWS", 1_000_000)
    repeat = env_int("BENCH_REPEAT", 3)
    backlog = env_int("BENCH_MYSQL_BACKLOG", 100_000)
    before = load_average()
    with MariaDbCluster() as mariadb, PgCluster() as pg:
        mariadb.create_user("bench", "bench-pw")
        mariadb.create_database("src")
        fill_start = time.perf_counter()
        mariadb.sql(DDL + ";" + FILL.format(rows=rows), "src")
        fill = time.perf_counter() - fill_start
        pg.create_database("ref")
        pg.psql("CREATE SCHEMA src;" + PG_DDL, "ref")
        copy_walls, dms_walls = [], []
        for _ in range(repeat):
            copy_walls.append(copy_pipe(mariadb, pg))
            pg.create_database("dst")
            dms_walls.append(dms_full_load(mariadb, pg, work))
            loaded = count(pg, "dst", "src.t")
            if loaded != rows:
                raise RuntimeError(f"the task loaded {loaded} rows of {rows}")
            pg.drop_database("dst")
        reference = count(pg, "ref", "src.t")
        drain = cdc_drain(mariadb, pg, work, backlog)
    return {
        "rows": rows,
        "repeat": repeat,
        "fill_seconds": fill,
        "ref_count": reference,
        "copy_wall": spread(copy_walls),
        "dms_wall": spread(dms_walls),
        "drain": drain,
        "load_average_before": before,
        "load_average_after": load_average(),
    }


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="dms-bench-") as tmp:
        print(json.dumps(run(Path(tmp)), indent=2, default=str))
