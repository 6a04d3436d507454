"""Load bench: a class of simulated students following a lesson's actions through the REST API, while a training
run is going, on one server started as `python app.py` starts it.

    python bench/load_bench.py                        # 30 students for 5 minutes (the issue's setting)
    python bench/load_bench.py --students 5 --seconds 30

Each student has a Gradio session of its own and repeats: think (exponential, mean --think seconds, at least 1 s),
then one action drawn from the lesson's mix: a 16-image GAN grid, a GAN interpolation, a VAE point decode, a VAE
prior grid, a 32-token text continuation (streamed; its first token is timed), the next-token view. One "teacher"
trains a GAN for the whole run, and a second training request waits behind it: its queue position is checked.

Prints per action: count, errors, p50/p95/p99 in milliseconds (text: time to the first token and to the end), the
server's memory every 30 s and the size of a session's state. Targets (issue 14): 0 errors; GAN grid and VAE
actions p95 <= 500 ms; text first token p95 <= 2 s; memory flat.
"""

import argparse
import json
import random
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
from common import PROJECT_ROOT, percentile  # noqa: F401 - PROJECT_ROOT puts the project on sys.path

from tests.integration.conftest import start_server

GAN_GRID = (
    "GAN grid (16)",
    "gan_sample",
    lambda r: ["gan-mnist", r.randrange(10**6), 16, "0-9 in turn", 1.0, False, 0, 0, 0, 0, 0],
)
GAN_WALK = ("GAN interpolation (8 frames)", "gan_interpolate", None)
VAE_POINT = ("VAE point decode", "vae_decode_point", lambda r: ["vae-2d", r.uniform(-3, 3), r.uniform(-3, 3)])
VAE_PRIOR = ("VAE prior grid (16)", "vae_prior", lambda r: ["vae-16d", r.randrange(10**6), 16])
PROMPTS = ["Once upon a time", "The capital of France is", "A generative model learns", "To be, or not to be"]
TEXT = (
    "text: 32 tokens",
    "text_generate",
    lambda r: ["smollm2-135m-instruct", r.choice(PROMPTS), 32, 0.8, 50, 0.95, 1.1, r.randrange(1000), 1, False],
)
NEXT = (
    "text: next-token view",
    "text_next_token",
    lambda r: ["smollm2-135m-instruct", r.choice(PROMPTS), " and", 0, 0.8, 50, 0.95, 1.1, False],
)
# The lesson's mix: what a class does in "GANs in 45 minutes" and "How a language model picks the next word".
MIX = [(GAN_GRID, 30), (GAN_WALK, 5), (VAE_POINT, 20), (VAE_PRIOR, 10), (TEXT, 20), (NEXT, 15)]
RUN = uuid.uuid4().hex[:6]  # fresh run names: a previous bench's orphaned trainer may still be saving its own
TRAINING = ["GAN (MNIST digits)", f"teacher-gan-{RUN}", 5000, 0, 64, 2e-4, 2e-4, "hinge", False, 64, 1.0, 2, 4, 64, 64]
TEXT_SOURCE = ["Tiny Shakespeare", "", None]


