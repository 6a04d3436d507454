"""The real SmolLM2 from the prepared cache: fluent, and its fast int8 decode path keeps float32 quality."""

import pytest
import torch

from genmodels.fastllama import FastLlama, KVCache, decode_path_perplexity
from genmodels.lm import continue_text
from genmodels.registry import Registry
from genmodels.smollm import CACHE_DIR
from genmodels.text_models import SMOLLM, TextModels
from genmodels.textgen import SamplingSettings

PROMPTS = [
    "The history of the Roman Empire spans many centuries, from the founding of the city to its fall.",
    "Photosynthesis is the process by which green plants use sunlight to make food from carbon dioxide and water.",
    "She opened the door slowly and looked into the dark room, wondering whether anyone was still awake.",
    "To make a good cup of tea, first boil fresh water, then pour it over the leaves and wait a few minutes.",
]


@pytest.fixture(scope="module")
def reference():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert (CACHE_DIR / "model.safetensors").is_file(), "run `make setup` to prepare SmolLM2"
    tokenizer = AutoTokenizer.from_pretrained(CACHE_DIR)
    model = AutoModelForCausalLM.from_pretrained(CACHE_DIR, dtype=torch.float32).eval()
    return model, tokenizer


def test_float32_fast_path_matches_transformers_exactly(reference):
    model, tokenizer = reference
    fast = FastLlama(model)
    for text in PROMPTS[:2]:
        ids = tokenizer(text).input_ids
        with torch.inference_mode():
            expected = model(torch.tensor([ids])).logits[0, -1]
        assert torch.allclose(fast.forward(ids, KVCache()), expected, atol=1e-3)
        with torch.inference_mode():
            greedy = model.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False)[0, len(ids) :].tolist()
        cache, tokens = KVCache(), []
        logits = fast.forward(ids, cache)
        for _ in range(len(greedy)):
            tokens.append(int(logits.argmax()))
            logits = fast.forward([tokens[-1]], cache)
        assert tokens == greedy


def test_int8_decoding_keeps_perplexity_within_two_percent(reference):
    model, tokenizer = reference
    token_lists = [tokenizer(text).input_ids for text in PROMPTS]
    baseline = decode_path_perplexity(FastLlama(model), token_lists)
    quantized = decode_path_perplexity(FastLlama(model, int8_decode=True), token_lists)
    assert abs(quantized / baseline - 1) < 0.02, (baseline, quantized)


def test_the_app_model_continues_in_fluent_english():
    models = TextModels(Registry(device="cpu"), check_hub=False)
    model = models.load(SMOLLM)
    ids = model.encode("The capital of France is")
    text = "".join(event.text for event in continue_text(model, ids, SamplingSettings(temperature=0), 6, seed=0))
    assert text.strip().startswith("Paris")
    answer = models.chat_prompt(SMOLLM, "What is the capital of France?")
    assert "<|im_start|>assistant" in answer
