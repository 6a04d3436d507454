"""The real SmolLM2 from the prepared cache: fluent, and every decode path either keeps float32's quality or is
rejected by the load-time self-check. GENLAB_LM_KERNEL forces each path, so all of them run on this machine."""

import json

import pytest
import torch

from genmodels import decode_extension
from genmodels.fastllama import (
    SELF_CHECK_MAX_MEAN_KL_NATS,
    SELF_CHECK_MAX_PERPLEXITY_CHANGE,
    FastLlama,
    KVCache,
    _choice_key,
    decode_path_log_probs,
    decode_path_perplexity,
    load_fast_llama,
    reference_perplexity,
)
from genmodels.lm import continue_text
from genmodels.lm_kernels import KERNELS, LINEAR, PackedLinear, candidates
from genmodels.registry import Registry
from genmodels.smollm import CACHE_DIR
from genmodels.text_models import SELF_CHECK_TEXT, SMOLLM, TextModels
from genmodels.textgen import SamplingSettings

# The guard texts: not the self-check's text, so passing the check is no guarantee of passing here.
GUARD_TEXTS = [
    "The history of the Roman Empire spans many centuries, from the founding of the city to its fall.",
    "Photosynthesis is the process by which green plants use sunlight to make food from carbon dioxide and water.",
    "She opened the door slowly and looked into the dark room, wondering whether anyone was still awake.",
    "To make a good cup of tea, first boil fresh water, then pour it over the leaves and wait a few minutes.",
]
CPU_PATHS = [name for name, kernel in KERNELS.items() if "cpu" in kernel.devices]


@pytest.fixture(scope="module")
def reference():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert (CACHE_DIR / "model.safetensors").is_file(), "run `make setup` to prepare SmolLM2"
    tokenizer = AutoTokenizer.from_pretrained(CACHE_DIR)
    model = AutoModelForCausalLM.from_pretrained(CACHE_DIR, dtype=torch.float32).eval()
    return model, tokenizer


@pytest.mark.parametrize("fused", [False, True])
def test_float32_fast_path_matches_transformers_exactly(reference, fused):
    model, tokenizer = reference
    fast = FastLlama(model, fused=fused)
    assert fast.fused == (fused and decode_extension.load())
    for text in GUARD_TEXTS[:2]:
        ids = tokenizer(text).input_ids
        with torch.inference_mode():
            expected = model(torch.tensor([ids])).logits[0]
        assert torch.allclose(fast.forward(ids, KVCache()), expected[-1], atol=1e-3)
        log_probs = decode_path_log_probs(fast, ids)  # one token at a time through the cache
        assert torch.allclose(log_probs, torch.log_softmax(expected[:-1].double(), -1), atol=1e-3)
        assert fast.score(ids) == pytest.approx(
            log_probs.gather(1, torch.tensor(ids[1:])[:, None])[:, 0].tolist(), abs=1e-3
        )
        with torch.inference_mode():
            greedy = model.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False)[0, len(ids) :].tolist()
        cache, tokens = KVCache(), []
        logits = fast.forward(ids, cache)
        for _ in range(len(greedy)):
            tokens.append(int(logits.argmax()))
            logits = fast.forward([tokens[-1]], cache)
        assert tokens == greedy


def test_the_fused_step_builds_here():
    # This machine has a C++ compiler: the fused path must be available, or the speed figures do not hold.
    assert decode_extension.load(), decode_extension.unavailable_reason()


def test_the_automatic_choice_keeps_perplexity_within_one_percent(reference, monkeypatch):
    monkeypatch.delenv("GENLAB_LM_KERNEL", raising=False)
    model, tokenizer = reference
    fast = load_fast_llama(model, tokenizer.encode(SELF_CHECK_TEXT))
    token_lists = [tokenizer(text).input_ids for text in GUARD_TEXTS]
    baseline = reference_perplexity(model, token_lists)
    chosen = decode_path_perplexity(fast, token_lists)
    assert abs(chosen / baseline - 1) < 0.01, (fast.kernel, baseline, chosen)
    report = fast.report
    assert report.kernel == fast.kernel and not report.forced
    assert fast.kernel not in report.rejected
    change, kl = report.checks[fast.kernel]
    assert abs(change) <= SELF_CHECK_MAX_PERPLEXITY_CHANGE and kl <= SELF_CHECK_MAX_MEAN_KL_NATS
    # It is the fastest of the paths that passed, by their measured decode speed.
    passed = [name for name in report.checks if name not in report.rejected]
    assert report.tokens_per_second[fast.kernel] == max(report.tokens_per_second[name] for name in passed)


