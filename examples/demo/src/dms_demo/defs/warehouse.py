"""A downstream asset: what the full-load task put in the warehouse database."""

import os
import subprocess

import dagster as dg


def _count(table: str) -> int:
    # DEMO_PSQL and DEMO_TARGET_DSN are set by the demo driver (scripts/demo.py).
    result = subprocess.run(
        [
            os.environ.get("DEMO_PSQL", "psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            os.environ["DEMO_TARGET_DSN"],
            "-c",
            f"SELECT count(*) FROM {table}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise dg.Failure(f"counting {table} in the warehouse failed: {result.stderr.strip()}")
    return int(result.stdout.strip())


@dg.asset(
    # The table assets (import_tables), which both orders tasks write.
    deps=[dg.AssetKey(["shop", "orders"]), dg.AssetKey(["shop", "order_items"])],
    group_name="warehouse",
    kinds={"postgres"},
    description="Orders and order lines that the orders tasks copied into the warehouse.",
)
def warehouse_orders(context: dg.AssetExecutionContext) -> dg.MaterializeResult[None]:
    orders = _count("shop.orders")
    items = _count("shop.order_items")
    if orders == 0:
        raise dg.Failure("the warehouse has no orders: materialize dms_task_prod_orders_full_load")
    context.log.info(f"warehouse holds {orders} orders and {items} order lines")
    return dg.MaterializeResult(
        metadata={"warehouse/orders": orders, "warehouse/order_items": items}
    )
