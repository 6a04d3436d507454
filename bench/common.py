"""Helpers shared by the benchmark scripts: percentiles, timing loops, concurrent API clients."""

import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_it(label: str, function: Callable[[], object], runs: int = 50, warmup: int = 5) -> None:
    """Print the median and p95 wall time of function() in milliseconds."""
    timings = []
    for run in range(runs + warmup):
        start = time.perf_counter()
        function()
        if run >= warmup:
            timings.append(time.perf_counter() - start)
    print(
        f"  {label}: median {1000 * statistics.median(timings):.1f} ms, p95 {1000 * percentile(timings, 0.95):.1f} ms"
    )


def concurrent_clients(url: str, clients: int, requests_per_client: int, call: Callable, label: str) -> None:
    """`clients` gradio_client connections calling call(client, client_index, request_index) in parallel."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    connections = [Client(url, verbose=False) for _ in range(clients)]
    call(connections[0], 0, -1)  # warm the model up once

    def worker(index: int) -> None:
        for request in range(requests_per_client):
            start = time.perf_counter()
            try:
                call(connections[index], index, request)
            except Exception as error:
                with lock:
                    errors.append(repr(error))
                continue
            with lock:
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(
        f"  {label}, {clients} concurrent clients x {requests_per_client} requests: "
        f"p50 {1000 * statistics.median(latencies):.0f} ms, p95 {1000 * percentile(latencies, 0.95):.0f} ms, "
        f"{len(latencies) / elapsed:.1f} requests/s, {len(errors)} errors"
    )
    if errors:
        print(f"    first error: {errors[0][:300]}")
