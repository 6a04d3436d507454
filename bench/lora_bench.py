"""LoRA fine-tuning of SmolLM2 on this CPU (issue 16): 100 steps of 4 sequences of 128 tokens from a 2,000-word
text, as the Training tab runs them (rank 8 on q, k, v and o; lr 1e-3).

    .venv/bin/python bench/lora_bench.py [--steps 100] [--words 2000]

Prints steps/s, tokens/s and the total against the 10-minute target, and the text's held-out perplexity (its last
tenth, never trained on) before and after. Run it alone: a training beside it halves every number.
"""

import argparse
import math
import os
import platform
import time

import torch
from common import PROJECT_ROOT  # noqa: F401  (puts the project on the path)

from genmodels.data import load_shakespeare
from genmodels.lora import LoRATrainConfig, LoRATrainer, held_out_loss, load_base, tokenize_split


def first_words(text: str, words: int) -> str:
    """Whole lines of `text` until they hold `words` words."""
    lines, count = [], 0
    for line in text.splitlines():
        lines.append(line)
        count += len(line.split())
        if count >= words:
            break
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--words", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"CPU: {cpu} ({os.cpu_count()} cores, torch threads {torch.get_num_threads()}), {platform.python_version()}")
    text = first_words(load_shakespeare(), args.words)
    started = time.perf_counter()
    base, tokenizer = load_base()
    config = LoRATrainConfig(steps=args.steps, batch_size=4, sequence_length=128, lr=1e-3)
    train, held_out = tokenize_split(tokenizer, text, config.sequence_length)
    trainer = LoRATrainer(config, train, base)
    print(
        f"text: {len(text.split()):,} words, {len(train):,} training and {len(held_out):,} held-out tokens; "
        f"{trainer.trainable_parameters:,} trainable numbers; set-up {time.perf_counter() - started:.1f} s"
    )
    before = held_out_loss(trainer.model, held_out, config.sequence_length)
    began = time.perf_counter()
    for event in trainer.run():
        if event.step % 20 == 0:
            elapsed = time.perf_counter() - began
            print(f"  step {event.step}: training loss {event.losses['train']:.3f}, {elapsed:.0f} s")
    seconds = time.perf_counter() - began
    after = held_out_loss(trainer.model, held_out, config.sequence_length)
    tokens = args.steps * config.batch_size * config.sequence_length
    print(f"{args.steps} steps in {seconds:.1f} s: {args.steps / seconds:.3f} steps/s, {tokens / seconds:.0f} tokens/s")
    print(f"target: 100 steps under 600 s -> {'met' if seconds * 100 / args.steps < 600 else 'MISSED'}")
    print(
        f"held-out perplexity: {math.exp(before):.2f} before, {math.exp(after):.2f} after "
        f"({'fell' if after < before else 'DID NOT FALL'}; {before:.3f} -> {after:.3f} nats/token)"
    )


if __name__ == "__main__":
    main()
