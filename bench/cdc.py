"""Part 4 of the benchmark, and the CDC half of part 5: change data capture by a dms-local `cdc`
task against PostgreSQL's native logical replication (CREATE PUBLICATION / CREATE SUBSCRIPTION).

Two throw-away clusters on loopback (dagster_dms.testing.postgres settings: fsync off,
wal_level logical; plus track_commit_timestamp on, and synchronous_commit on for the source, see
cluster_settings), one source and one target, the same for both contenders. Every run gets fresh
databases and a fresh consumer: a fresh dms-local process with a `cdc` task, or a fresh
publication and subscription (copy_data = false). The table is the mixed-type one of part 3;
the source has no other activity.

The writer is pgbench (2 clients, 2 threads) running one statement per transaction that inserts
BENCH_CDC_ROWS_PER_TX (10) rows, so rows/s = transactions/s x 10.

- Latency, at each rate of BENCH_CDC_RATES (1000,10000 rows/s): pgbench --rate paces the
  transactions (a Poisson schedule) for BENCH_CDC_SECONDS (30). Each row's latency is its target
  visibility time minus its source commit time. The source commit time is the one PostgreSQL
  records (track_commit_timestamp, read with pg_xact_commit_timestamp(xmin)); the target time is
  clock_timestamp() stamped into an extra target column by a BEFORE INSERT trigger marked
  ENABLE ALWAYS, so it fires for both appliers (the native apply worker runs with
  session_replication_role = replica, which silences ordinary triggers). Both clusters read the
  same clock. The error: the trigger fires when the row is applied, before the target
  transaction commits; the rows applied after it in the same transaction (at most 9) and the
  commit itself are not counted, a fraction of a millisecond with synchronous_commit off, and the
  same work for both contenders. The target's own commit timestamp cannot serve: the native
  apply worker records the source's commit time as the commit timestamp of what it applies.
  Every row of the run is counted; p50, p99 and max are nearest-rank.
- Highest sustained rows/s: the consumer is paused (task stopped; subscription disabled) while
  pgbench writes a backlog of BENCH_CDC_BACKLOG (300,000) rows as fast as it can, then resumed
  (resume-processing; ENABLE). The rate is the backlog divided by the time from its first to its
  last row applied on the target (trigger stamps), so neither contender's start-up counts; the
  time from the resume call to the first row is reported apart. A paced rate above this drain
  rate cannot be sustained, a rate below it can. During the drain the CPU time of each process
  on the path is read from /proc (walsender on the source; the apply worker, or dms-local and its
  target backend), which is the profile of where the time goes.
- dms-local's peak RSS (VmHWM, /proc/<pid>/status every 50 ms) during each run; the drain is the
  highest rate it runs at.
- BENCH_CDC_PERF=<file> also samples dms-local with `perf record -g` during each of its drains
  (<file>.1, <file>.2, ...; read them with `perf report -i`): the profile behind the page's
  explanation. perf adds its own overhead, so runs made with it are not for the figures.

Each scenario runs BENCH_REPEAT (3) times, the contenders alternating; the page shows medians and
the spread (min-max).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import (
    SHORT_DELAY_ARGS,
    PeakMemory,
    bench_server,
    cpu_seconds,
    dms_client,
    env_int,
    env_ints,
    load_average,
    percentile,
)
from dagster_dms.testing.account import (
    create_available_instance,
    create_cluster_endpoint,
    create_task,
    selection_rules,
)
from dagster_dms.testing.postgres import PgCluster

COLUMNS = """id bigint PRIMARY KEY, name text, amount numeric(12, 2), ratio double precision,
    created timestamptz, day date, active boolean, payload jsonb, uid uuid"""
SOURCE_DDL = f"CREATE TABLE public.t ({COLUMNS});\nCREATE SEQUENCE public.t_id;"
TARGET_DDL = f"""CREATE TABLE public.t ({COLUMNS}, applied_at timestamptz);
CREATE FUNCTION public.stamp_applied() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN NEW.applied_at := clock_timestamp(); RETURN NEW; END$$;
CREATE TRIGGER stamp_applied BEFORE INSERT ON public.t
  FOR EACH ROW EXECUTE FUNCTION public.stamp_applied();