@pytest.mark.parametrize("path", CPU_PATHS)
def test_each_forced_path_runs_and_the_self_check_judges_it_truly(reference, monkeypatch, path):
    """Every path runs when forced; the self-check passes a path only if it keeps the guard texts within 1%."""
    model, tokenizer = reference
    if path not in candidates(torch.device("cpu")):
        pytest.fail(f"the {path} path does not run on this machine")
    monkeypatch.setenv("GENLAB_LM_KERNEL", path)
    fast = load_fast_llama(model, tokenizer.encode(SELF_CHECK_TEXT))
    assert fast.kernel == path and fast.report.forced
    change, kl = fast.report.checks[path]
    if abs(change) <= SELF_CHECK_MAX_PERPLEXITY_CHANGE and kl <= SELF_CHECK_MAX_MEAN_KL_NATS:
        # A path the check passes must keep the guard texts within 1% too. (A path it rejects is never served, so
        # its guard-text perplexity is not measured: through int4-dynamic's x86 reference kernel that took 16 s.)
        token_lists = [tokenizer(text).input_ids for text in GUARD_TEXTS]
        ratio = decode_path_perplexity(fast, token_lists) / reference_perplexity(model, token_lists)
        assert abs(ratio - 1) < 0.01, (path, ratio)
    # Every path, even one the check would reject, still knows the obvious continuation among its top five.
    logits = fast.forward(tokenizer.encode("The capital of France is"), KVCache())
    assert "Paris" in [tokenizer.decode([token]).strip() for token in logits.topk(5).indices.tolist()]


@pytest.mark.parametrize("path", [p for p in CPU_PATHS if p != "int4-dynamic"])
def test_the_fused_step_computes_what_the_python_path_computes(reference, path):
    model, tokenizer = reference
    ids = tokenizer(GUARD_TEXTS[2]).input_ids
    python = decode_path_log_probs(FastLlama(model, path, fused=False), ids)
    fused_model = FastLlama(model, path)
    assert fused_model.fused
    fused = decode_path_log_probs(fused_model, ids)
    kl = float((python.exp() * (python - fused)).sum(-1).mean())
    # float32 activations: the same sums in another order; bfloat16 activations: rounding points differ slightly.
    assert kl < (1e-6 if path in ("float32", "gguf") else 1e-3), kl


def test_the_gguf_path_reproduces_float32_exactly(reference):
    model, tokenizer = reference
    ids = tokenizer(GUARD_TEXTS[0]).input_ids
    expected = decode_path_log_probs(FastLlama(model, "float32", fused=False), ids)
    assert torch.allclose(decode_path_log_probs(FastLlama(model, "gguf"), ids), expected, atol=2e-3)


def test_a_q8_head_serves_the_embedding_too_and_a_float_head_keeps_its_own(reference):
    model, _ = reference
    q8 = FastLlama(model, "gguf")
    assert q8.embed is None, "the tied embedding is looked up from the Q8_0 head's codes"
    ids = list(range(0, 49_152, 997))
    plain = FastLlama(model, "float32")
    assert plain.embed is not None
    assert torch.equal(q8._embed_rows(ids), plain._embed_rows(ids))  # exactly the same rows
    assert q8.weight_bytes < plain.weight_bytes / 4


def test_a_damaged_path_is_rejected_and_the_next_one_used(reference, monkeypatch):
    """A kernel that is fast but wrong (as int8 was on another CPU) must never be chosen."""
    model, tokenizer = reference
    monkeypatch.delenv("GENLAB_LM_KERNEL", raising=False)
    _noisy_kernel(monkeypatch)
    monkeypatch.setattr("genmodels.fastllama.candidates", lambda device: ["noisy", "float32"])
    monkeypatch.setattr("genmodels.fastllama._screen", lambda model, names: dict.fromkeys(names, 0.001))
    fast = load_fast_llama(model, tokenizer.encode(SELF_CHECK_TEXT))
    assert fast.kernel == "float32"
    assert "noisy" in fast.report.rejected and "perplexity" in fast.report.rejected["noisy"]


def _noisy_kernel(monkeypatch):
    """A kernel that is fast but wrong, registered for this test only."""

    def noisy(weight):
        exact = LINEAR["float32"](weight)
        generator = torch.Generator().manual_seed(0)
        noise = torch.randn(weight.shape[0], generator=generator) * weight.abs().mean() * 4
        return PackedLinear(lambda x: exact(x) + noise, 0)

    monkeypatch.setitem(LINEAR, "noisy", noisy)
    monkeypatch.setitem(KERNELS, "noisy", KERNELS["float32"].__class__("noisy", "noisy", "noisy", ("cpu",), "broken"))


# The remembering tests check the choice's bookkeeping, so they check accuracy on the self-check text's first 16
# tokens, not all of it: the noisy kernel is rejected on any text, and each load decodes the text through each path.
SHORT_CHECK = 16


