"""Parts 3 and 5 of the benchmark: a PostgreSQL -> PostgreSQL full load, its speed against the
practical limit, and dms-local's peak memory.

For each size of BENCH_ROWS (1000000,10000000), one throw-away cluster
(dagster_dms.testing.postgres: initdb as the `postgres` user, fsync off) holds database `src` with
table `public.t` of that many rows of mixed types (bigint, text, numeric, double, timestamptz,
date, boolean, jsonb, uuid). The reference is ``psql -c "COPY t TO STDOUT" | psql -c "COPY t FROM
STDIN"`` into an empty copy of the table in database `ref` of the same cluster; then a dms-local
full-load task copies `src` into database `dst` (DROP_AND_CREATE), and another into database
`par` with a table-settings `parallel-load` rule: `ranges` on `id` cutting the table into
BENCH_SEGMENTS (4) equal segments. Each is timed from its start to the last row committed (a
task: from StartReplicationTask to status `stopped`, polled every 0.2 s). The three alternate
BENCH_REPEAT (3) times; the page shows medians and the spread. Each task run gets a fresh
dms-local, whose VmHWM (peak RSS) is read from /proc/<pid>/status every 50 ms. Afterwards the
four tables are compared by row count and an order-independent digest.
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
    PeakMemory,
    bench_server,
    dms_client,
    env_int,
    env_ints,
    load_average,
    spread,
)
from dagster_dms.testing.account import (
    create_available_instance,
    create_cluster_endpoint,
    create_task,
    selection_rules,
)
from dagster_dms.testing.postgres import PgCluster

DDL = """CREATE TABLE public.t (
    id bigint PRIMARY KEY, name text, amount numeric(12, 2), ratio double precision,
    created timestamptz, day date, active boolean, payload jsonb, uid uuid)"""

FILL = """INSERT INTO public.t
SELECT i, 'customer-' || md5(i::text), (i % 100000) / 100.0, i / 7.0,
       timestamptz '2024-01-01' + i * interval '1 second', date '2024-01-01' + (i % 1000),
       i % 2 = 0, jsonb_build_object('k', i, 'tag', 'x' || (i % 97)), md5(i::text)::uuid
