"""Scoring a continuation against the true text: BLEU and chrF (sacrebleu, the standard implementation) and the true
text's perplexity under the model.

BLEU counts the continuation's word n-grams (1 to 4) that also occur in the reference, times a brevity penalty;
chrF does the same with character n-grams (1 to 6) and weighs recall twice as much as precision. Neither looks at
meaning, so the safest, most average text often scores best. Perplexity asks something else: how surprised the
model is by the true text, whatever it would have written itself.
"""

import math
import re
from dataclasses import dataclass

from .lm import continue_text, token_log_probabilities
from .textgen import SamplingSettings

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
MAX_TEMPERATURES = 6
MAX_SAMPLES_PER_TEMPERATURE = 3
MAX_CONTINUATION_TOKENS = 400  # a character model needs one per character
PASSAGE_CHARACTERS = 600  # a held-out passage: about this long, cut at line ends
PROMPT_SHARE = 0.5  # the first half of a passage is the prompt, the rest the reference


def is_chinese(text: str) -> bool:
    """True when at least a fifth of the non-space characters are Chinese (BLEU then tokenises per character)."""
    visible = [c for c in text if not c.isspace()]
    return bool(visible) and sum(bool(CJK.match(c)) for c in visible) >= 0.2 * len(visible)


@dataclass(frozen=True)
class BLEUResult:
    score: float  # 0-100
    precisions: tuple[float, ...]  # the 1- to 4-gram precisions, in percent
    brevity_penalty: float
    hypothesis_length: int
    reference_length: int
    tokenizer: str


def bleu(hypothesis: str, reference: str) -> BLEUResult:
    """Sentence BLEU (sacrebleu, 4-gram, exponential smoothing, effective order): '13a' tokenisation, or 'zh' (each
    Chinese character a word) for Chinese text."""
    from sacrebleu.metrics import BLEU

    tokenizer = "zh" if is_chinese(reference) or is_chinese(hypothesis) else "13a"
    result = BLEU(tokenize=tokenizer, effective_order=True).sentence_score(hypothesis, [reference])
    return BLEUResult(
        float(result.score), tuple(float(p) for p in result.precisions), float(result.bp), int(result.sys_len),
        int(result.ref_len), tokenizer,
    )  # fmt: skip


def chrf(hypothesis: str, reference: str) -> float:
    """Sentence chrF (sacrebleu: character 1- to 6-grams, whitespace ignored, β = 2), 0-100."""
    from sacrebleu.metrics import CHRF

    return float(CHRF().sentence_score(hypothesis, [reference]).score)


def held_out_passages(validation_text: str, length: int = PASSAGE_CHARACTERS) -> list[str]:
    """The held-out text cut into passages of about `length` characters, each ending at a line end."""
    passages, start = [], 0
    while start < len(validation_text) - length // 2:
        end = validation_text.find("\n", start + length)
        end = len(validation_text) if end < 0 else end + 1
        passage = validation_text[start:end].strip("\n")
        if passage:
            passages.append(passage)
        start = end
    return passages


def split_passage(passage: str, share: float = PROMPT_SHARE) -> tuple[str, str]:
    """(prompt, reference): the passage cut near `share` of its length, at a line end when one is close, else at a
    space, never inside a word."""
    cut = int(len(passage) * share)
    line = passage.rfind("\n", 0, cut + 1)
    if line > cut * 0.6:
        return passage[: line + 1], passage[line + 1 :]
    space = passage.rfind(" ", 0, cut + 1)
    cut = space + 1 if space > 0 else cut
    return passage[:cut], passage[cut:]


@dataclass(frozen=True)
class ScoredSample:
    temperature: float
    sample: int  # 1, 2, ... within its temperature
    text: str
    bleu: BLEUResult
    chrf: float
    mean_log_probability: float  # of its own tokens under the model, nats per token


@dataclass(frozen=True)
class ReferenceFit:
    nats_per_token: float
    perplexity: float  # per token of this model's tokenizer
    nats_per_character: float  # comparable across tokenizers
    tokens: int


def reference_fit(model, prompt_ids: list[int], reference: str) -> ReferenceFit:
    """How surprised the model is by the true continuation, given the prompt: its mean negative log-likelihood."""
    reference_ids = model.encode(reference)
    if not reference_ids:
        raise ValueError("the reference text is empty")
    ids = list(prompt_ids) + reference_ids
    scores = token_log_probabilities(model, ids)[-len(reference_ids) :]
    nats = -sum(scores)
    return ReferenceFit(nats / len(scores), math.exp(nats / len(scores)), nats / max(len(reference), 1), len(scores))


def scored_samples(
    model,
    prompt_ids: list[int],
    reference: str,
    temperatures: list[float],
    samples: int,
    seed: int,
    max_new_tokens: int,
    settings_for=None,
) -> list[ScoredSample]:
    """Continue the prompt `samples` times at each temperature (seeds seed, seed + 1, ...; temperature 0 is greedy,
    so once), and score each continuation against the reference with BLEU and chrF."""
    rows = []
    for temperature in temperatures:
        settings = (settings_for or _settings)(temperature)
        for index in range(1 if temperature == 0 else samples):
            events = list(continue_text(model, prompt_ids, settings, max_new_tokens, seed + index))
            text = "".join(event.text for event in events)
            mean = sum(math.log(max(event.probability, 1e-30)) for event in events) / max(len(events), 1)
            rows.append(ScoredSample(temperature, index + 1, text, bleu(text, reference), chrf(text, reference), mean))
    return rows


def _settings(temperature: float) -> SamplingSettings:
    return SamplingSettings(temperature=temperature, top_k=0, top_p=1.0, repetition_penalty=1.0)


def tokens_for(model, reference: str) -> int:
    """As many new tokens as the reference has in this model's tokenizer (at most MAX_CONTINUATION_TOKENS)."""
    return max(1, min(MAX_CONTINUATION_TOKENS, len(model.encode(reference))))
