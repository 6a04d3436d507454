"""GAN tab benchmark: model time for a 64-image grid, API latency under 8 concurrent clients, start-to-ready.

    python bench/gan_bench.py [--requests-per-client 30]

Targets (2-core CPU): model time <= 50 ms, API p95 <= 300 ms, start-to-ready <= 10 s.

The 8 clients run here, on the server's own 2 cores, so whatever CPU a client spends is taken from the server.
Two kinds are measured: plain HTTP calls to Gradio's REST API (about 3 ms of client CPU per call, so the
numbers are the server's), and gradio_client (tens of ms of client CPU per call, more than the server needs).
"""

import argparse
import time

import torch
from common import call_http, concurrent_clients, http_client, time_it

from genmodels.gan_pipeline import generate, latent_directions, sample_latents
from genmodels.imaging import grid
from genmodels.registry import Registry
from tests.integration.conftest import start_server

MIXED = "0-9 in turn"


def model_time(registry: Registry, name: str) -> None:
    gan = registry.load(name, "gan")
    directions = latent_directions(gan)
    z = sample_latents(gan, 1, 64)
    y = torch.arange(64) % 10 if gan.conditional else None

    def forward():
        with torch.inference_mode():
            gan.generator(z, y)

    time_it(f"{name}, 64 images, generator forward", forward)
    time_it(f"{name}, 64 images, seeded latents + forward", lambda: generate(gan, sample_latents(gan, 7, 64)))
    time_it(
        f"{name}, 64 images, latents + ψ + direction + forward + grid picture",
        lambda: grid(generate(gan, sample_latents(gan, 7, 64, 0.8, [1.0, 0, 0, 0, 0], directions))[0]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests-per-client", type=int, default=30)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print("Model time (target <= 50 ms for 64 images):")
    registry = Registry(device="cpu")
    for name in ("gan-mnist", "cgan-mnist"):
        model_time(registry, name)
    print("Start to ready (target <= 10 s):")
    started = time.perf_counter()
    process, url = start_server("bench-gan-server.log")
    print(f"  app.py start until the page answers: {time.perf_counter() - started:.2f} s")
    try:
        print("End-to-end API latency, inputs to downloaded PNG (target p95 <= 300 ms):")
        print(" through Gradio's REST API (/gradio_api/call/..., what curl does), a lean HTTP client per thread:")
        for size in (16, 64):

            def call(http, index, request, size=size):
                seed = max(index * 1000 + request, 0)
                call_http(http, "gan_sample", ["gan-mnist", seed, size, MIXED, 1.0, False, 0, 0, 0, 0, 0])

            concurrent_clients(url, 8, args.requests_per_client, call, f"/gan_sample, grid {size}", http_client)
        print(" through gradio_client (heavier: its own CPU per call competes with the server for the 2 cores):")
        for size in (16, 64):

            def predict(client, index, request, size=size):
                seed = max(index * 1000 + request, 0)
                client.predict("gan-mnist", seed, size, MIXED, 1.0, False, 0, 0, 0, 0, 0, api_name="/gan_sample")

            concurrent_clients(url, 8, args.requests_per_client, predict, f"/gan_sample, grid {size}")
    finally:
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    main()
