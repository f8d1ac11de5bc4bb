"""`make demo`: the whole product running locally.

Starts a PostgreSQL cluster with a shop database (`shop`: customers, products, orders,
order_items) and an empty warehouse database, `dms-local` with endpoints, a replication instance
and replication tasks on them, a change generator writing to the shop, and `dg dev` (Dagster's
`dagster dev` for a dg project) on `examples/demo` (AWSDMSComponent with the Advanced Example,
plus a downstream asset). Ctrl-C (SIGINT) or SIGTERM stops everything, whatever the demo is doing,
within STOP_LIMIT_SECONDS; nothing it started outlives it, even when it is killed (see
dagster_dms.testing.processes). Running it again reuses the dms-local state in the work directory.

Environment: DEMO_ROWS (rows in the shop, default 1000000), DEMO_DIR (work directory, default
.demo), DEMO_PORT (Dagster UI port, default 3000), DEMO_DMS_PORT (dms-local port, default 4566;
0 picks a free one), DEMO_CHANGE_INTERVAL (seconds between generated changes, default 1).
`--stop-with-parent` (what `make demo` passes) stops the demo when its parent process dies, even by
SIGKILL, as SIGTERM does.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from dagster_dms.testing import DmsLocalServer, PgCluster, processes

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_DIR = REPO_ROOT / "examples" / "demo"
SOURCE_DB = "shop"
TARGET_DB = "warehouse"
PROD_TAGS = [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "data"}]
TASK_SETTINGS = json.dumps({"Logging": {"EnableLogging": True}})

# Whatever the demo is doing, everything it started is gone this long after SIGINT or SIGTERM.
# Each stage of the stop escalates within its share (their worst cases add up to a little more;
# a timer enforces the limit itself).
STOP_LIMIT_SECONDS = 25.0
# dg dev has been seen ignoring SIGINT and SIGTERM for more than 15 s (its webserver joining a
# watcher thread, its daemon in its loop): it gets little time before SIGKILL of its group.
DAGSTER_STOP_STEPS = ((signal.SIGINT, 10.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0))
CHANGE_GENERATOR_STOP_SECONDS = 2.0
DMS_LOCAL_STOP_SECONDS = 3.0
POSTGRES_STOP_SECONDS = 3.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def log(message: str) -> None:
    # One unbuffered write: safe from the signal handler and from several threads, and a
    # closed standard output does not stop the demo from stopping its processes.
    with contextlib.suppress(OSError):
        os.write(sys.stdout.fileno(), f"demo: {message}\n".encode())


class Shutdown:
    """SIGINT and SIGTERM stop the demo, whatever it is doing, within STOP_LIMIT_SECONDS.

    The first signal raises KeyboardInterrupt in the main thread, so the ExitStack of main()
    stops every process in order. Starting a process and registering its stop are not
    interrupted (see deferred()), so no process escapes the stop. Once the demo is stopping,
    later signals are only reported; a timer kills whatever is still running at the limit."""

    def __init__(self) -> None:
        self.stopping = False
        self._deferring = 0
        self._pending = False

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def begin(self, reason: str) -> None:
        """From here on the demo is stopping; the limit's timer starts."""
        if self.stopping:
            return
        self.stopping = True
        log(f"{reason}: stopping everything (at most {STOP_LIMIT_SECONDS:.0f} s)")
        timer = threading.Timer(STOP_LIMIT_SECONDS, self._give_up)
        timer.daemon = True
        timer.start()

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """A signal that arrives inside the block interrupts at its end."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
            if not self._deferring and self._pending:
                self._pending = False
                raise KeyboardInterrupt

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.stopping:
            log(f"{name}: already stopping")
            return
        self.begin(f"{name} received")
        if self._deferring:
            self._pending = True
        else:
            raise KeyboardInterrupt

    @staticmethod
    def _give_up() -> None:
        log(f"still stopping after {STOP_LIMIT_SECONDS:.0f} s: killing what is left")
        processes.kill_all_now()
        os._exit(1)


def stop_with_parent() -> None:
    """Asks the kernel for SIGTERM when the parent process dies (`make demo` killed, even by
    SIGKILL): the demo then stops as it does on SIGTERM, instead of running on, orphaned."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log(f"cannot follow the parent process: {os.strerror(ctypes.get_errno())}")
        return
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def mappings(*tables: str) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rule-type": "selection",
                    "rule-id": str(number),
                    "rule-name": f"include-{number}",
                    "object-locator": {"schema-name": "shop", "table-name": table},
                    "rule-action": "include",
                }
                for number, table in enumerate(tables, start=1)
            ]
        }
    )


