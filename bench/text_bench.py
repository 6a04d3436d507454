"""Text tab benchmark: SmolLM2's generation path against plain float32 `generate`, measured in one run.

    python bench/text_bench.py

Targets (2-core CPU, batch 1): decode >= 60 tokens/s over 128 new tokens, time to first token <= 250 ms for a
30-token prompt, cache load <= 3 s, quality within 2% perplexity of float32.
"""

import statistics
import time

import torch
from common import PROJECT_ROOT  # noqa: F401 - puts the project on sys.path

from genmodels.fastllama import FastLlama, decode_path_perplexity
from genmodels.lm import continue_text
from genmodels.registry import Registry
from genmodels.smollm import CACHE_DIR
from genmodels.text_models import SMOLLM, TextModels
from genmodels.textgen import SamplingSettings

PROMPT = (
    "Once upon a time, in a small village by the sea, there lived an old fisherman who told stories to the "
    "children every evening, when the boats came home and the lamps were lit along the harbour wall."
)
QUALITY_TEXTS = [
    "The history of the Roman Empire spans many centuries, from the founding of the city to its fall.",
    "Photosynthesis is the process by which green plants use sunlight to make food from carbon dioxide and water.",
    "She opened the door slowly and looked into the dark room, wondering whether anyone was still awake.",
    "To make a good cup of tea, first boil fresh water, then pour it over the leaves and wait a few minutes.",
]


def main() -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    started = time.perf_counter()
    models = TextModels(Registry(device="cpu"), check_hub=False)
    model = models.load(SMOLLM)
    load_seconds = time.perf_counter() - started
    ids = model.encode(PROMPT)[:30]
    print(f"GenLab path (FastLlama, float32 prefill, int8 decode), prompt of {len(ids)} tokens:")
    print(f"  cache load (tokenizer + weights + int8 packing): {load_seconds:.2f} s")
    for label, settings in (
        ("greedy", SamplingSettings(temperature=0)),
        ("sampled", SamplingSettings(0.8, 50, 0.95, 1.1)),
    ):
        first_token, rates = [], []
        for seed in range(3):
            start = time.perf_counter()
            stream = continue_text(model, ids, settings, 128, seed)
            next(stream)
            first_token.append(time.perf_counter() - start)
            start = time.perf_counter()
            produced = 1 + sum(1 for _ in stream)
            rates.append((produced - 1) / (time.perf_counter() - start))
        print(
            f"  {label}: time to first token {1000 * statistics.median(first_token):.0f} ms, "
            f"decode {statistics.median(rates):.1f} tokens/s over 128 new tokens (median of 3)"
        )
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(CACHE_DIR)
    reference = AutoModelForCausalLM.from_pretrained(CACHE_DIR, dtype=torch.float32).eval()
    print("Baseline: transformers float32 `generate`, greedy, same prompt:")
    print(f"  load {time.perf_counter() - started:.2f} s")
    with torch.inference_mode():
        prompt = torch.tensor([ids])
        start = time.perf_counter()
        reference.generate(prompt, max_new_tokens=1, do_sample=False)
        first = time.perf_counter() - start
        start = time.perf_counter()
        out = reference.generate(prompt, max_new_tokens=128, min_new_tokens=128, do_sample=False)
        rate = (out.shape[1] - len(ids)) / (time.perf_counter() - start)
    print(f"  time to first token {1000 * first:.0f} ms, {rate:.1f} tokens/s over 128 new tokens")
    token_lists = [tokenizer(text).input_ids for text in QUALITY_TEXTS]
    baseline = decode_path_perplexity(FastLlama(reference), token_lists)
    quantized = decode_path_perplexity(FastLlama(reference, int8_decode=True), token_lists)
    print("Quality (teacher-forced through the decode path, 4 texts):")
    print(
        f"  perplexity float32 {baseline:.3f}, int8 decode {quantized:.3f} ({100 * (quantized / baseline - 1):+.2f}%)"
    )


if __name__ == "__main__":
    main()