ALTER TABLE public.t ENABLE ALWAYS TRIGGER stamp_applied;"""
WRITER = """INSERT INTO public.t
SELECT i, 'customer-' || md5(i::text), (i % 100000) / 100.0, i / 7.0, clock_timestamp(),
       current_date, i % 2 = 0, jsonb_build_object('k', i, 'tag', 'x' || (i % 97)),
       md5(i::text)::uuid
FROM (SELECT nextval('public.t_id') AS i FROM generate_series(1, {rows})) AS s;
"""
# Order-independent digest of the replicated columns: equal on both sides when every row arrived.
DIGEST = """SELECT count(*), coalesce(sum(hashtextextended(
    (id, name, amount, ratio, created, day, active, payload, uid)::text, 0)), 0) FROM public.t"""
CLIENTS = 2
DMS_APPLICATION = "dms-local cdc"


def wait_for(what: str, check: Callable[[], bool], timeout: float, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def scalar(cluster: PgCluster, sql: str, db: str = "postgres") -> str:
    return str(cluster.psql(sql, db)).strip()


def streaming(source: PgCluster) -> bool:
    return scalar(source, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == (
        "1"
    )


def slot_idle(source: PgCluster) -> bool:
    return scalar(source, "SELECT count(*) FROM pg_replication_slots WHERE active") == "0"


class Native:
    """CREATE PUBLICATION on the source, CREATE SUBSCRIPTION on the target."""

    name = "native"

    def __init__(self, source: PgCluster, target: PgCluster, src_db: str, dst_db: str) -> None:
        self.source, self.target, self.src_db, self.dst_db = source, target, src_db, dst_db
        self.memory: PeakMemory | None = None

    def start(self) -> None:
        self.source.psql("CREATE PUBLICATION bench_pub FOR TABLE public.t", self.src_db)
        conninfo = (
            f"host={self.source.host} port={self.source.port} dbname={self.src_db} "
            f"user={self.source.user}"
        )
        self.target.psql(
            f"CREATE SUBSCRIPTION bench_sub CONNECTION '{conninfo}' PUBLICATION bench_pub "
            "WITH (copy_data = false)",
            self.dst_db,
        )
        wait_for("the subscription to stream", lambda: streaming(self.source), 60)

    def pause(self) -> None:
        self.target.psql("ALTER SUBSCRIPTION bench_sub DISABLE", self.dst_db)
        wait_for("the subscription's slot to be released", lambda: slot_idle(self.source), 60)

    def resume(self) -> None:
        self.target.psql("ALTER SUBSCRIPTION bench_sub ENABLE", self.dst_db)

    def appliers(self) -> dict[str, int]:
        pid = scalar(
            self.target,
            "SELECT pid FROM pg_stat_subscription WHERE subname = 'bench_sub' AND relid IS NULL",
            self.dst_db,
        )
        return {"apply worker (target)": int(pid)} if pid else {}

    def close(self) -> None:
        self.target.psql("DROP SUBSCRIPTION IF EXISTS bench_sub", self.dst_db)


class DmsLocalTask:
    """A fresh dms-local with a `cdc` task from the source database to the target database."""

    name = "dms-local"

    def __init__(
        self, source: PgCluster, target: PgCluster, src_db: str, dst_db: str, work: Path
    ) -> None:
        self.source, self.target, self.src_db, self.dst_db = source, target, src_db, dst_db
        self.server = bench_server(
            work / f"dms-{src_db}",
            SHORT_DELAY_ARGS,
        )
        self.memory: PeakMemory | None = None
        self.arn = ""
        self.dms: Any = None

    def status(self) -> dict[str, Any]:
        found: dict[str, Any] = self.dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [self.arn]}]
        )["ReplicationTasks"][0]
        if found["Status"] == "failed":
            raise RuntimeError(f"the cdc task failed: {found.get('LastFailureMessage')}")
        return found

    def start(self) -> None:
        self.server.start()
        self.memory = PeakMemory(self.server.pid)
        self.memory.__enter__()
        self.dms = dms_client(self.server.url)
        arns = {}
        for kind, cluster, db in (
            ("source", self.source, self.src_db),
            ("target", self.target, self.dst_db),
        ):
            arns[kind] = create_cluster_endpoint(self.dms, kind, kind, cluster, db)
        instance = create_available_instance(
            self.dms, "bench", instance_class="dms.t3.large", timeout=60
        )
        self.arn = create_task(
            self.dms,
            "bench-cdc",
            source=arns["source"],
            target=arns["target"],
            instance=instance,
            table_mappings=selection_rules("public", "t", rule_name="t"),
            migration_type="cdc",
            timeout=60,
        )
        self.dms.start_replication_task(
            ReplicationTaskArn=self.arn, StartReplicationTaskType="start-replication"
        )
        wait_for(
            "the task to replicate",
            lambda: (task := self.status())["Status"] == "running" and "RecoveryCheckpoint" in task,
            60,
        )
        wait_for("the task to stream", lambda: streaming(self.source), 60)

    def pause(self) -> None:
        self.dms.stop_replication_task(ReplicationTaskArn=self.arn)
        wait_for("the task to stop", lambda: self.status()["Status"] == "stopped", 60)
        wait_for("the task's slot to be released", lambda: slot_idle(self.source), 60)

    def resume(self) -> None:
        self.dms.start_replication_task(
            ReplicationTaskArn=self.arn, StartReplicationTaskType="resume-processing"
        )

    def appliers(self) -> dict[str, int]:
        found: dict[str, int] = {"dms-local": self.server.pid}
        pid = scalar(
            self.target,
            f"SELECT pid FROM pg_stat_activity WHERE application_name = '{DMS_APPLICATION}' "
            f"AND datname = '{self.dst_db}'",
        )
        if pid:
            found["dms-local's backend (target)"] = int(pid.split()[0])
        return found

    def close(self) -> None:
        try:
            if self.dms is not None and self.status()["Status"] in ("running", "starting"):
                self.pause()
        finally:
            if self.memory is not None:
                self.memory.__exit__()
            self.server.stop()
        wait_for("the task's slot to be released", lambda: slot_idle(self.source), 60)
        self.source.psql(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            f"WHERE database = '{self.src_db}'"
        )


Consumer = Native | DmsLocalTask


def pgbench(cluster: PgCluster, db: str, script: Path, *limits: str) -> dict[str, float]:
    """Runs the writer; returns its achieved transactions/s and schedule lag (paced runs)."""
    command = [str(cluster.bindir / "pgbench"), "-n", "-h", cluster.host, "-p", str(cluster.port)]
    command += ["-U", cluster.user, "-f", str(script), "-c", str(CLIENTS), "-j", str(CLIENTS)]
    result = subprocess.run([*command, *limits, db], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pgbench failed: {result.stderr.strip() or result.stdout.strip()}")
    tps = re.search(r"tps = ([\d.]+)", result.stdout)
    lag = re.search(r"schedule lag: avg ([\d.]+) \(max ([\d.]+)\) ms", result.stdout)
    processed = re.search(r"actually processed: (\d+)", result.stdout)
    return {
        "tps": float(tps.group(1)) if tps else 0.0,
        "transactions": float(processed.group(1)) if processed else 0.0,
        "schedule_lag_avg_ms": float(lag.group(1)) if lag else 0.0,
        "schedule_lag_max_ms": float(lag.group(2)) if lag else 0.0,
    }


def micros(cluster: PgCluster, db: str, expression: str) -> dict[int, int]:
    out = cluster.psql(
        f"SELECT id, (extract(epoch FROM {expression}) * 1000000)::bigint FROM public.t", db
    )
    pairs = (line.split("|") for line in out.splitlines() if line)
    return {int(key): int(value) for key, value in pairs}


def count(cluster: PgCluster, db: str) -> int:
    return int(scalar(cluster, "SELECT count(*) FROM public.t", db))


class Bench:
    def __init__(self, source: PgCluster, target: PgCluster, work: Path) -> None:
        self.source, self.target, self.work = source, target, work
        self.runs = 0
        self.profiles = 0
        self.rows_per_tx = env_int("BENCH_CDC_ROWS_PER_TX", 10)
        self.script = work / "writer.sql"
        self.script.write_text(WRITER.format(rows=self.rows_per_tx))

    def _consumer(self, kind: str) -> Consumer:
        self.runs += 1
        src_db, dst_db = f"src_{self.runs}", f"dst_{self.runs}"
        self.source.create_database(src_db)
        self.source.psql(SOURCE_DDL, src_db)
        self.target.create_database(dst_db)
        self.target.psql(TARGET_DDL, dst_db)
        if kind == "native":
            return Native(self.source, self.target, src_db, dst_db)
        return DmsLocalTask(self.source, self.target, src_db, dst_db, self.work)

    def _drop(self, consumer: Consumer) -> None:
        self.source.drop_database(consumer.src_db)
        self.target.drop_database(consumer.dst_db)

    def _wait_applied(self, consumer: Consumer, rows: int) -> None:
        wait_for(
            f"{consumer.name} to apply {rows:,} rows",
            lambda: count(self.target, consumer.dst_db) >= rows,
            timeout=max(600.0, rows / 500),
            interval=0.5,
        )

    def _check_equal(self, consumer: Consumer) -> None:
        src = scalar(self.source, DIGEST, consumer.src_db)
        dst = scalar(self.target, DIGEST, consumer.dst_db)
        if src != dst:
            raise RuntimeError(f"{consumer.name}: source {src} and target {dst} differ")

    def paced(self, kind: str, rows_per_second: int, seconds: int) -> dict[str, Any]:
        consumer = self._consumer(kind)
        try:
            consumer.start()
            tx_rate = rows_per_second / self.rows_per_tx
            writer = pgbench(
                self.source,
                consumer.src_db,
                self.script,
                "-T",
                str(seconds),
                "--rate",
                str(tx_rate),
            )
            rows = count(self.source, consumer.src_db)
            self._wait_applied(consumer, rows)
            committed = micros(self.source, consumer.src_db, "pg_xact_commit_timestamp(xmin)")
            applied = micros(self.target, consumer.dst_db, "applied_at")
            self._check_equal(consumer)
        finally:
            consumer.close()
            self._drop(consumer)
        latencies = sorted((applied[key] - committed[key]) / 1000 for key in committed)
        result: dict[str, Any] = {
            "rows": rows,
            "achieved_rows_per_s": writer["tps"] * self.rows_per_tx,
            "writer": writer,
            "p50_ms": percentile(latencies, 0.50),
            "p99_ms": percentile(latencies, 0.99),
            "max_ms": latencies[-1],
            "mean_ms": sum(latencies) / len(latencies),
        }
        if consumer.memory is not None:
            result["hwm_kib"] = consumer.memory.hwm_kib
        return result

    def _profiler(self, consumer: Consumer) -> subprocess.Popen[bytes] | None:
        """With BENCH_CDC_PERF=<file>, `perf record` samples dms-local during its drains."""
        target = os.environ.get("BENCH_CDC_PERF")
        if not target or not isinstance(consumer, DmsLocalTask):
            return None
        self.profiles += 1
        output = f"{target}.{self.profiles}"
        command = [
            "perf",
            "record",
            "-F",
            "999",
            "-g",
            "-o",
            output,
            "-p",
            str(consumer.server.pid),
        ]
        profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # perf attaches before the first change arrives
        print(f"cdc: profiling dms-local's drain into {output}", flush=True)
        return profiler

    def drain(self, kind: str, backlog: int) -> dict[str, Any]:
        consumer = self._consumer(kind)
        per_client = max(1, backlog // self.rows_per_tx // CLIENTS)
        try:
            consumer.start()
            consumer.pause()
            writer = pgbench(self.source, consumer.src_db, self.script, "-t", str(per_client))
            rows = count(self.source, consumer.src_db)
            if count(self.target, consumer.dst_db) != 0:
                raise RuntimeError(f"{consumer.name} applied changes while paused")
            before = {name: cpu_seconds(pid) for name, pid in consumer.appliers().items()}
            profiler = self._profiler(consumer)
            resumed = time.time()
            consumer.resume()
            self._wait_applied(consumer, rows)
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=120)
            cpu = {name: cpu_seconds(pid) for name, pid in consumer.appliers().items()}
            walsender = scalar(self.source, "SELECT pid FROM pg_stat_replication")
            if walsender:
                cpu["walsender (source)"] = cpu_seconds(int(walsender.split()[0]))
            applied = micros(self.target, consumer.dst_db, "applied_at")
            self._check_equal(consumer)
        finally:
            consumer.close()
            self._drop(consumer)
        # Processes that lived before the resume count from there; the others started with it.
        cpu = {name: seconds - before.get(name, 0.0) for name, seconds in cpu.items()}
        first, last = min(applied.values()) / 1e6, max(applied.values()) / 1e6
        result: dict[str, Any] = {
            "rows": rows,
            "writer_rows_per_s": writer["tps"] * self.rows_per_tx,
            "first_row_after_s": first - resumed,
            "apply_span_s": last - first,
            "rows_per_s": rows / (last - first),
            "cpu_seconds": cpu,
        }
        if consumer.memory is not None:
            result["hwm_kib"] = consumer.memory.hwm_kib
        return result


def cluster_settings(cluster: PgCluster, synchronous_commit: str) -> None:
    cluster.psql("ALTER SYSTEM SET track_commit_timestamp = on")
    cluster.psql(f"ALTER SYSTEM SET synchronous_commit = {synchronous_commit}")
    cluster.restart()


def run(work: Path) -> dict[str, Any]:
    rates = env_ints("BENCH_CDC_RATES", [1000, 10000])
    seconds = env_int("BENCH_CDC_SECONDS", 30)
    backlog = env_int("BENCH_CDC_BACKLOG", 300_000)
    repeat = env_int("BENCH_REPEAT", 3)
    kinds = ["dms-local", "native"]
    out: dict[str, Any] = {
        "rates": rates,
        "seconds": seconds,
        "backlog": backlog,
        "repeat": repeat,
        "clients": CLIENTS,
        "paced": {kind: {str(rate): [] for rate in rates} for kind in kinds},
        "drain": {kind: [] for kind in kinds},
    }
    with PgCluster() as source, PgCluster() as target:
        # The source commits as PostgreSQL does by default: with synchronous_commit off, a
        # walsender sends a transaction only once the WAL writer flushed it (wal_writer_delay,
        # 200 ms), which would be most of either contender's latency. The target keeps the
        # test clusters' setting, which is also what a subscription applies with by default.
        cluster_settings(source, "on")
        cluster_settings(target, "off")
        bench = Bench(source, target, work)
        out["rows_per_tx"] = bench.rows_per_tx
        out["load_average_before"] = load_average()
        for round_number in range(repeat):
            # Alternating which contender goes first spreads a passing load over both.
            order = kinds if round_number % 2 == 0 else kinds[::-1]
            for rate in rates:
                for kind in order:
                    result = bench.paced(kind, rate, seconds)
                    out["paced"][kind][str(rate)].append(result)
                    print(f"cdc {kind} {rate} rows/s: {result}", flush=True)
            for kind in order:
                result = bench.drain(kind, backlog)
                out["drain"][kind].append(result)
                print(f"cdc {kind} drain: {result}", flush=True)
        out["load_average_after"] = load_average()
    return out


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="dms-bench-") as tmp:
        print(json.dumps(run(Path(tmp)), indent=2, default=str))