FROM generate_series(1, {rows}) AS i"""


def copy_pipe(cluster: PgCluster) -> float:
    psql = shlex.quote(str(cluster.bindir / "psql"))
    out = f"{psql} -X -q -d {shlex.quote(cluster.dsn('src'))} -c 'COPY public.t TO STDOUT'"
    into = f"{psql} -X -q -d {shlex.quote(cluster.dsn('ref'))} -c 'COPY public.t FROM STDIN'"
    cluster.psql("TRUNCATE public.t", "ref")
    start = time.perf_counter()
    subprocess.run(f"set -o pipefail; {out} | {into}", shell=True, check=True, executable="bash")
    return time.perf_counter() - start


def parallel_mappings(rows: int, segments: int) -> str:
    """Table `public.t` in `segments` id ranges of equal size (ids run from 1 to `rows`)."""
    boundaries = [[str(1 + rows * i // segments)] for i in range(1, segments)]
    locator = {"schema-name": "public", "table-name": "t"}
    return json.dumps(
        {
            "rules": [
                {
                    "rule-type": "selection",
                    "rule-id": "1",
                    "rule-name": "t",
                    "object-locator": locator,
                    "rule-action": "include",
                },
                {
                    "rule-type": "table-settings",
                    "rule-id": "2",
                    "rule-name": "t-parallel",
                    "object-locator": locator,
                    "parallel-load": {
                        "type": "ranges",
                        "columns": ["id"],
                        "boundaries": boundaries,
                    },
                },
            ]
        }
    )


def dms_full_load(
    cluster: PgCluster, work: Path, target_db: str = "dst", mappings: str | None = None
) -> dict[str, Any]:
    # A fresh state per run: the endpoints and the task are created again each time.
    server = bench_server(
        Path(tempfile.mkdtemp(prefix="load-", dir=work)) / "state",
        SHORT_DELAY_ARGS,
    )
    server.start()
    try:
        dms = dms_client(server.url)
        arns = {}
        for name, kind, db in (("src", "source", "src"), ("dst", "target", target_db)):
            arns[name] = create_cluster_endpoint(dms, name, kind, cluster, db)
        instance = create_available_instance(dms, "bench", instance_class="dms.t3.large")
        task = create_task(
            dms,
            "bench-full-load",
            source=arns["src"],
            target=arns["dst"],
            instance=instance,
            table_mappings=mappings or selection_rules("public", "t", rule_name="t"),
        )

        def status() -> dict[str, Any]:
            found: dict[str, Any] = dms.describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [task]}]
            )["ReplicationTasks"][0]
            return found

        idle = PeakMemory(server.pid)
        idle._read()
        with PeakMemory(server.pid) as memory:
            start = time.perf_counter()
            dms.start_replication_task(
                ReplicationTaskArn=task, StartReplicationTaskType="start-replication"
            )
            while (now := status())["Status"] not in ("stopped", "failed"):
                time.sleep(0.2)
            wall = time.perf_counter() - start
        if now["Status"] != "stopped" or now.get("LastFailureMessage"):
            raise RuntimeError(f"full load failed: {now.get('LastFailureMessage')}")
        return {
            "wall": wall,
            "elapsed_ms_reported": now.get("ReplicationTaskStats", {}).get("ElapsedTimeMillis"),
            "idle_hwm_kib": idle.hwm_kib,
            "hwm_kib": memory.hwm_kib,
            "max_rss_kib": memory.max_rss_kib,
        }
    finally:
        server.stop()


# Order-independent, so it works at any size (an ordered string_agg outgrows 1 GB at 10M rows).
DIGEST = """SELECT count(*), coalesce(sum(hashtextextended(
    (id, name, amount, ratio, created, day, active, payload, uid)::text, 0)), 0) FROM public.t"""


def one_size(rows: int, repeat: int, segments: int, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": rows, "repeat": repeat, "segments": segments}
    with PgCluster() as cluster:
        for db in ("src", "ref", "dst", "par"):
            cluster.create_database(db)
        cluster.psql(DDL, "src")
        cluster.psql(DDL, "ref")
        start = time.perf_counter()
        cluster.psql(FILL.format(rows=rows) + ";\nVACUUM ANALYZE public.t;", "src")
        out["fill_seconds"] = time.perf_counter() - start
        out["table_size"] = cluster.psql(
            "SELECT pg_size_pretty(pg_total_relation_size('public.t'))", "src"
        ).strip()
        out["load_average_before"] = load_average()
        copies, loads, parallel = [], [], []
        for _ in range(repeat):
            copies.append(copy_pipe(cluster))
            loads.append(dms_full_load(cluster, work))
            parallel.append(dms_full_load(cluster, work, "par", parallel_mappings(rows, segments)))
            print(
                f"full load {rows:,}: copy {copies[-1]:.1f} s, dms-local {loads[-1]}, "
                f"parallel-load {parallel[-1]}",
                flush=True,
            )
        out["load_average_after"] = load_average()
        out["copy_wall"] = spread(copies)
        out["dms_wall"] = spread([float(r["wall"]) for r in loads])
        out["dms_runs"] = loads
        out["elapsed_ms_reported"] = spread([float(r["elapsed_ms_reported"]) for r in loads])
        out["parallel_wall"] = spread([float(r["wall"]) for r in parallel])
        out["parallel_runs"] = parallel
        out["parallel_hwm_kib"] = max(int(r["hwm_kib"]) for r in parallel)
        out["dms_hwm_kib"] = max(int(r["hwm_kib"]) for r in loads)
        out["idle_hwm_kib"] = max(int(r["idle_hwm_kib"]) for r in loads)
        out["dst_has_primary_key"] = (
            cluster.psql(
                "SELECT count(*) FROM pg_index WHERE indrelid = 'public.t'::regclass "
                "AND indisprimary",
                "dst",
            ).strip()
            == "1"
        )
        digests = {db: cluster.psql(DIGEST, db).strip() for db in ("src", "ref", "dst", "par")}
        out["ref_count"] = int(digests["ref"].split("|")[0])
        out["dst_count"] = int(digests["dst"].split("|")[0])
        out["par_count"] = int(digests["par"].split("|")[0])
        out["digests_equal"] = digests["src"] == digests["ref"] == digests["dst"]
        out["parallel_digest_equal"] = digests["src"] == digests["par"]
    return out


def run(work: Path) -> dict[str, Any]:
    sizes = env_ints("BENCH_ROWS", [1_000_000, 10_000_000])
    repeat = env_int("BENCH_REPEAT", 3)
    segments = env_int("BENCH_SEGMENTS", 4)
    return {
        "repeat": repeat,
        "sizes": [one_size(rows, repeat, segments, work) for rows in sizes],
    }


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="dms-bench-") as tmp:
        print(json.dumps(run(Path(tmp)), indent=2, default=str))
