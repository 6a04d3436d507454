"""Memory bench: the server's memory at rest with every shipped model loaded, and each endpoint's peak above rest
for the worst input found (the hostile suite's values, plus the largest accepted upload and training text).

    python bench/memory_bench.py

Target: no single request raises the server's resident memory more than 200 MB above its level just before it.
The server runs as `python app.py` does; memory is read from /proc every 10 ms (Linux).
"""

import io
import time

import numpy as np
from common import PROJECT_ROOT  # noqa: F401 - puts the project on sys.path
from PIL import Image

from tests.integration.conftest import start_server
from tests.integration.test_hostile import ENDPOINTS, HostileServer, MemoryWatch, baseline, hostile_values

LIMIT_MB = 200


def largest_upload() -> bytes:
    """The largest picture that decodes whole: a 16-megapixel RGBA PNG (61 MB decoded), a digit in the middle."""
    side = 4000
    picture = np.zeros((side, side), np.uint8)
    picture[side // 4 : 3 * side // 4, side // 2 - 200 : side // 2 + 200] = 255
    buffer = io.BytesIO()
    Image.fromarray(picture).convert("RGBA").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def peak(server: HostileServer, api_name: str, data: list) -> tuple[float, str]:
    rest = server.rss_mb()
    with MemoryWatch(server) as watch:
        outcome, _ = server.call(api_name, data)
    return watch.peak - rest, outcome


def main() -> None:
    process, url = start_server("memory-bench-server.log")
    server = HostileServer(process, url)
    try:
        deadline = time.monotonic() + 180
        while json_state(server) != "ready" and time.monotonic() < deadline:
            time.sleep(1)
        for api_name in ENDPOINTS:  # every model loaded once
            server.call(api_name, baseline(server, api_name))
        time.sleep(2)
        print(f"memory at rest, every shipped model loaded (SmolLM2 included): {server.rss_mb():.0f} MB")
        print(f"{'endpoint':18s} {'worst peak above rest':>22s}  worst input")
        failures = 0
        for api_name in ENDPOINTS:
            valid = baseline(server, api_name)
            worst = (0.0, "valid arguments")
            for index, parameter in enumerate(server.info[f"/{api_name}"]["parameters"]):
                for value in hostile_values(server, parameter["python_type"]["type"]):
                    data = list(valid)
                    data[index] = value
                    above, _ = peak(server, api_name, data)
                    if above > worst[0]:
                        worst = (above, f"{parameter['parameter_name']}={repr(value)[:30]}")
            failures += worst[0] > LIMIT_MB
            print(f"{api_name:18s} {worst[0]:+18.0f} MB  {worst[1]}")
        big = server.upload("huge.png", largest_upload())
        above, outcome = peak(server, "vae_upload_a", [big])
        failures += above > LIMIT_MB
        print(f"{'vae_upload_a':18s} {above:+18.0f} MB  a 16-megapixel RGBA PNG, 61 MB decoded ({outcome})")
        text = server.upload("corpus.txt", ("To be, or not to be, that is the question.\n" * 48_000).encode())
        data = baseline(server, "train_start")
        data[0], data[1], data[2] = "char-GPT (text)", "memory-bench-gpt", 1
        data[15], data[17] = "uploaded text file", text
        above, outcome = peak(server, "train_start", data)
        failures += above > LIMIT_MB
        print(f"{'train_start':18s} {above:+18.0f} MB  a 2 MB uploaded training text, 1 step ({outcome})")
        print(f"{'all':18s} {'within' if not failures else 'OVER'} {LIMIT_MB} MB ({failures} over)")
    finally:
        process.terminate()
        process.wait(timeout=20)


def json_state(server: HostileServer) -> str:
    import json

    outcome, payload = server.call("text_status", ["smollm2-135m-instruct"])
    return json.loads(payload[0])["state"] if outcome == "complete" else "unknown"


if __name__ == "__main__":
    main()
