"""Measuring a load phase: latency percentiles, and CPU seconds of the API, of its PostgreSQL,
of the load generator and of the whole machine, so bench_api.py can say per request what each
costs and how busy the shared cores were."""

from __future__ import annotations

import contextlib
import statistics
from typing import Any


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "mean_ms": round(statistics.mean(ordered) * 1000, 2),
    }


def summary(runs: list[dict[str, Any]], cpu: dict[str, float]) -> dict[str, Any]:
    """One phase's rounds together: requests/s over the time spent in them, latency
    percentiles over all their requests, CPU ms per request by process group."""
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    latencies = [x for r in runs for x in r["latencies"]]
    return {
        "requests": requests,
        "errors": sum(r["errors"] for r in runs),
        "seconds": round(seconds, 2),
        "rps": round(requests / seconds, 1),
        **percentiles(latencies),
        "cpu_ms_per_request": round(cpu["api"] * 1000 / requests, 3),
        "cpu_ms_per_request_postgres": round(cpu["postgres"] * 1000 / requests, 3),
        "cpu_ms_per_request_load_generator": round(cpu["load_generator"] * 1000 / requests, 3),
        "machine_busy_share": round(cpu["machine_busy"] / max(cpu["machine_total"], 1e-9), 3),
        "cpu_ms_per_request_other_processes": round(
            max(0.0, cpu["machine_busy"] - cpu["api"] - cpu["postgres"] - cpu["load_generator"])
            * 1000
            / requests,
            3,
        ),
    }


def cpu_seconds(api_pid: int, pgdata: str) -> dict[str, float]:
    """CPU seconds used so far by the API (its process tree), by PostgreSQL, by this load
    generator and by the whole machine (busy and total, all cores): per request, they say how
    many requests per second the machine's cores allow and how much else was running."""
    import psutil

    def _own(proc: psutil.Process) -> float:
        t = proc.cpu_times()  # this process only: the API is its child
        return t.user + t.system

    def tree(proc: psutil.Process) -> float:
        total = 0.0
        for p in [proc, *proc.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    # The embedded server's postmaster (its -D is this state folder) and its backends; other
    # PostgreSQL servers on the machine count as other processes.
    postgres = 0.0
    for p in psutil.process_iter(["name", "cmdline"]):
        if p.info["name"] in ("postgres", "postmaster") and pgdata in (p.info["cmdline"] or []):
            with contextlib.suppress(psutil.Error):
                postgres += tree(p)
    machine = psutil.cpu_times()
    idle = machine.idle + getattr(machine, "iowait", 0.0)
    total = sum(machine)
    return {
        "api": tree(psutil.Process(api_pid)),
        "postgres": postgres,
        "load_generator": _own(psutil.Process()),
        "machine_busy": total - idle,
        "machine_total": total,
    }


def server_share(metrics: str, operation: str) -> dict[str, float]:
    """Share of operations the server finished within each histogram bound (GraphQL execution
    time inside the API, without HTTP and client overhead)."""
    from prometheus_client.parser import text_string_to_metric_families

    counts = {
        sample.labels["le"]: sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "recsys_api_request_seconds_bucket" and sample.labels.get("operation") == operation
    }
    total = counts.get("+Inf", 0.0)
    return {
        f"{b}s": round(v / total, 4)
        for b, v in counts.items()
        if total and b in ("0.005", "0.01", "0.025", "0.05")
    }


def cache_counts(metrics: str) -> dict[str, float]:
    """The API's response cache counters (hit, miss) so far, summed over its processes."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "recsys_api_response_cache_total"
    }
