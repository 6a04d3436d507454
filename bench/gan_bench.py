"""GAN tab benchmark: model time for a 64-image grid, API latency under 8 concurrent clients, start-to-ready.

    python bench/gan_bench.py [--requests-per-client 15] [--grid 16]

Targets (2-core CPU): model time <= 50 ms, API p95 <= 300 ms, start-to-ready <= 10 s.
"""

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genmodels.gan_pipeline import generate, latent_directions, sample_latents
from genmodels.imaging import grid
from genmodels.registry import Registry
from tests.integration.conftest import start_server


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def model_time(name: str, runs: int = 50) -> None:
    registry = Registry(device="cpu")
    gan = registry.load(name, "gan")
    directions = latent_directions(gan)
    timings = {"generator forward": [], "latents + forward": [], "latents + forward + PNG-ready grid": []}
    z = sample_latents(gan, 1, 64)
    for run in range(runs + 5):
        start = time.perf_counter()
        with torch.inference_mode():
            gan.generator(z)
        forward = time.perf_counter() - start
        start = time.perf_counter()
        images, _ = generate(gan, sample_latents(gan, run, 64, 0.8, [1.0, 0, 0, 0, 0], directions))
        sampled = time.perf_counter() - start
        grid(images)
        total = time.perf_counter() - start
        if run >= 5:  # warm-up excluded
            timings["generator forward"].append(forward)
            timings["latents + forward"].append(sampled)
            timings["latents + forward + PNG-ready grid"].append(total)
    for label, values in timings.items():
        print(
            f"  {name}, 64 images, {label}: median {1000 * statistics.median(values):.1f} ms, "
            f"p95 {1000 * percentile(values, 0.95):.1f} ms"
        )


def api_latency(url: str, clients: int, requests_per_client: int, grid_size: int) -> None:
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    connections = [Client(url, verbose=False) for _ in range(clients)]
    connections[0].predict("gan-mnist", 0, grid_size, "0-9 in turn", 1.0, False, 0, 0, 0, 0, 0, api_name="/gan_sample")

    def worker(index: int) -> None:
        for request in range(requests_per_client):
            start = time.perf_counter()
            try:
                connections[index].predict(
                    "gan-mnist",
                    index * 1000 + request,
                    grid_size,
                    "0-9 in turn",
                    1.0,
                    False,
                    0,
                    0,
                    0,
                    0,
                    0,
                    api_name="/gan_sample",
                )
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
        f"  {clients} concurrent clients x {requests_per_client} requests, grid {grid_size}: "
        f"p50 {1000 * statistics.median(latencies):.0f} ms, p95 {1000 * percentile(latencies, 0.95):.0f} ms, "
        f"{len(latencies) / elapsed:.1f} requests/s, {len(errors)} errors"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests-per-client", type=int, default=15)
    parser.add_argument("--grid", type=int, nargs="+", default=[16, 64])
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("Model time (target <= 50 ms for 64 images):")
    for name in ("gan-mnist", "cgan-mnist"):
        model_time(name)
    print("Start to ready (target <= 10 s):")
    started = time.perf_counter()
    process, url = start_server("bench-server.log")
    print(f"  app.py start until the page answers: {time.perf_counter() - started:.2f} s")
    try:
        print("End-to-end API latency through gradio_client (target p95 <= 300 ms):")
        for size in args.grid:
            api_latency(url, 8, args.requests_per_client, size)
    finally:
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    main()