class Student:
    def __init__(self, url: str, seed: int):
        self.http = httpx.Client(base_url=url, timeout=120)
        self.session = uuid.uuid4().hex
        self.random = random.Random(seed)

    def call(self, api_name: str, data: list) -> tuple[float | None, str | None]:
        """(seconds to the first streamed output, error message or None); the call runs to its end."""
        started = time.perf_counter()
        event = self.http.post(f"gradio_api/call/{api_name}", json={"data": data, "session_hash": self.session})
        if event.status_code != 200:
            return None, f"HTTP {event.status_code}"
        first = None
        kind = None
        with self.http.stream("GET", f"gradio_api/call/{api_name}/{event.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("generating", "complete"):
                    payload = json.loads(line.split(":", 1)[1])
                    if first is None and payload and payload[0]:
                        first = time.perf_counter() - started
                    if kind == "complete":
                        return first, None
                elif line.startswith("data:") and kind == "error":
                    return first, line.split(":", 1)[1].strip()[:200] or "error"
        return first, "the stream ended without a result"


def interpolate_args(r: random.Random) -> list:
    return ["gan-mnist", r.randrange(10**6), r.randrange(10**6), 8, "spherical (slerp)", 1.0, "0-9 in turn"]


def student_loop(url, seed, until, think, results, lock) -> None:
    student = Student(url, seed)
    actions, weights = zip(*MIX, strict=True)
    while time.monotonic() < until:
        time.sleep(max(1.0, student.random.expovariate(1 / think)))
        if time.monotonic() >= until:
            break
        label, api_name, make = student.random.choices(actions, weights)[0]
        data = (make or interpolate_args)(student.random)
        started = time.perf_counter()
        try:
            first, error = student.call(api_name, data)
        except httpx.HTTPError as failure:
            first, error = None, f"{type(failure).__name__}: {failure}"
        total = time.perf_counter() - started
        with lock:
            results[label].append((total, first, error))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--think", type=float, default=10.0, help="mean seconds between a student's actions")
    args = parser.parse_args()
    process, url = start_server("load-bench.log", extra_env={"GENLAB_PUBLISH_RUNS": "0"})
    try:
        print(f"server at {url}; waiting for SmolLM2 to be ready", flush=True)
        wait_until_ready(Student(url, 0))
        warm = Student(url, 3)  # the models' first loads are start-up, not load: one call each first
        for _label, api_name, make in [GAN_GRID, VAE_POINT, VAE_PRIOR, TEXT, NEXT]:
            warm.call(api_name, make(warm.random))
        warm.call("gan_interpolate", interpolate_args(warm.random))
        # The teacher's training run, and a second one that has to wait behind it.
        teacher, waiting = Student(url, 1), Student(url, 2)
        teacher_result = []

        def teach() -> None:
            try:
                teacher_result.append(teacher.call("train_start", [*TRAINING, *TEXT_SOURCE]))
            except httpx.HTTPError:
                pass  # the server stopped at the end of the bench

        threading.Thread(target=teach, daemon=True).start()
        time.sleep(5)
        if teacher_result:
            print(f"the teacher's training run ended early: {teacher_result}")
        second = [*TRAINING[:1], f"second-gan-{RUN}", *TRAINING[2:]]
        position = queue_position(waiting, [*second, *TEXT_SOURCE])
        print(f"a second training request while one runs: {position}")
        results, lock = defaultdict(list), threading.Lock()
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=student_loop, args=(url, 100 + i, until, args.think, results, lock), daemon=True)
            for i in range(args.students)
        ]
        for thread in threads:
            thread.start()
        memory = []
        while any(thread.is_alive() for thread in threads):
            memory.append(rss_mb(process.pid))
            time.sleep(min(30.0, max(1.0, args.seconds / 10)))
        report(results, memory, args)
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_ready(student: Student, seconds: float = 300) -> None:
    """Until SmolLM2 has loaded in the background (the Text tab's status says "ready")."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        event = student.http.post("gradio_api/call/text_status", json={"data": ["smollm2-135m-instruct"]})
        body = student.http.get(f"gradio_api/call/text_status/{event.json()['event_id']}").text
        for line in body.splitlines():
            if line.startswith("data:"):
                payload = json.loads(line.split(":", 1)[1])
                if isinstance(payload, list) and json.loads(payload[0]).get("state") == "ready":
                    return
        time.sleep(1)
    raise RuntimeError("SmolLM2 did not get ready")


def queue_position(student: Student, data: list) -> str:
    """The status text the second training request is shown first: it should name its place in the queue."""
    event = student.http.post("gradio_api/call/train_start", json={"data": data, "session_hash": student.session})
    with student.http.stream("GET", f"gradio_api/call/train_start/{event.json()['event_id']}") as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                payload = json.loads(line.split(":", 1)[1])
                shown = [v for v in payload if isinstance(v, str) and ("queue" in v or "Step" in v)]
                if shown:
                    return shown[0][:120]
    return "no status"


def report(results, memory, args) -> None:
    print(f"\n{args.students} students, {args.seconds:.0f} s, mean think time {args.think:.0f} s, one training run")
    print(f"{'action':32} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    errors = []
    for label, rows in sorted(results.items()):
        times = [total for total, _, error in rows if error is None]
        errors += [f"{label}: {error}" for _, _, error in rows if error is not None]
        if times:
            shown = [1000 * percentile(times, q) for q in (0.5, 0.95, 0.99)]
            print(f"{label:32} {len(rows):6d} {len(rows) - len(times):6d} " + " ".join(f"{v:8.0f}" for v in shown))
        firsts = [first for _, first, error in rows if error is None and first is not None]
        if label.startswith("text: 32") and firsts:
            shown = [1000 * percentile(firsts, q) for q in (0.5, 0.95, 0.99)]
            print(f"{'  first token':32} {len(firsts):6d} {'':6} " + " ".join(f"{v:8.0f}" for v in shown))
    print(f"errors: {len(errors)}")
    for error in errors[:10]:
        print(f"  {error}")
    print("server memory (MB) over the run: " + ", ".join(f"{m:.0f}" for m in memory))


if __name__ == "__main__":
    main()
