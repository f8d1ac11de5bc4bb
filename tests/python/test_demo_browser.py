"""`make demo` end to end in a browser: the demo starts, the Dagster UI shows exactly the assets the
Advanced Example selects, materializing the full-load task from the UI moves the rows and reports
them, the downstream asset counts the same rows in the warehouse, and Ctrl-C stops everything
(nothing of the demo survives it; test_demo_shutdown.py covers SIGTERM and SIGKILL).

Drives Debian's chromium (/usr/bin/chromium) through Playwright; never downloads a browser. The
screenshots it takes are the ones the README shows (docs/images/)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT
from demo_run import DemoRun
from process_census import ProcessInfo

CHROMIUM = Path("/usr/bin/chromium")
IMAGES = REPO_ROOT / "docs" / "images"
ROWS = 20000
# What scripts/demo.py generates for ROWS (orders and order lines; the generator adds more).
INITIAL_ORDER_ROWS = ROWS * 3 // 10 + (ROWS - ROWS // 20 - ROWS // 100 - ROWS * 3 // 10)
SELECTED = {
    "dms_task_prod_orders_full_load",
    "dms_task_prod_orders_cdc",
    "dms_task_prod_catalog_reload",
    "dms_endpoint_prod_shop_source",
    "dms_endpoint_prod_warehouse_target",
    "dms_instance_prod_instance",
    "warehouse_orders",
}
# The table assets (import_tables): what the orders tasks and prod-catalog-reload write.
TABLES = {"shop/orders", "shop/order_items", "shop/products", "shop/customers"}

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)"),
]


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    ui_url: str
    dms_url: str
    work_dir: Path
    output: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.ui_url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            document: dict[str, Any] = json.load(response)
        assert "errors" not in document, document
        data: dict[str, Any] = document["data"]
        return data

    def run_status(self, run_id: str) -> str:
        data = self.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id}
        )
        return str(data["runOrError"]["status"])

    def wait_for_run(self, run_id: str, timeout: float = 240) -> str:
        deadline = time.monotonic() + timeout
        status = self.run_status(run_id)
        while status not in ("SUCCESS", "FAILURE", "CANCELED"):
            assert time.monotonic() < deadline, f"run {run_id} still {status} after {timeout} s"
            time.sleep(1)
            status = self.run_status(run_id)
        return status

    def latest_metadata(self, key: str | list[str]) -> dict[str, Any]:
        data = self.graphql(
            """query($path: [String!]!) {
              assetOrError(assetKey: {path: $path}) { ... on Asset {
                assetMaterializations(limit: 1) { metadataEntries {
                  label
                  ... on IntMetadataEntry { intValue }
                  ... on TextMetadataEntry { text }
                } }
              } }
            }""",
            {"path": [key] if isinstance(key, str) else key},
        )
        [materialization] = data["assetOrError"]["assetMaterializations"]
        return {
            e["label"]: e.get("intValue", e.get("text")) for e in materialization["metadataEntries"]
        }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    run = DemoRun.start(tmp_path_factory.mktemp("demo"), rows=ROWS)
    killed: list[ProcessInfo] = []
    try:
        ready = run.wait_for(r"DEMO READY (\S+) (\S+)")
        running = Demo(run.process, ready.group(1), ready.group(2), run.work_dir, run.output)
        # Dagster's one-time community prompt would cover the screenshots.
        assert running.graphql("mutation { setNuxSeen }")["setNuxSeen"] is True
        yield running
    finally:
        killed = run.teardown(signal.SIGINT)  # what Ctrl-C sends
    text = run.text()
    assert not killed, f"processes of the demo survived it: {killed}\n{text}"
    assert run.process.returncode == 0, text
    for line in ("dagster dev stopped", "dms-local stopped", "PostgreSQL stopped"):
        assert f"demo: {line}" in text, text
    batches = re.search(r"change generator stopped after (\d+) batches", text)
    assert batches is not None and int(batches.group(1)) > 0, text
    pg_port = re.search(r"PostgreSQL on 127\.0\.0\.1:(\d+)", text)
    assert pg_port is not None, text
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(pg_port.group(1))), timeout=5).close()


@pytest.fixture
def page(demo: Demo) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        tab.set_default_timeout(60_000)
        # Should Dagster's community prompt still appear, it is dismissed before any action.
        skip = tab.get_by_role("button", name="Skip")
        tab.add_locator_handler(skip, lambda: skip.click())
        try:
            yield tab
        finally:
            browser.close()


def materialize_from_ui(page: Any, demo: Demo, key: str) -> str:
    """Opens the asset's page, clicks Materialize and returns the launched run's id."""
    page.goto(f"{demo.ui_url}/assets/{key}", wait_until="domcontentloaded")
    button = page.locator("button", has_text=re.compile(r"^\s*Materialize\s*$")).first
    button.wait_for(state="visible")
    button.click()
    link = page.locator("a[href*='/runs/']", has_text="View").first
    link.wait_for(state="visible", timeout=120_000)
    href = link.get_attribute("href")
    assert href is not None
    return href.rsplit("/", 1)[-1]


def test_demo_in_the_browser(demo: Demo, page: Any) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)

    # The catalog lists exactly what the Advanced Example selects (prod-, tagged, not test/dev),
    # plus the downstream asset.
    page.goto(f"{demo.ui_url}/assets", wait_until="domcontentloaded")
    page.locator("a[href='/assets/dms_task_prod_orders_full_load']").first.wait_for()
    hrefs = page.locator("a[href^='/assets/']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    listed = {h.removeprefix("/assets/") for h in hrefs if "/" not in h.removeprefix("/assets/")}
    assert listed == SELECTED
    # The table assets have two-part keys ([schema, table] of the target).
    tables = {h.removeprefix("/assets/") for h in hrefs if h.count("/") == 3}
    assert tables == TABLES, tables

    lineage = (
        f"{demo.ui_url}/assets/dms_task_prod_orders_full_load"
        "?view=lineage&lineageScope=neighbors&lineageDepth=1"
    )
    page.goto(lineage, wait_until="domcontentloaded")
    page.get_by_text("order_items", exact=True).filter(visible=True).first.wait_for()
    page.get_by_text("dms_endpoint_prod_shop_source", exact=True).filter(
        visible=True
    ).first.wait_for()
    # A table asset has both orders tasks upstream and warehouse_orders downstream.
    table_lineage = (
        f"{demo.ui_url}/assets/shop/orders?view=lineage&lineageScope=neighbors&lineageDepth=1"
    )
    page.goto(table_lineage, wait_until="domcontentloaded")
    for neighbour in (
        "warehouse_orders",
        "dms_task_prod_orders_full_load",
        "dms_task_prod_orders_cdc",
    ):
        page.get_by_text(neighbour, exact=True).filter(visible=True).first.wait_for()

    # Materialize the full-load task from the UI; dms-local copies the rows for real.
    run_id = materialize_from_ui(page, demo, "dms_task_prod_orders_full_load")
    assert demo.wait_for_run(run_id) == "SUCCESS"
    page.goto(f"{demo.ui_url}/runs/{run_id}", wait_until="domcontentloaded")
    page.get_by_text("RUN_SUCCESS").filter(visible=True).first.wait_for()
    page.screenshot(path=str(IMAGES / "demo-run.png"))

    metadata = demo.latest_metadata("dms_task_prod_orders_full_load")
    assert metadata["dms/status"] == "stopped"
    assert metadata["dms/stop_reason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert metadata["dms/tables_loaded"] == 2
    loaded_rows = metadata["dms/full_load_rows"]
    assert loaded_rows >= INITIAL_ORDER_ROWS

    # The asset page shows the same numbers in its metadata table.
    page.goto(f"{demo.ui_url}/assets/dms_task_prod_orders_full_load", wait_until="domcontentloaded")
    row = page.locator("tr", has=page.get_by_text("dms/full_load_rows", exact=True)).first
    row.wait_for()
    assert str(loaded_rows) in row.inner_text().replace(",", "")
    statistics = page.locator("tr", has=page.get_by_text("dms/table_statistics", exact=True)).first
    statistics.scroll_into_view_if_needed()
    assert "order_items" in statistics.inner_text()
    page.screenshot(path=str(IMAGES / "demo-materialization-metadata.png"))

    # Each table asset got its own materialization, its row count as DMS counts it.
    table_rows = {
        name: demo.latest_metadata(["shop", name])["dagster/row_count"]
        for name in ("orders", "order_items")
    }
    assert sum(table_rows.values()) == loaded_rows
    # The table's page shows its DMS statistics (the UI shows dagster/row_count as "Rows").
    page.goto(f"{demo.ui_url}/assets/shop/orders", wait_until="domcontentloaded")
    row = page.locator("tr", has=page.get_by_text("dms/full_load_rows", exact=True)).first
    row.wait_for()
    assert str(table_rows["orders"]) in row.inner_text().replace(",", "")

    # Downstream: counts what arrived in the warehouse, which is what the task reported.
    run_id = materialize_from_ui(page, demo, "warehouse_orders")
    assert demo.wait_for_run(run_id) == "SUCCESS"
    counted = demo.latest_metadata("warehouse_orders")
    assert counted["warehouse/orders"] + counted["warehouse/order_items"] == loaded_rows

    # The graph again, now with both assets materialized.
    page.goto(lineage, wait_until="domcontentloaded")
    page.get_by_text("Materialized", exact=True).filter(visible=True).nth(1).wait_for()
    page.screenshot(path=str(IMAGES / "demo-asset-graph.png"))