# identifier: (migration type, tables, tags)
TASKS: dict[str, tuple[str, tuple[str, ...], list[dict[str, str]]]] = {
    # Exact table names: the component knows these tables before the tasks ever ran.
    "prod-orders-full-load": ("full-load", ("orders", "order_items"), PROD_TAGS),
    "prod-orders-cdc": ("cdc", ("orders", "order_items"), PROD_TAGS),
    "prod-catalog-reload": ("full-load-and-cdc", ("products", "customers"), PROD_TAGS),
    "prod-inventory-backfill": ("full-load", ("products",), []),
    "dev-orders-full-load": (
        "full-load",
        ("order%",),
        [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "data"}],
    ),
    "test-orders-smoke": (
        "full-load",
        ("orders",),
        [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "data"}],
    ),
}


def shop_sql(rows: int) -> str:
    """The shop schema and about `rows` rows in all, generated inside PostgreSQL."""
    customers = max(rows // 20, 10)
    products = max(rows // 100, 10)
    orders = max(rows * 3 // 10, 10)
    items = max(rows - customers - products - orders, 10)
    return f"""
CREATE SCHEMA shop;
CREATE TABLE shop.customers (
  id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL, country text NOT NULL,
  created_at timestamptz NOT NULL);
CREATE TABLE shop.products (
  id bigint PRIMARY KEY, sku text NOT NULL UNIQUE, name text NOT NULL,
  price numeric(10,2) NOT NULL);
CREATE TABLE shop.orders (
  id bigint PRIMARY KEY, customer_id bigint NOT NULL, status text NOT NULL,
  ordered_at timestamptz NOT NULL);
CREATE TABLE shop.order_items (
  order_id bigint NOT NULL, line int NOT NULL, product_id bigint NOT NULL, quantity int NOT NULL,
  price numeric(10,2) NOT NULL, PRIMARY KEY (order_id, line));
INSERT INTO shop.customers
  SELECT g, 'Customer ' || g, 'customer' || g || '@example.com',
         (ARRAY['DE','FR','US','GB','JP'])[1 + g % 5], now() - (g % 1000) * interval '1 day'
  FROM generate_series(1, {customers}) g;
INSERT INTO shop.products
  SELECT g, 'SKU-' || lpad(g::text, 6, '0'), 'Product ' || g,
         round((1 + (g * 37) % 500)::numeric, 2)
  FROM generate_series(1, {products}) g;
INSERT INTO shop.orders
  SELECT g, 1 + (g * 7) % {customers}, (ARRAY['new','paid','shipped'])[1 + g % 3],
         now() - (g % 5000) * interval '1 hour'
  FROM generate_series(1, {orders}) g;
INSERT INTO shop.order_items
  SELECT 1 + (g - 1) % {orders}, 1 + (g - 1) / {orders}, 1 + (g * 13) % {products}, 1 + g % 4,
         round((1 + (g * 37) % 500)::numeric, 2)
  FROM generate_series(1, {items}) g;
CREATE SEQUENCE shop.demo_order_ids START {orders + 1};
ANALYZE;
"""


def change_sql() -> str:
    """One batch of the generator's changes: a new order with two lines, a status update and a
    customer update."""
    return """
BEGIN;
WITH o AS (
  INSERT INTO shop.orders
  SELECT nextval('shop.demo_order_ids'),
         1 + (random() * (SELECT count(*) - 1 FROM shop.customers))::bigint,
         'new', now()
  RETURNING id)
INSERT INTO shop.order_items
  SELECT o.id, l, 1 + (random() * 9)::bigint, 1 + l, 9.99 * l FROM o, generate_series(1, 2) l;
UPDATE shop.orders SET status = 'shipped'
  WHERE id = (SELECT 1 + (random() * 9)::bigint);
UPDATE shop.customers SET email = 'c' || id || '.' || floor(random() * 1000) || '@example.com'
  WHERE id = (SELECT 1 + (random() * 9)::bigint);
COMMIT;
"""


class ChangeGenerator(threading.Thread):
    """Writes inserts and updates to the shop until stopped (CDC tasks have something to move)."""

    def __init__(self, pg: PgCluster, interval: float, shutdown: Shutdown) -> None:
        super().__init__(name="change-generator", daemon=True)
        self.pg = pg
        self.interval = interval
        self.shutdown = shutdown
        self.batches = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.pg.psql(change_sql(), SOURCE_DB, timeout=30)
                self.batches += 1
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                # Ctrl-C in a terminal interrupts psql too: no error to report then.
                if not self._stop_event.is_set() and not self.shutdown.stopping:
                    log(f"change generator: {error}")

    def stop(self) -> None:
        log("stopping the change generator")
        self._stop_event.set()
        # A daemon thread: should a batch hang, the demo does not wait for it.
        self.join(timeout=CHANGE_GENERATOR_STOP_SECONDS)
        log(f"change generator stopped after {self.batches} batches")


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers bind: connections of a previous run in TIME_WAIT do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_base_dir(work: Path) -> Path | None:
    """Where the PostgreSQL cluster lives: under the work directory when the server's user can
    reach it (as root, the server runs as `postgres`), else the system temporary directory."""
    if os.geteuid() != 0 or all(p.stat().st_mode & stat.S_IXOTH for p in [work, *work.parents]):
        base = work / "pg"
        base.mkdir(exist_ok=True)
        base.chmod(0o755)
        return base
    return None


def wait_until(what: str, condition: Any, timeout: float, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(interval)


def seed_dms(dms_local: DmsLocalServer, pg: PgCluster) -> None:
    """Creates (or brings up to date) the endpoints, the instance and the tasks."""
    dms = dms_local.boto3_client()
    endpoints = {e["EndpointIdentifier"]: e for e in dms.describe_endpoints()["Endpoints"]}
    arns: dict[str, str] = {}
    for name, kind, db in (
        ("prod-shop-source", "source", SOURCE_DB),
        ("prod-warehouse-target", "target", TARGET_DB),
    ):
        settings: dict[str, Any] = {
            "EngineName": "postgres",
            "ServerName": pg.host,
            "Port": pg.port,
            "DatabaseName": db,
            "Username": pg.user,
            "Password": "demo-local-only",
        }
        if name in endpoints:
            # PostgreSQL gets a new port on every run.
            arns[name] = endpoints[name]["EndpointArn"]
            dms.modify_endpoint(EndpointArn=arns[name], **settings)
        else:
            arns[name] = dms.create_endpoint(
                EndpointIdentifier=name, EndpointType=kind, Tags=PROD_TAGS, **settings
            )["Endpoint"]["EndpointArn"]
    instances = dms.describe_replication_instances()["ReplicationInstances"]
    instance = next(
        (i for i in instances if i["ReplicationInstanceIdentifier"] == "prod-instance"), None
    )
    if instance is None:
        instance = dms.create_replication_instance(
            ReplicationInstanceIdentifier="prod-instance",
            ReplicationInstanceClass="dms.t3.medium",
            Tags=PROD_TAGS,
        )["ReplicationInstance"]
    instance_arn = instance["ReplicationInstanceArn"]

    def instance_available() -> bool:
        found = dms.describe_replication_instances(
            Filters=[{"Name": "replication-instance-arn", "Values": [instance_arn]}]
        )["ReplicationInstances"]
        return bool(found) and found[0]["ReplicationInstanceStatus"] == "available"

    wait_until("the replication instance becoming available", instance_available, 60)
    existing = {
        t["ReplicationTaskIdentifier"] for t in dms.describe_replication_tasks()["ReplicationTasks"]
    }
    for name, (migration_type, tables, tags) in TASKS.items():
        if name in existing:
            continue
        dms.create_replication_task(
            ReplicationTaskIdentifier=name,
            SourceEndpointArn=arns["prod-shop-source"],
            TargetEndpointArn=arns["prod-warehouse-target"],
            ReplicationInstanceArn=instance_arn,
            MigrationType=migration_type,
            TableMappings=mappings(*tables),
            ReplicationTaskSettings=TASK_SETTINGS,
            Tags=tags,
        )

    def tasks_settled() -> bool:
        tasks = dms.describe_replication_tasks()["ReplicationTasks"]
        return all(t["Status"] not in ("creating", "modifying") for t in tasks)

    wait_until("the replication tasks becoming ready", tasks_settled, 60)
    log(f"dms-local holds {len(TASKS)} tasks, 2 endpoints and 1 replication instance")


def http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextlib.contextmanager
def dagster_dev(
    env: dict[str, str], port: int, log_file: Path, shutdown: Shutdown
) -> Iterator[subprocess.Popen[bytes]]:
    bin_dir = Path(sys.executable).parent
    refresh: subprocess.Popen[bytes] | None = None
    try:
        with shutdown.deferred():
            refresh = processes.spawn(
                [str(bin_dir / "dg"), "utils", "refresh-defs-state"],
                label="dg utils refresh-defs-state",
                cwd=PROJECT_DIR,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        output, _ = refresh.communicate()
    finally:
        if refresh is not None:
            processes.stop(refresh, "dg utils refresh-defs-state", DAGSTER_STOP_STEPS, log)
    if refresh.returncode != 0:
        raise RuntimeError(
            f"dg utils refresh-defs-state failed:\n{output.decode(errors='replace')}"
        )
    log("refreshed the defs state (dg utils refresh-defs-state)")
    process: subprocess.Popen[bytes] | None = None
    try:
        with shutdown.deferred(), log_file.open("ab") as sink:
            process = processes.spawn(
                [str(bin_dir / "dg"), "dev", "--host", "127.0.0.1", "--port", str(port)],
                label="dagster dev",
                cwd=PROJECT_DIR,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        yield process
    finally:
        if process is not None:
            code = processes.stop(process, "dagster dev", DAGSTER_STOP_STEPS, log)
            log("dagster dev stopped" if code is not None else "dagster dev did not stop")


def stop_dms_local(dms_local: DmsLocalServer) -> None:
    if not dms_local.running:
        return
    log("stopping dms-local")
    try:
        dms_local.stop(timeout=DMS_LOCAL_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        log(f"dms-local did not stop within {DMS_LOCAL_STOP_SECONDS:.0f} s of SIGTERM: killed")
    log("dms-local stopped")


def stop_postgres(pg: PgCluster) -> None:
    log("stopping PostgreSQL")
    started = time.monotonic()
    how = pg.stop(timeout=POSTGRES_STOP_SECONDS)
    log(f"PostgreSQL stopped ({how or 'was not running'}, {time.monotonic() - started:.1f} s)")


def graphql_ready(url: str) -> bool:
    """The webserver answers and its code location has loaded."""
    query = json.dumps({"query": "{ assetNodes { assetKey { path } } }"}).encode()
    request = urllib.request.Request(
        f"{url}/graphql", data=query, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            document = json.load(response)
    except (OSError, ValueError):
        return False
    keys = {
        "/".join(n["assetKey"]["path"])
        for n in (document.get("data") or {}).get("assetNodes") or []
    }
    return "dms_task_prod_orders_full_load" in keys


def banner(ui_url: str, dms_url: str, rows: int) -> str:
    return f"""
================================================================================
 dagster-dms demo is running
   Dagster UI   {ui_url}
   dms-local    {dms_url}   (keys test/test, region us-east-1)
   PostgreSQL   databases `{SOURCE_DB}` (~{rows} rows) and `{TARGET_DB}`

 In the UI:
   1. Assets -> group dms_prod: the prod- tasks, endpoints and the instance
      (dev-, test- and untagged tasks are filtered out by the component's YAML).
   2. Open dms_task_prod_orders_full_load and click "Materialize": dms-local copies
      shop.orders and shop.order_items into the warehouse; the run's metadata shows
      the rows loaded per table.
   3. Materialize warehouse_orders (downstream) to count what arrived.
   4. Automation -> dms_prod_observation_sensor observes the tasks every 60 s.

 From a shell:
   export AWS_ENDPOINT_URL={dms_url} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
   dmsctl --region us-east-1 tasks list

 Ctrl-C stops everything.
================================================================================"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("DEMO_ROWS", "1000000")))
    parser.add_argument("--work-dir", type=Path, default=Path(os.environ.get("DEMO_DIR", ".demo")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "3000")))
    parser.add_argument(
        "--dms-port", type=int, default=int(os.environ.get("DEMO_DMS_PORT", "4566"))
    )
    parser.add_argument(
        "--change-interval",
        type=float,
        default=float(os.environ.get("DEMO_CHANGE_INTERVAL", "1")),
    )
    parser.add_argument(
        "--stop-with-parent",
        action="store_true",
        help="stop (as on SIGTERM) when the parent process dies, even by SIGKILL",
    )
    args = parser.parse_args()
    shutdown = Shutdown()
    shutdown.install()
    if args.stop_with_parent:
        stop_with_parent()
    work = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # the postgres user (PostgreSQL refuses root) must reach its cluster dir
    if not port_is_free(args.port):
        log(f"port {args.port} is taken: set DEMO_PORT to a free one")
        return 2
    dms_port = args.dms_port if args.dms_port and port_is_free(args.dms_port) else 0
    try:
        with contextlib.ExitStack() as stack:
            try:
                return run(args, work, dms_port, stack, shutdown)
            finally:
                shutdown.begin("the demo is ending")
    except KeyboardInterrupt:
        log("stopped")
        return 0


def run(
    args: argparse.Namespace,
    work: Path,
    dms_port: int,
    stack: contextlib.ExitStack,
    shutdown: Shutdown,
) -> int:
    """Starts everything, each stop registered on `stack` before its start, and waits until a
    process exits (1) or a signal interrupts it (KeyboardInterrupt)."""
    started = time.monotonic()
    pg = PgCluster(base_dir=cluster_base_dir(work))
    stack.callback(stop_postgres, pg)
    with shutdown.deferred():
        pg.start()
    log(f"PostgreSQL on {pg.host}:{pg.port}; generating ~{args.rows} rows")
    pg.create_database(SOURCE_DB)
    pg.create_database(TARGET_DB)
    pg.psql(shop_sql(args.rows), SOURCE_DB)
    counts = pg.psql(
        "SELECT (SELECT count(*) FROM shop.customers),"
        " (SELECT count(*) FROM shop.products),"
        " (SELECT count(*) FROM shop.orders), (SELECT count(*) FROM shop.order_items)",
        SOURCE_DB,
    ).strip()
    log(
        "shop: customers|products|orders|order_items = "
        f"{counts} ({time.monotonic() - started:.1f} s)"
    )

    dms_local = DmsLocalServer(
        work / "dms-local-state", port=dms_port, log_file=work / "dms-local.log"
    )
    stack.callback(stop_dms_local, dms_local)
    with shutdown.deferred():
        dms_local.start()
    log(f"dms-local on {dms_local.url} (state in {dms_local.state_dir})")
    seed_dms(dms_local, pg)

    env = {
        **os.environ,
        **dms_local.environment(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(PROJECT_DIR / "src"), os.environ.get("PYTHONPATH")) if p
        ),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "DEMO_PSQL": str(pg.bindir / "psql"),
        "DEMO_TARGET_DSN": pg.dsn(TARGET_DB),
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    (work / "dagster_home").mkdir(exist_ok=True)
    dagster_yaml = work / "dagster_home" / "dagster.yaml"
    if not dagster_yaml.exists():
        dagster_yaml.write_text("telemetry:\n  enabled: false\n")
    dagster = stack.enter_context(dagster_dev(env, args.port, work / "dagster.log", shutdown))
    # Registered after dagster dev, so stopped before it: it is quick to stop.
    generator = ChangeGenerator(pg, args.change_interval, shutdown)
    with shutdown.deferred():
        generator.start()
        stack.callback(generator.stop)
    ui_url = f"http://127.0.0.1:{args.port}"
    log(f"starting dagster dev on {ui_url} (log: {work / 'dagster.log'})")

    def ui_ready() -> bool:
        if dagster.poll() is not None:
            raise RuntimeError(
                f"dagster dev exited with code {dagster.returncode}; see {work / 'dagster.log'}"
            )
        return graphql_ready(ui_url)

    wait_until("the Dagster UI loading the demo project", ui_ready, 300, interval=1)
    print(banner(ui_url, dms_local.url, args.rows), flush=True)
    log(f"DEMO READY {ui_url} {dms_local.url}")
    while dagster.poll() is None and dms_local.running:
        time.sleep(0.5)
    log("a demo process exited; stopping the rest")
    return 1


if __name__ == "__main__":
    sys.exit(main())
