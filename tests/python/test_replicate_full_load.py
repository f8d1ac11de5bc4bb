"""End to end: the full-load engine between two real PostgreSQL databases, and into CSV files.

The engine is a C++ library; `replicate_full_load_driver` runs one load from a JSON request and
prints the result (table statistics, outcome) as JSON. Set REPLICATE_DRIVER to use another build.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagster_dms.testing.account import selection_rule
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DRIVER = REPO_ROOT / "build/python/src/replicate/replicate_full_load_driver"

ALL_TABLES = {"rules": [selection_rule("%", "%", rule_name="all")]}

SOURCE_SQL = r"""
CREATE SCHEMA sales;
CREATE TABLE public.all_types (
  id bigint PRIMARY KEY, i2 smallint, i4 integer NOT NULL, n numeric(20,6), nu numeric,
  f4 real, f8 double precision, txt text, vc varchar(50), b boolean, d date, ts timestamp,
  tstz timestamptz, by bytea, j json, jb jsonb, u uuid, arr integer[], tarr text[], empty text);
INSERT INTO public.all_types
SELECT g, (g % 32000)::smallint, g * 7, g / 7.0, CASE WHEN g % 3 = 0 THEN NULL ELSE g * 1.5 END,
  g / 3.0, g / 7.0 + 1e-12, CASE WHEN g % 11 = 0 THEN NULL
       ELSE 'row ' || g || E', "quoted" and ''single''\nsecond line\ttab \\ backslash' END,
  'vc' || g, CASE WHEN g % 5 = 0 THEN NULL ELSE g % 2 = 0 END,
  DATE '2000-01-01' + (g % 10000), TIMESTAMP '2020-01-01 00:00:00' + g * INTERVAL '1.234567 s',
  TIMESTAMPTZ '2021-06-01 12:00:00+02' + g * INTERVAL '1 minute', decode(md5(g::text), 'hex'),
  json_build_object('id', g, 's', 'a,b"c'), jsonb_build_object('k', g, 'arr', ARRAY[g, g + 1]),
  md5(g::text)::uuid, ARRAY[g, NULL, -g], ARRAY['a,b', 'c"d', NULL, E'e\nf'],
  CASE WHEN g % 2 = 0 THEN '' END
FROM generate_series(1, 100000) AS g;
INSERT INTO public.all_types (id, i4) VALUES (0, 0);
UPDATE public.all_types SET ts = 'infinity', tstz = '-infinity' WHERE id = 1;
CREATE TABLE public.orders (region text, order_no integer, amount numeric(12,2),
  PRIMARY KEY (region, order_no));
