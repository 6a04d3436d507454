"""VAE tab benchmark: encode two digits + decode a 16-step interpolation, and API latency under 8 clients.

    python bench/vae_bench.py [--requests-per-client 15]

Targets (2-core CPU): model time <= 30 ms, API p95 reported.
"""

import argparse

import torch
from common import call_http, concurrent_clients, http_client, time_it
from gradio_client import handle_file

from genmodels.data import held_out_digits
from genmodels.registry import Registry
from genmodels.vae_pipeline import decode, encode, interpolate_codes
from tests.integration.conftest import start_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests-per-client", type=int, default=15)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    registry = Registry(device="cpu")
    pair = held_out_digits().images[:2].float().unsqueeze(1) / 255.0
    print("Model time: encode 2 digits + decode a 16-step interpolation (target <= 30 ms):")
    for name in ("vae-2d", "vae-16d", "vae-16d-beta4", "vae-16d-pixel"):
        vae = registry.load(name, "vae")

        def walk(vae=vae):
            codes = encode(vae, pair)
            return decode(vae, interpolate_codes(vae, codes[0], codes[1], 16, "slerp"))

        time_it(name, walk)
    process, url = start_server("bench-vae-server.log")
    try:
        from gradio_client import Client

        warm = Client(url, verbose=False)
        image_a, _ = warm.predict(3, api_name="/vae_digit_a")
        image_b, _ = warm.predict(10, api_name="/vae_digit_b")
        print("End-to-end API latency, inputs to downloaded strip and GIF:")
        print(" through Gradio's REST API with lean HTTP clients (the two digits picked once, as on the page):")

        def digits(http):
            """Pick digits A and B in this session; their pictures are the interpolation's inputs."""
            picked = [call_http(http, api, [index])[0] for api, index in (("vae_digit_a", 3), ("vae_digit_b", 10))]
            return [{"path": image["path"], "meta": {"_type": "gradio.FileData"}} for image in picked]

        pairs = {}

        def rest(http, index, request):
            if id(http) not in pairs:
                pairs[id(http)] = digits(http)
            call_http(http, "vae_interpolate", ["vae-16d", *pairs[id(http)], 16, "spherical (slerp)", True])

        concurrent_clients(url, 8, args.requests_per_client, rest, "/vae_interpolate, 16 steps", http_client)
        print(" through gradio_client (it uploads both pictures on every call):")

        def call(client, index, request):
            client.predict(
                "vae-16d",
                handle_file(image_a),
                handle_file(image_b),
                16,
                "spherical (slerp)",
                True,
                api_name="/vae_interpolate",
            )

        concurrent_clients(url, 8, args.requests_per_client, call, "/vae_interpolate, 16 steps")
    finally:
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    main()
