"""Helpers shared by the benchmark scripts: percentiles, timing loops, concurrent API clients."""

import json
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


def gradio_client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def http_client(url: str):
    """An HTTP connection with its own Gradio session, as a browser page or gradio_client keeps one.

    (Without a session hash every call opens a new session, and Gradio builds a new session's state from the
    whole app's component configs: about 10 ms of server CPU per call for GenLab's four tabs.)"""
    import uuid

    import httpx

    http = httpx.Client(base_url=url, timeout=60)
    http.session_hash = uuid.uuid4().hex
    return http


def call_http(http, api_name: str, data: list) -> list:
    """One call through Gradio's REST API (what `curl` users do): post the inputs, read the event stream until
    the result, then download every file it returns, so the latency is end to end."""
    event = http.post(f"gradio_api/call/{api_name}", json={"data": data, "session_hash": http.session_hash})
    event.raise_for_status()
    stream = http.get(f"gradio_api/call/{api_name}/{event.json()['event_id']}")
    stream.raise_for_status()
    kind, payload = None, None
    for line in stream.text.splitlines():
        if line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("data: "):
            payload = line[len("data: ") :]
    if kind != "complete":
        raise RuntimeError(f"{api_name} ended with {kind}: {payload}")
    outputs = json.loads(payload)
    for output in outputs:
        if isinstance(output, dict) and output.get("url"):
            download = http.get(output["url"])
            download.raise_for_status()
            if not download.content:
                raise RuntimeError(f"{api_name} returned an empty file")
    return outputs


def concurrent_clients(
    url: str, clients: int, requests_per_client: int, call: Callable, label: str, connect: Callable = gradio_client
) -> None:
    """`clients` connections (connect(url): gradio_client by default) calling call(connection, client_index,
    request_index) in parallel threads; prints latency percentiles, throughput and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    connections = [connect(url) for _ in range(clients)]
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
    started, cpu_started = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        f"  {label}, {clients} concurrent clients x {requests_per_client} requests: "
        f"p50 {1000 * statistics.median(latencies):.0f} ms, p95 {1000 * percentile(latencies, 0.95):.0f} ms, "
        f"{len(latencies) / elapsed:.1f} requests/s, {len(errors)} errors; "
        f"the clients used {1000 * cpu / max(len(latencies), 1):.0f} ms of CPU per request"
    )
    if errors:
        print(f"    first error: {errors[0][:300]}")