def test_a_machine_remembers_its_measured_path_and_still_checks_it(reference, monkeypatch, tmp_path):
    model, tokenizer = reference
    ids = tokenizer.encode(SELF_CHECK_TEXT)[:SHORT_CHECK]
    monkeypatch.delenv("GENLAB_LM_KERNEL", raising=False)
    monkeypatch.setattr("genmodels.fastllama.candidates", lambda device: ["gguf", "float32"])
    monkeypatch.setattr("genmodels.fastllama._screen", lambda model, names: {"gguf": 0.001, "float32": 0.002})
    monkeypatch.setattr("genmodels.fastllama._race", lambda paths, ids: {"gguf": 2.0, "float32": 1.0})
    choices = tmp_path / "decode-paths.json"
    first = load_fast_llama(model, ids, choices_file=choices)
    assert not first.report.remembered and set(first.report.checks) == {"gguf", "float32"}
    (entry,) = json.loads(choices.read_text()).values()
    assert entry["kernel"] == first.kernel
    second = load_fast_llama(model, ids, choices_file=choices)
    assert second.report.remembered and second.kernel == first.kernel
    assert list(second.report.checks) == [first.kernel]  # only the chosen path built and checked, nothing raced
    assert second.report.tokens_per_second == first.report.tokens_per_second  # the speeds measured then
    assert torch.equal(second.forward(ids[:8], KVCache()), first.forward(ids[:8], KVCache()))
    # Another CPU (or thread count, or torch) is another machine: it measures for itself and is remembered too.
    monkeypatch.setattr("genmodels.fastllama.machine_identity", lambda: "another CPU")
    other = load_fast_llama(model, ids, choices_file=choices)
    assert not other.report.remembered and len(json.loads(choices.read_text())) == 2
    # Other weights (a LoRA merge) are another model.
    with torch.no_grad():
        model.model.norm.weight.add_(1e-3)
    try:
        assert not load_fast_llama(model, ids, choices_file=choices).report.remembered
    finally:
        with torch.no_grad():
            model.model.norm.weight.sub_(1e-3)


def test_a_remembered_path_that_fails_its_check_now_is_measured_afresh(reference, monkeypatch, tmp_path):
    """The speed ranking is remembered, accuracy never is: a path that went wrong (a changed library, a damaged
    kernel) is rejected on the next start and the others are measured."""
    model, tokenizer = reference
    ids = tokenizer.encode(SELF_CHECK_TEXT)[:SHORT_CHECK]
    monkeypatch.delenv("GENLAB_LM_KERNEL", raising=False)
    _noisy_kernel(monkeypatch)
    names = ["noisy", "float32"]
    monkeypatch.setattr("genmodels.fastllama.candidates", lambda device: names)
    monkeypatch.setattr("genmodels.fastllama._screen", lambda model, names: dict.fromkeys(names, 0.001))
    monkeypatch.setattr("genmodels.fastllama._race", lambda paths, ids: {path.kernel: 1.0 for path in paths})
    choices = tmp_path / "decode-paths.json"
    choices.write_text(json.dumps({_choice_key(model, ids, names): {"kernel": "noisy"}}))
    fast = load_fast_llama(model, ids, choices_file=choices)
    assert fast.kernel == "float32" and not fast.report.remembered and "noisy" in fast.report.rejected
    assert next(iter(json.loads(choices.read_text()).values()))["kernel"] == "float32"
    choices.write_text("{not json")  # a damaged file is measured over and rewritten
    again = load_fast_llama(model, ids, choices_file=choices)
    assert again.kernel == "float32" and not again.report.remembered
    assert next(iter(json.loads(choices.read_text()).values()))["kernel"] == "float32"
    # A forced path ignores the file.
    monkeypatch.setenv("GENLAB_LM_KERNEL", "float32")
    assert not load_fast_llama(model, ids, choices_file=choices).report.remembered


def test_an_unknown_forced_path_is_a_clear_error(reference, monkeypatch):
    model, tokenizer = reference
    monkeypatch.setenv("GENLAB_LM_KERNEL", "int3")
    with pytest.raises(ValueError, match="GENLAB_LM_KERNEL='int3' is not a kernel"):
        load_fast_llama(model, tokenizer.encode(SELF_CHECK_TEXT))


def test_the_app_model_continues_in_fluent_english():
    models = TextModels(Registry(device="cpu"), check_hub=False)
    model = models.load(SMOLLM)
    ids = model.encode("The capital of France is")
    text = "".join(event.text for event in continue_text(model, ids, SamplingSettings(temperature=0), 6, seed=0))
    assert text.strip().startswith("Paris")
    answer = models.chat_prompt(SMOLLM, "What is the capital of France?")
    assert "<|im_start|>assistant" in answer
    assert models.kernel_report().kernel == model.fast.kernel


def test_preloading_reports_progress_then_ready():
    models = TextModels(Registry(device="cpu"), check_hub=False)
    assert models.status(SMOLLM).state == "absent"
    thread = models.preload()
    status = models.status(SMOLLM)
    assert status.state in ("waiting", "loading", "ready") and status.expected_seconds > 0
    thread.join(timeout=120)
    assert models.status(SMOLLM).ready
    assert SMOLLM in models.names()