INSERT INTO public.orders SELECT 'r' || (g % 7), g, g * 0.01 FROM generate_series(1, 50000) g;
CREATE TABLE sales.items (sku text, qty integer, note text);
INSERT INTO sales.items SELECT 'sku-' || g, g % 100, NULL FROM generate_series(1, 20000) g;
CREATE TABLE public.tmp_scratch (x integer);
INSERT INTO public.tmp_scratch VALUES (1), (2);
CREATE TABLE public."MixedCase" ("Id" integer PRIMARY KEY, "Value" text);
INSERT INTO public."MixedCase" SELECT g, 'v' || g FROM generate_series(1, 10) g;
ANALYZE public.all_types;
"""

ROWS = {"all_types": 100001, "orders": 50000, "items": 20000, "tmp_scratch": 2, "MixedCase": 10}


def driver_path() -> Path:
    path = Path(os.environ.get("REPLICATE_DRIVER", DEFAULT_DRIVER))
    if not path.exists():
        pytest.fail(
            f"{path} does not exist: build it (`pip install -e .` builds build/python) or set "
            "REPLICATE_DRIVER to a replicate_full_load_driver binary"
        )
    return path


def run_load(
    tmp_path: Path,
    source: dict[str, Any],
    target: dict[str, Any],
    mappings: dict[str, Any],
    settings: dict[str, Any] | None = None,
    expect_code: int | None = 0,
) -> dict[str, Any]:
    request = {
        "source": source,
        "target": target,
        "table_mappings": mappings,
        "task_settings": settings or {},
    }
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(request))
    done = subprocess.run(
        [str(driver_path()), str(request_file)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if expect_code is not None:
        assert done.returncode == expect_code, done.stderr + done.stdout
    result: dict[str, Any] = json.loads(done.stdout)
    result["log"] = done.stderr
    return result


def column_types(cluster: PgCluster, db: str, schema: str, table: str) -> list[str]:
    out = cluster.psql(
        "SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || "
        "CASE WHEN a.attnotnull THEN ' not null' ELSE '' END FROM pg_attribute a "
        f"WHERE a.attrelid = '{schema}.{table}'::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped ORDER BY a.attnum",
        db,
    )
    return out.split("\n")[:-1]


def primary_key(cluster: PgCluster, db: str, table: str) -> str:
    return cluster.psql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE conrelid = '{table}'::regclass AND contype = 'p'",
        db,
    ).strip()


@pytest.fixture(scope="module")
def source_db(pg_cluster: PgCluster) -> Iterator[dict[str, Any]]:
    pg_cluster.create_database("replicate_source")
    pg_cluster.psql(SOURCE_SQL, "replicate_source")
    yield pg_cluster.conninfo("replicate_source")
    pg_cluster.drop_database("replicate_source")


@pytest.fixture()
def target_db(pg_cluster: PgCluster) -> Iterator[dict[str, Any]]:
    pg_cluster.create_database("replicate_target")
    yield pg_cluster.conninfo("replicate_target")
    pg_cluster.drop_database("replicate_target")


def test_postgres_to_postgres_round_trips_every_type(
    pg_cluster: PgCluster,
    source_db: dict[str, Any],
    target_db: dict[str, Any],
    tmp_path: Path,
) -> None:
    mappings = {
        "rules": [
            *ALL_TABLES["rules"],
            selection_rule(
                "public", "tmp[_]%", rule_id="2", rule_name="skip-tmp", action="exclude"
            ),
        ]
    }
    result = run_load(
        tmp_path,
        source_db,
        {"postgres": target_db},
        mappings,
        {"FullLoadSettings": {"MaxFullLoadSubTasks": 3}},
    )
    assert result["outcome"] == "finished", result
    tables = {t["TableName"]: t for t in result["tables"]}
    assert set(tables) == {"all_types", "orders", "items", "MixedCase"}
    for name, table in tables.items():
        assert table["TableState"] == "Table completed"
        assert table["FullLoadRows"] == ROWS[name]
        assert table["FullLoadEndTime"] >= table["FullLoadStartTime"] > 0
    assert result["percent"] == 100 and result["tables_loaded"] == 4
    assert result["rows_loaded"] == sum(ROWS[n] for n in tables)

    for table in ["public.all_types", "public.orders", "sales.items", 'public."MixedCase"']:
        assert pg_cluster.table_checksum("replicate_target", table) == pg_cluster.table_checksum(
            "replicate_source", table
        ), table
    for schema, table in [("public", "all_types"), ("public", "orders"), ("sales", "items")]:
        assert column_types(pg_cluster, "replicate_target", schema, table) == column_types(
            pg_cluster, "replicate_source", schema, table
        )
    assert primary_key(pg_cluster, "replicate_target", "public.orders") == (
        "PRIMARY KEY (region, order_no)"
    )
    assert primary_key(pg_cluster, "replicate_target", "sales.items") == ""
    rate = result["rows_loaded"] / result["seconds"]
    print(
        f"full load: {result['rows_loaded']} rows in {result['seconds']:.2f} s ({rate:,.0f} rows/s)"
    )


def test_transformations_rename_prefix_case_and_remove_column(
    pg_cluster: PgCluster,
    source_db: dict[str, Any],
    target_db: dict[str, Any],
    tmp_path: Path,
) -> None:
    mappings = {
        "rules": [
            selection_rule("sales", "%"),
            selection_rule("public", "orders", rule_id="2"),
            {
                "rule-type": "transformation",
                "rule-id": "3",
                "rule-name": "3",
                "rule-target": "schema",
                "object-locator": {"schema-name": "sales"},
                "rule-action": "rename",
                "value": "archive",
            },
            {
                "rule-type": "transformation",
                "rule-id": "4",
                "rule-name": "4",
                "rule-target": "table",
                "object-locator": {"schema-name": "%", "table-name": "%"},
                "rule-action": "add-prefix",
                "value": "old_",
            },
            {
                "rule-type": "transformation",
                "rule-id": "5",
                "rule-name": "5",
                "rule-target": "column",
                "object-locator": {
                    "schema-name": "sales",
                    "table-name": "items",
                    "column-name": "note",
                },
                "rule-action": "remove-column",
            },
            {
                "rule-type": "transformation",
                "rule-id": "6",
                "rule-name": "6",
                "rule-target": "column",
                "object-locator": {"schema-name": "%", "table-name": "%", "column-name": "%"},
                "rule-action": "convert-uppercase",
            },
        ]
    }
    result = run_load(tmp_path, source_db, {"postgres": target_db}, mappings)
    assert result["outcome"] == "finished", result
    targets = sorted((t["TargetSchemaName"], t["TargetTableName"]) for t in result["tables"])
    assert targets == [("archive", "old_items"), ("public", "old_orders")]
    assert column_types(pg_cluster, "replicate_target", "archive", "old_items") == [
        "SKU text",
        "QTY integer",
    ]
    assert primary_key(pg_cluster, "replicate_target", "public.old_orders") == (
        'PRIMARY KEY ("REGION", "ORDER_NO")'
    )
    assert pg_cluster.table_checksum(
        "replicate_target", "public.old_orders"
    ) == pg_cluster.table_checksum("replicate_source", "public.orders")


def test_truncate_and_do_nothing_keep_the_existing_table(
    pg_cluster: PgCluster,
    source_db: dict[str, Any],
    target_db: dict[str, Any],
    tmp_path: Path,
) -> None:
    pg_cluster.psql(
        "CREATE TABLE public.orders (region text, order_no integer, "
        "amount numeric(12,2), extra text DEFAULT 'kept');"
        "INSERT INTO public.orders VALUES ('stale', 1, 1);",
        "replicate_target",
    )
    mappings = {"rules": [selection_rule("public", "orders")]}
    truncate = {"FullLoadSettings": {"TargetTablePrepMode": "TRUNCATE_BEFORE_LOAD"}}
    result = run_load(tmp_path, source_db, {"postgres": target_db}, mappings, truncate)
    assert result["outcome"] == "finished", result
    assert (
        pg_cluster.psql(
            "SELECT count(*), count(*) FILTER (WHERE extra = 'kept') FROM public.orders",
            "replicate_target",
        ).strip()
        == "50000|50000"
    )

    # DO_NOTHING appends: a second load collides with nothing (no key) and doubles the rows.
    nothing = {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}}
    result = run_load(tmp_path, source_db, {"postgres": target_db}, mappings, nothing)
    assert result["outcome"] == "finished", result
    assert pg_cluster.psql("SELECT count(*) FROM public.orders", "replicate_target").strip() == (
        "100000"
    )


def test_target_error_marks_the_table_and_escalation_fails_the_task(
    pg_cluster: PgCluster,
    source_db: dict[str, Any],
    target_db: dict[str, Any],
    tmp_path: Path,
) -> None:
    # A CHECK constraint the rows violate: the target rejects the COPY.
    pg_cluster.psql(
        "CREATE TABLE public.orders (region text, order_no integer CHECK "
        "(order_no < 10), amount numeric(12,2));",
        "replicate_target",
    )
    mappings = {"rules": [selection_rule("public", "orders")]}
    settings: dict[str, Any] = {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}}
    result = run_load(tmp_path, source_db, {"postgres": target_db}, mappings, settings)
    (table,) = result["tables"]
    assert table["TableState"] == "Table error"
    assert "SqlState: 23514" in table["Error"] and "orders" in table["Error"]
    assert result["tables_errored"] == 1

    settings["ErrorBehavior"] = {"TableErrorPolicy": "STOP_TASK"}
    result = run_load(
        tmp_path, source_db, {"postgres": target_db}, mappings, settings, expect_code=1
    )
    assert result["outcome"] == "failed"
    assert "TableErrorPolicy STOP_TASK" in result["failure_message"]


def test_mapping_that_selects_nothing_fails_clearly(
    source_db: dict[str, Any],
    target_db: dict[str, Any],
    tmp_path: Path,
) -> None:
    mappings = {"rules": [selection_rule("nope", "%")]}
    result = run_load(tmp_path, source_db, {"postgres": target_db}, mappings, expect_code=1)
    assert result["outcome"] == "failed"
    assert "No tables were found" in result["failure_message"]


def test_unreachable_source_fails_without_leaking_the_password(
    target_db: dict[str, Any],
    tmp_path: Path,
) -> None:
    source = {"host": "127.0.0.1", "port": 1, "dbname": "x", "user": "dms", "password": "s3cret-pw"}
    result = run_load(tmp_path, source, {"postgres": target_db}, ALL_TABLES, expect_code=1)
    assert result["failure_message"].startswith("Error connecting to source database")
    assert "SqlState: 08001" in result["failure_message"]
    assert "s3cret-pw" not in result["failure_message"] + result["log"]


def test_bad_mapping_is_rejected_in_dms_words(
    source_db: dict[str, Any],
    target_db: dict[str, Any],
    tmp_path: Path,
) -> None:
    mappings = {"rules": [selection_rule("%", "%", rule_id="7", action="grab")]}
    result = run_load(tmp_path, source_db, {"postgres": target_db}, mappings, expect_code=1)
    assert result["failure_message"].startswith(
        "Error in mapping rules. Rule with ruleId = 7 failed validation."
    )


def csv_rows(folder: Path) -> list[list[str]]:
    rows: list[list[str]] = []
    for path in sorted(folder.glob("LOAD*.csv")):
        with path.open(newline="") as handle:
            rows.extend(csv.reader(handle))
    return rows


def test_file_target_writes_dms_style_csv(
    pg_cluster: PgCluster,
    source_db: dict[str, Any],
    tmp_path: Path,
) -> None:
    root = tmp_path / "s3"
    mappings = {
        "rules": [
            *ALL_TABLES["rules"],
            selection_rule("public", "orders", rule_id="2", action="exclude"),
        ]
    }
    target = {
        "files": {"root": str(root), "bucket": "lake", "folder": "dms", "max_file_size_kb": 4096}
    }
    result = run_load(tmp_path, source_db, target, mappings)
    assert result["outcome"] == "finished", result

    folder = root / "lake/dms/public/all_types"
    files = sorted(p.name for p in folder.iterdir())
    assert files[:2] == ["LOAD00000001.csv", "LOAD00000002.csv"], files
    assert all(p.stat().st_size <= 4096 * 1024 for p in folder.iterdir())
    assert not list(folder.glob(".*")), "no temporary files are left behind"

    # Parse back and compare with the source rendered the DMS way (NULL and '' both empty).
    expected_sql = (
        "COPY (SELECT id, i2, i4, n, nu, f4, f8, txt, vc, "
        "CASE WHEN b THEN 'true' WHEN NOT b THEN 'false' END, d, "
        "CASE WHEN isfinite(ts) THEN to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US') ELSE ts::text END, "
        "CASE WHEN isfinite(tstz) THEN to_char(tstz AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD HH24:MI:SS.US') ELSE tstz::text END, "
        "by, j, jb, u, arr, tarr, empty FROM public.all_types ORDER BY id) "
        "TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)"
    )
    expected = list(csv.reader(io.StringIO(pg_cluster.psql(expected_sql, "replicate_source"))))
    got = sorted(csv_rows(folder), key=lambda row: int(row[0]))
    assert len(got) == 100001
    assert got == expected
    assert got[2][11] == "2020-01-01 00:00:02.469134"  # microseconds always written

    items = csv_rows(root / "lake/dms/sales/items")
    assert len(items) == 20000 and items[0][2] == ""
    assert not (root / "lake/dms/public/orders").exists()

    raw = (root / "lake/dms/public/MixedCase/LOAD00000001.csv").read_text()
    assert raw.startswith("1,v1\n2,v2\n")
