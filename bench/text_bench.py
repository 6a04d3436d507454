"""Text tab benchmark: SmolLM2's decode paths beside llama.cpp and float32 `generate`, measured in one run.

    python bench/text_bench.py [--skip-anchor] [--skip-server]

Prints, on this machine:
- llama.cpp (../shared/tools/llamacpp_anchor.sh: the same Q4_1 GGUF, 2 threads, greedy, 128 new tokens);
- the path GenLab chooses at load time, its load time and why it was chosen;
- every CPU path forced in turn: time to first token, decode tokens/s (greedy and sampled, 128 new tokens, batch 1,
  through the same engine the Text tab streams from) and perplexity against float32 on the guard texts;
- the ratio of each to llama.cpp (which is measured again at the end: this machine's speed drifts by 10-20%);
- warm first click: from `python app.py` starting, when the first token of a request made as soon as the page
  answers arrives, beside the model's own load time.

Targets: decode and time to first token at least llama.cpp's; perplexity within 1% of float32; first token within
the load time plus 1 s; start-to-ready under 10 s.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
from common import PROJECT_ROOT

from genmodels.fastllama import decode_path_perplexity, load_fast_llama, reference_perplexity
from genmodels.lm import FastModel, continue_text
from genmodels.lm_kernels import KERNELS, candidates
from genmodels.registry import Registry
from genmodels.smollm import CACHE_DIR
from genmodels.text_models import SELF_CHECK_TEXT, SMOLLM, TextModels
from genmodels.textgen import SamplingSettings

PROMPT = (
    "Once upon a time, in a small village by the sea, there lived an old fisherman who told stories to the "
    "children every evening"
)
GUARD_TEXTS = [
    "The history of the Roman Empire spans many centuries, from the founding of the city to its fall.",
    "Photosynthesis is the process by which green plants use sunlight to make food from carbon dioxide and water.",
    "She opened the door slowly and looked into the dark room, wondering whether anyone was still awake.",
    "To make a good cup of tea, first boil fresh water, then pour it over the leaves and wait a few minutes.",
]
NEW_TOKENS = 128
ANCHOR = PROJECT_ROOT.parent / "shared" / "tools" / "llamacpp_anchor.sh"


def anchor() -> dict | None:
    if not ANCHOR.is_file():
        print(f"llama.cpp anchor: {ANCHOR} not found; skipped")
        return None
    result = subprocess.run(
        ["bash", str(ANCHOR), str(NEW_TOKENS), "3"],
        env={**os.environ, "PROMPT": PROMPT},
        capture_output=True,
        text=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        print(f"llama.cpp anchor failed: {result.stderr.strip()[-300:]}")
        return None
    figures = json.loads(lines[-1])
    print(
        f"llama.cpp ({figures['engine']}, {figures['gguf']}, {figures['prompt_tokens']}-token prompt): "
        f"decode {figures['decode_tokens_per_s_median']} tokens/s, "
        f"time to first token {figures['time_to_first_token_ms_median']} ms"
    )
    return figures


def speed(model, ids: list[int], settings: SamplingSettings, runs: int) -> tuple[float, float]:
    """Median time to first token (ms) and decode tokens/s over NEW_TOKENS, through the Text tab's engine."""
    first, rates = [], []
    for seed in range(runs):
        start = time.perf_counter()
        stream = continue_text(model, ids, settings, NEW_TOKENS, seed)
        next(stream)
        first.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        produced = sum(1 for _ in stream)
        rates.append(produced / (time.perf_counter() - start))
    return statistics.median(first), statistics.median(rates)


