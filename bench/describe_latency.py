"""DescribeReplicationTasks latency with many concurrent clients, against the same call with
one client (the no-load reference).

Each client is a process of its own that polls one task, as a per-task poller or sensor does:
signed `DescribeReplicationTasks` requests with a `replication-task-arn` filter, back to back
over one keep-alive connection for BENCH_DESCRIBE_SECONDS (20), recording each request's time
from sending to the last byte of the answer. Requests are signed before the clock starts and answers
are not parsed, so the figure is the server's latency plus loopback, not boto3's CPU time: with
20 boto3 clients on two cores, the clients' own parsing would dominate the measure.

Run alone (``python bench/describe_latency.py``) it seeds a dms-local like part 1 does and
prints the figures as JSON; DMS_LOCAL chooses the binary, so two builds can be compared.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import statistics
import time
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from common import percentile

TARGET = "AmazonDMSv20160101.DescribeReplicationTasks"


def _body(task_arn: str) -> str:
    return json.dumps({"Filters": [{"Name": "replication-task-arn", "Values": [task_arn]}]})


def _signed_headers(url: str, body: str) -> dict[str, str]:
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET},
    )
    SigV4Auth(Credentials("test", "test"), "dms", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def _client(url: str, task_arn: str, seconds: float, start: Any, out: Any) -> None:
    """One client: waits for the others, then describes its task until `seconds` have passed."""
    body = _body(task_arn)
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    latencies: list[float] = []
    failures = 0
    start.wait()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        headers = _signed_headers(url, body)
        began = time.perf_counter()
        connection.request("POST", "/", body, headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - began)
        failures += response.status != 200
    connection.close()
    out.put((latencies, failures))


def measure(url: str, task_arns: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """p50 / p99 / max in ms over every request of `clients` concurrent clients, client i
    polling task i (of `task_arns`, cyclically)."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(clients + 1)
    out = context.Queue()
    processes = [
        context.Process(
            target=_client, args=(url, task_arns[i % len(task_arns)], seconds, start, out)
        )
        for i in range(clients)
    ]
    for process in processes:
        process.start()
    start.wait()
    results = [out.get(timeout=seconds + 300) for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(ms * 1000 for found, _ in results for ms in found)
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(latencies),
        "failures": sum(failures for _, failures in results),
        "requests_per_s": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1],
    }


def under_load(url: str, task_arns: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """The reference (one client) and the measure (`clients` at once), in that order."""
    return {
        "no_load": measure(url, task_arns, 1, seconds),
        "loaded": measure(url, task_arns, clients, seconds),
    }


def task_arns(dms: Any) -> list[str]:
    """Every task's ARN, through boto3's paginator."""
    pages = dms.get_paginator("describe_replication_tasks").paginate(WithoutSettings=True)
    return [t["ReplicationTaskArn"] for page in pages for t in page["ReplicationTasks"]]


if __name__ == "__main__":
    import sys
    import tempfile
    from pathlib import Path

    from api_scale import seed_document
    from common import bench_server, dms_client, env_int

    with tempfile.TemporaryDirectory(prefix="dms-bench-") as tmp:
        seed = Path(tmp) / "seed.json"
        seed.write_text(json.dumps(seed_document(600, 1000, 60)))
        server = bench_server(Path(tmp) / "state", ["--test-executor", "hold", "--seed", str(seed)])
        server.start()
        try:
            figures = under_load(
                server.url,
                task_arns(dms_client(server.url)),
                env_int("BENCH_CLIENTS", 20),
                env_int("BENCH_DESCRIBE_SECONDS", 20),
            )
        finally:
            server.stop()
    print(json.dumps(figures, indent=2), file=sys.stdout)
