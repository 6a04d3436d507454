"""GAN tab benchmark: model time for a 64-image grid, API latency under 8 concurrent clients, start-to-ready.

    python bench/gan_bench.py [--requests-per-client 15]

Targets (2-core CPU): model time <= 50 ms, API p95 <= 300 ms, start-to-ready <= 10 s.
"""

import argparse
import time

import torch
from common import concurrent_clients, time_it

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
    parser.add_argument("--requests-per-client", type=int, default=15)
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
        print("End-to-end API latency through gradio_client (target p95 <= 300 ms):")
        for size in (16, 64):

            def call(client, index, request, size=size):
                seed = max(index * 1000 + request, 0)
                client.predict("gan-mnist", seed, size, MIXED, 1.0, False, 0, 0, 0, 0, 0, api_name="/gan_sample")

            concurrent_clients(url, 8, args.requests_per_client, call, f"/gan_sample, grid {size}")
    finally:
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    main()