def paths(llama: dict | None) -> None:
    from transformers import AutoModelForCausalLM

    started = time.perf_counter()
    models = TextModels(Registry(device="cpu"), check_hub=False)
    chosen = models.load(SMOLLM)
    load_seconds = time.perf_counter() - started
    report = chosen.fast.report
    print(f"GenLab, {torch.get_num_threads()} torch threads, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    print(f"  load (tokenizer, weights, timing and checking the paths): {load_seconds:.2f} s")
    print(f"  chosen path: {report.kernel}; decode speed measured while checking: {report.tokens_per_second}")
    print(f"  rejected by the self-check: {report.rejected or 'none'}")
    tokenizer = chosen.tokenizer
    ids = tokenizer.encode(PROMPT, add_special_tokens=False)
    reference = AutoModelForCausalLM.from_pretrained(CACHE_DIR, dtype=torch.float32).eval()
    token_lists = [tokenizer.encode(text) for text in GUARD_TEXTS]
    baseline = reference_perplexity(reference, token_lists)
    check_ids = tokenizer.encode(SELF_CHECK_TEXT, add_special_tokens=False)
    print(f"Every CPU path, {len(ids)}-token prompt, {NEW_TOKENS} new tokens, batch 1 (median of runs):")
    print("  path          fused  first token  greedy tok/s  sampled tok/s  vs llama.cpp  perplexity vs float32")
    for name in [name for name in KERNELS if name in candidates(torch.device("cpu"))]:
        fast = load_fast_llama(reference, check_ids, name)
        model = FastModel(fast, tokenizer, chosen.context_length)
        _, quick = speed(model, ids, SamplingSettings(0), 1)
        runs = 3 if quick > 30 else 1
        first, greedy = speed(model, ids, SamplingSettings(0), runs)
        _, sampled = speed(model, ids, SamplingSettings(0.8, 50, 0.95, 1.1), runs)
        change = decode_path_perplexity(fast, token_lists) / baseline - 1
        ratio = f"{greedy / llama['decode_tokens_per_s_median']:.2f}x" if llama else "-"
        mark = " (chosen)" if name == report.kernel else ""
        print(
            f"  {name:12s}  {'yes' if fast.fused else 'no ':3s}  {first:8.0f} ms  {greedy:12.1f}  {sampled:13.1f}"
            f"  {ratio:>12s}  {100 * change:+.2f}%{mark}"
        )
    with torch.inference_mode():
        prompt = torch.tensor([ids])
        start = time.perf_counter()
        reference.generate(prompt, max_new_tokens=1, do_sample=False)
        first = time.perf_counter() - start
        start = time.perf_counter()
        out = reference.generate(prompt, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False)
        rate = (out.shape[1] - len(ids)) / (time.perf_counter() - start)
    print(
        f"  transformers float32 `generate`: first token {1000 * first:.0f} ms, {rate:.1f} tokens/s; ppl {baseline:.3f}"
    )


def first_click() -> None:
    """From `python app.py` starting: page answers, then a Generate is sent at once; when does its first token come?"""
    import httpx
    from gradio_client import Client

    from tests.integration.conftest import free_port

    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "GENLAB_DEVICE": "cpu"}
    started, started_wall = time.perf_counter(), time.time()
    process = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        ready = time.perf_counter() - started
        client = Client(url, verbose=False)
        job = client.submit(SMOLLM, PROMPT, 16, 0.0, 0, 1.0, 1.0, 0, 1, False, api_name="/text_generate")
        first_token = None
        while first_token is None and not job.done():
            if any(output[0] for output in job.outputs()):
                first_token = time.perf_counter() - started
            time.sleep(0.01)
        first_token = first_token or time.perf_counter() - started
        job.result()
        status = json.loads(client.predict(SMOLLM, api_name="/text_status"))
        model_ready = status["ready_wall_time"] - started_wall
        print("Warm first click (python app.py, then /text_generate as soon as the page answers):")
        print(f"  page answers {ready:.2f} s after start (target < 10 s)")
        print(f"  SmolLM2 ready {model_ready:.2f} s after start (its load took {status['elapsed_seconds']:.2f} s)")
        print(f"  first token {first_token:.2f} s after start, {first_token - model_ready:+.2f} s after the model")
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-anchor", action="store_true")
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    llama = None if args.skip_anchor else anchor()
    paths(llama)
    if llama is not None:  # the machine's speed drifts: measure the anchor again and compare with the faster run
        again = anchor()
        if again and again["decode_tokens_per_s_median"] > llama["decode_tokens_per_s_median"]:
            print("  (the ratios above are against the first llama.cpp run; the second was faster)")
    if not args.skip_server:
        first_click()


if __name__ == "__main__":
    main()
