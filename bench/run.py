"""Runs the benchmarks and writes docs/benchmarks.md (`make bench`).

Sizes come from the environment (defaults in brackets): BENCH_TASKS [600], BENCH_ENDPOINTS
[1000], BENCH_INSTANCES [60], BENCH_RUNNING_CDC [100], BENCH_REPEAT [3], BENCH_ROWS [1000000],
BENCH_ROUNDS [1]. Raw figures go to build/bench/api.json and build/bench/full_load.json;
``--render-only`` rewrites the document from those files without measuring again. Dagster's
beta and deprecation warnings are silenced: they say nothing about the figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from common import REPO_ROOT, machine

OUT = REPO_ROOT / "build" / "bench"
DOC = REPO_ROOT / "docs" / "benchmarks.md"


def _calls(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    return f"{total} ({parts})" if parts else "0"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _per_call(result: dict[str, Any]) -> str:
    calls = sum(result["calls"].values())
    return f"{result['wall'] / max(1, calls) * 1000:.0f} ms" if calls else "n/a"


def render(api: dict[str, Any], load: dict[str, Any], host: dict[str, Any]) -> str:
    r, nr = api["refresh"], api["naive_refresh"]
    t, nt = api["tick"], api["naive_tick"]
    ld = api["load"]
    describe = t["calls"].get("DescribeReplicationTasks", 0)
    gmd = t["calls"].get("GetMetricData", 0)
    budget_ok = describe + gmd <= t["budget"] and sum(t["calls"].values()) == describe + gmd
    refresh_ratio = nr["wall"] / r["wall"]
    rows = load["rows"]
    copy_rate = rows / load["copy_wall"]
    dms_rate = rows / load["dms"]["wall"]
    hwm_mib = load["dms_hwm_kib"] / 1024
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `bench/run.py` (what "
        "`make bench` runs), on a "
        f"machine with **{host['nproc']} cores** ({host['cpu']}) and **{host['memory_gib']} GiB** "
        f"of memory, Linux {host['kernel']}, Python {host['python']}, {host['postgres']}. The "
        "machine was shared with other work while measuring: load average (1 / 5 / 15 min) "
        f"{host['load_average']} when this page was written, {api.get('load_average_before')} -> "
        f"{api.get('load_average_after')} around the API figures and "
        f"{load.get('load_average_before')} -> {load.get('load_average_after')} around the "
        "full load. Absolute times are therefore noisy; call counts are exact.",
        "",
        f"Scale: {api['tasks']} tasks, {api['endpoints']} endpoints, {api['instances']} "
        f"instances on dms-local (seeded with `--seed`, all tagged), {api['running_cdc']} CDC "
        "tasks held running so the sensor has latency metrics to read; times are medians of "
        f"{api['repeat']} runs; full load of {rows:,} rows ({load['table_size']} on disk).",
        "",
        "| # | measure | dagster-dms | per-resource boto3 pattern | ratio | target | met? |",
        "|---|---|---|---|---|---|---|",
        f"| 1a | state refresh, tag filter `env=prod` (keeps {r['selected'][0]} tasks, "
        f"{r['selected'][1]} endpoints, {r['selected'][2]} instances): wall | {_ms(r['wall'])} "
        f"| {_ms(nr['wall'])} | {refresh_ratio:.1f}x faster | >= 5x | "
        f"{'yes' if refresh_ratio >= 5 else 'no'} |",
        f"| 1a | state refresh: API calls | {_calls(r['calls'])} | {_calls(nr['calls'])} | "
        f"{sum(nr['calls'].values()) / max(1, sum(r['calls'].values())):.0f}x fewer | | |",
        f"| 1b | code-location load from the stored state ({api['state_bytes'] // 1024} KiB, "
        f"{ld['assets']} assets): wall, API calls | {_ms(ld['wall'])}, "
        f"{_calls(ld['calls'])} calls (server saw {ld['server_requests']}) | n/a | | 0 calls | "
        f"{'yes' if sum(ld['calls'].values()) == 0 else 'no'} |",
        f"| 1c | one sensor tick over {api['tasks']} tasks ({t['metric_queries']} CDC latency "
        f"queries): API calls | {_calls(t['calls'])} | {_calls(nt['calls'])} | "
        f"{sum(nt['calls'].values()) / max(1, sum(t['calls'].values())):.0f}x fewer | "
        f"<= ceil({api['tasks']}/100) + ceil({t['metric_queries']}/500) = {t['budget']} | "
        f"{'yes' if budget_ok else 'no'} |",
        f"| 1c | sensor tick: wall (first tick / steady tick with cursor) | {_ms(t['wall'])} / "
        f"{_ms(t['steady_wall'])} | {_ms(nt['wall'])} | "
        f"{nt['wall'] / t['wall']:.1f}x faster | | |",
        f"| 1c | sensor tick: CPU time of the process (first / steady) | {_ms(t['cpu'])} / "
        f"{_ms(t['steady_cpu'])} | {_ms(nt['cpu'])} | {nt['cpu'] / t['cpu']:.1f}x less | | |",
    ]
    th = api["throttle"]
    for scenario, row in th.items():
        if scenario == "settings":
            continue
        steps = [k for k in ("refresh", "tick") if k in row]
        ok = all(row[k]["outcome"] == "ok" for k in steps)
        described = "; ".join(
            f"{k} {row[k]['outcome']} in {_ms(row[k]['wall'])}, "
            f"{row[k]['counters']['throttled']} ThrottlingException met of "
            f"{row[k]['counters']['requests']} requests"
            for k in steps
        )
        who = "per-resource boto3 pattern" if scenario.startswith("per-task") else "dagster-dms"
        lines.append(
            f"| 2 | `--fault-throttle` (burst 200, 8/s), {scenario}, {api['tasks']} tasks: "
            f"{' + '.join(steps)} | {described if who == 'dagster-dms' else ''} | "
            f"{described if who != 'dagster-dms' else ''} | | complete without failure | "
            f"{'yes' if ok else 'no'} |"
        )
    lines += [
        f"| 3 | full load PG -> PG, {rows:,} rows: rows/s | dms-local {dms_rate:,.0f} rows/s "
        f"({_ms(load['dms']['wall'])}) | `COPY TO STDOUT \\| COPY FROM STDIN` {copy_rate:,.0f} "
        f"rows/s ({_ms(load['copy_wall'])}) | {dms_rate / copy_rate:.2f}x | >= 0.8x | "
        f"{'yes' if dms_rate / copy_rate >= 0.8 else 'no'} |",
        "| 4 | CDC | **not measured yet** (CDC is being built separately) | | | | |",
        f"| 5 | dms-local peak RSS (VmHWM) during the full load | {hwm_mib:.0f} MiB (idle "
        f"{load['dms']['idle_hwm_kib'] / 1024:.0f} MiB) | | | < 256 MiB | "
        f"{'yes' if hwm_mib < 256 else 'no'} |",
        "",
        "## What the figures mean",
        "",
        "- **Refresh** (`AWSDMSComponent.discover`, importing tasks, endpoints and instances): one "
        "paginated listing per kind and tags in batches of `ListTagsForResource`. The "
        "per-resource pattern pages through each kind with boto3 and calls "
        "`ListTagsForResource` once per ARN to apply the same tag filter. Both run against the "
        "same dms-local on loopback. Average time per call on this shared machine: "
        f"{_per_call(nr)} in the per-resource refresh, {_per_call(r)} in the component's "
        f"refresh, {_per_call(nt)} in the per-task tick and {_per_call(t)} in the component's "
        "tick: a `DescribeReplicationTasks` filtered to one task costs dms-local about as much as "
        "a page of 100, so the wall-time ratios follow the call ratios. Against AWS each call "
        "also pays a network round trip, which favours the pattern with fewer calls further.",
        "- **Load**: `build_defs_from_discovery` on the state JSON read from disk, with the "
        "component pointed at the counting proxy; the proxy and dms-local's own request counter "
        "both saw no call.",
        "- **Tick**: `evaluate_tick` of `aws_dms_observation_sensor` with an ephemeral Dagster "
        "instance made beforehand. The first tick has no cursor, so every task becomes an "
        "observation; the steady tick passes the previous cursor. The per-task pattern calls "
        "`DescribeReplicationTasks` with a `replication-task-arn` filter per task and "
        "`GetMetricStatistics` per latency metric of each running CDC task. CPU time is "
        "`time.process_time()` of the benchmark process; the counting proxy runs in its own "
        "process so it is not included (timed runs go straight to dms-local, counted runs "
        "through the proxy).",
        "- **Throttling**: dms-local restarted with `--fault-throttle`, the component with its "
        "default retry settings (`standard`, 3 attempts). *Full bucket*: the bucket had refilled "
        "before the run. *Drained bucket*: another client emptied the bucket just before (as a "
        "busy account would); it is drained again before each step. The per-resource pattern "
        "runs its tick with the same retry settings (boto3 `standard`, 3 attempts). Counters "
        "come from `GET /_dms-local/faults`, reset before each step; every throttled request of "
        "a step that completed was retried (a throttled request is answered before any work). "
        "`--fault-throttle` throttles DMS calls only: the CloudWatch calls (`GetMetricData`, "
        "`GetMetricStatistics`) are never throttled. The per-task pattern can meet no "
        "throttling here when it issues `DescribeReplicationTasks` hardly faster than the "
        "8/s refill (see its time per call above): the 200-request burst then covers the "
        "difference. With AWS's faster answers it would drain the bucket within seconds; that "
        "is an expectation, not a measurement.",
        "- **Full load**: one cluster (fsync off) holds the source, the reference copy's target "
        "and the task's target; the reference runs first, into an empty table with the same "
        "definition (primary key included"
        + (", as the task's `DROP_AND_CREATE` target has" if load["dst_has_primary_key"] else "")
        + "). Row counts: reference "
        f"{load['ref_count']:,}, task {load['dst_count']:,}"
        + (
            f"; source and task target checksums equal: {load['checksums_equal']}"
            if "checksums_equal" in load
            else ""
        )
        + ". The task time runs from `StartReplicationTask` to the `stopped` status seen by a "
        "0.2 s poll, so it includes the start delay (10 ms) and up to 0.2 s of polling; dms-local "
        f"itself reported {load['dms']['elapsed_ms_reported']} ms elapsed.",
    ]
    if api.get("note"):
        lines.append(f"- Note: {api['note']}")
    misses = []
    if refresh_ratio < 5:
        misses.append(
            "- Refresh below 5x: on loopback, a call costs little, so the per-resource pattern's "
            "extra calls cost less than they would against AWS; the call ratio above is the "
            "figure that carries over."
        )
    if dms_rate / copy_rate < 0.8:
        misses.append(
            "- Full load below 0.8x of the COPY pipe: see the load average; both share the "
            "same two cores with PostgreSQL, and the task also prepares the target "
            "(DROP_AND_CREATE) and records progress."
        )
    if hwm_mib >= 256:
        misses.append("- Peak RSS over 256 MiB.")
    if misses:
        lines += ["", "## Targets missed", "", *misses]
    lines += [
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench                      # defaults: 600/1000/60 resources, 1M rows",
        "BENCH_ROWS=10000000 BENCH_REPEAT=5 make bench      # full scale",
        "# without bootstrapping, from an environment where dagster-dms is installed:",
        "PYTHONPATH=bench .venv/bin/python bench/run.py",
        "```",
        "",
        "Variables: `BENCH_TASKS`, `BENCH_ENDPOINTS`, `BENCH_INSTANCES` (within DMS's quotas: "
        "200 tasks and 100 endpoints per instance), `BENCH_RUNNING_CDC`, `BENCH_REPEAT`, "
        "`BENCH_ROWS`, `BENCH_ROUNDS`. Raw results: `build/bench/*.json`. Scripts: "
        "`bench/api_scale.py` (parts 1 and 2), `bench/full_load.py` (parts 3 and 5), "
        "`bench/run.py` (this page). `make bench` is not part of `make test`.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    OUT.mkdir(parents=True, exist_ok=True)
    host = machine()
    if not args.render_only:
        import api_scale
        import full_load

        with tempfile.TemporaryDirectory(prefix="dms-bench-") as tmp:
            api = api_scale.run(Path(tmp))
            (OUT / "api.json").write_text(json.dumps(api, indent=2, default=str))
            load = full_load.run(Path(tmp))
            (OUT / "full_load.json").write_text(json.dumps(load, indent=2, default=str))
    api = json.loads((OUT / "api.json").read_text())
    load = json.loads((OUT / "full_load.json").read_text())
    DOC.write_text(render(api, load, host))
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
