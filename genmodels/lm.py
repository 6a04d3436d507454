"""Language models behind one small interface, and the streaming continuation engine that uses them.

A model prefills the prompt once, then decodes one token at a time from its cache; the engine applies the
sampling filters with the request's own generator and reports, per token, what the model saw.
"""

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import torch

from .chargpt import CharGPT
from .textgen import SamplingSettings, choose, next_token_distribution

MAX_NEW_TOKENS = 512
TOP_CANDIDATES = 10


class LanguageModel(Protocol):
    context_length: int
    eos_id: int | None

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...

    def prefill(self, ids: list[int]) -> tuple[torch.Tensor, object]:
        """Logits (V,) for the token after ids, and a state for step()."""

    def step(self, token: int, state: object) -> tuple[torch.Tensor, object]:
        """Logits (V,) after appending one token, and the new state."""


class CharModel:
    """A CharGPT as a LanguageModel; its state is the ids in the context window."""

    eos_id = None

    def __init__(self, model: CharGPT):
        self.model = model
        self.context_length = model.config.block_size

    def encode(self, text: str) -> list[int]:
        return self.model.encode(text)

    def decode(self, ids: list[int]) -> str:
        return self.model.decode(ids)

    @torch.inference_mode()
    def _logits(self, ids: list[int]) -> torch.Tensor:
        window = torch.tensor([ids[-self.context_length :]], device=next(self.model.parameters()).device)
        return self.model(window)[0][0, -1].float().cpu()

    def prefill(self, ids: list[int]) -> tuple[torch.Tensor, object]:
        if not ids:
            raise ValueError("the prompt is empty")
        return self._logits(ids), list(ids)

    def step(self, token: int, state: object) -> tuple[torch.Tensor, object]:
        ids = [*state, token][-self.context_length :]
        return self._logits(ids), ids

    @torch.inference_mode()
    def score(self, ids: list[int]) -> list[float]:
        """log p(ids[i] | ids[:i]) with a sliding window: one forward per half window, not one per character.

        Inside the first window every position sees all of its prefix, as in generation; after that each sees at
        least half a window (the usual strided evaluation), so a 20,000-character prompt takes ~160 forwards.
        """
        device = next(self.model.parameters()).device
        window, stride = self.context_length, max(1, self.context_length // 2)
        scores: list[float] = []
        scored_until = 1  # positions < scored_until already have a score (position 0 has none)
        start = 0
        while scored_until < len(ids):
            chunk = ids[start : start + window]
            logits = self.model(torch.tensor([chunk], device=device))[0][0].double().cpu()  # (len(chunk), V)
            log_probs = torch.log_softmax(logits[:-1], dim=-1)
            targets = torch.tensor(chunk[1:])
            chosen = log_probs.gather(1, targets[:, None])[:, 0].tolist()  # chosen[j]: position start + j + 1
            first_new = scored_until - start - 1
            scores += chosen[first_new:]
            scored_until = start + len(chunk)
            start += stride
        return scores


class HFModel:
    """A transformers causal LM with its tokenizer; the state is the key/value cache."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model, tokenizer
        self.context_length = int(getattr(model.config, "max_position_embeddings", 2048))
        self.eos_id = tokenizer.eos_token_id

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    @torch.inference_mode()
    def prefill(self, ids: list[int]) -> tuple[torch.Tensor, object]:
        if not ids:
            raise ValueError("the prompt is empty")
        device = next(self.model.parameters()).device
        out = self.model(torch.tensor([ids], device=device), use_cache=True)
        return out.logits[0, -1].float().cpu(), out.past_key_values

    @torch.inference_mode()
    def step(self, token: int, state: object) -> tuple[torch.Tensor, object]:
        device = next(self.model.parameters()).device
        out = self.model(torch.tensor([[token]], device=device), past_key_values=state, use_cache=True)
        return out.logits[0, -1].float().cpu(), out.past_key_values

    @torch.inference_mode()
    def score(self, ids: list[int]) -> list[float]:
        """All log-probabilities in one forward pass."""
        device = next(self.model.parameters()).device
        logits = self.model(torch.tensor([ids], device=device)).logits[0, :-1].double().cpu()
        return torch.log_softmax(logits, dim=-1).gather(1, torch.tensor(ids[1:]).unsqueeze(1)).squeeze(1).tolist()


class FastModel(HFModel):
    """A Llama-architecture model through FastLlama's decode path, with the same tokenizer handling."""

    def __init__(self, fast, tokenizer, context_length: int):
        self.fast, self.tokenizer = fast, tokenizer
        self.context_length = context_length
        self.eos_id = tokenizer.eos_token_id

    def prefill(self, ids: list[int]) -> tuple[torch.Tensor, object]:
        if not ids:
            raise ValueError("the prompt is empty")
        from .fastllama import KVCache

        cache = KVCache()
        # Room for the longest continuation at once: growing a full cache later would copy it (+100 MB at 2,048).
        self.fast.reserve(cache, min(self.context_length, len(ids) + MAX_NEW_TOKENS))
        return self.fast.forward(ids, cache), cache

    def step(self, token: int, state: object) -> tuple[torch.Tensor, object]:
        return self.fast.forward([token], state), state

    def score(self, ids: list[int]) -> list[float]:
        return self.fast.score(ids)  # in chunks: never a tokens-by-vocabulary matrix for the whole prompt


@dataclass(frozen=True)
class Candidate:
    token_id: int
    before: float  # the model's probability
    after: float  # the probability it was sampled with (after penalty, temperature, top-k, top-p)


@dataclass(frozen=True)
class TokenEvent:
    token_id: int
    text: str  # the new text this token adds (may be empty while a multi-byte character is incomplete)
    probability: float  # of this token under the model, before any filter
    candidates: tuple[Candidate, ...]  # the top candidates by the model's probability


def fit_prompt(model: LanguageModel, prompt: str, max_new_tokens: int) -> tuple[list[int], int]:
    """Prompt ids that leave room for max_new_tokens in the context window (the start is cut); and how many were cut."""
    ids = model.encode(prompt)
    room = max(1, model.context_length - max_new_tokens) if not isinstance(model, CharModel) else len(ids)
    cut = max(0, len(ids) - room)
    return ids[cut:], cut


def continue_text(
    model: LanguageModel,
    prompt_ids: list[int],
    settings: SamplingSettings,
    max_new_tokens: int,
    seed: int,
    stop_event: threading.Event | None = None,
) -> Iterator[TokenEvent]:
    """Stream up to max_new_tokens tokens after prompt_ids; same seed and settings give the same tokens."""
    if not 1 <= max_new_tokens <= MAX_NEW_TOKENS:
        raise ValueError(f"max new tokens must be 1 to {MAX_NEW_TOKENS}")
    generator = torch.Generator("cpu").manual_seed(seed)
    history = list(prompt_ids)
    generated: list[int] = []
    # Incremental detokenisation: decode a short window, emit text only once it is complete (no "\ufffd").
    prefix_offset = read_offset = 0
    logits, state = model.prefill(history)
    for _ in range(max_new_tokens):
        if stop_event is not None and stop_event.is_set():
            return
        before, after = next_token_distribution(logits, settings, history)
        token = choose(after, generator)
        top = torch.topk(before, min(TOP_CANDIDATES, before.numel()))
        top_ids = top.indices.tolist()
        candidates = tuple(
            Candidate(i, p, a) for i, p, a in zip(top_ids, top.values.tolist(), after[top_ids].tolist(), strict=True)
        )
        generated.append(token)
        history.append(token)
        shown = model.decode(generated[prefix_offset:read_offset])
        text = model.decode(generated[prefix_offset:])
        delta = ""
        if len(text) > len(shown) and not text.endswith("\ufffd"):
            delta = text[len(shown) :]
            prefix_offset, read_offset = read_offset, len(generated)
        yield TokenEvent(token, delta, float(before[token]), candidates)
        if token == model.eos_id:
            return
        logits, state = model.step(token, state)


def token_log_probabilities(model: LanguageModel, ids: list[int]) -> list[float]:
    """log p(ids[i] | ids[:i]) for i >= 1, in nats."""
    if len(ids) < 2:
        raise ValueError("scoring needs at least two tokens")
    scorer = getattr(model, "score", None)
    if scorer is not None:
        return scorer(ids)
    logits, state = model.prefill(ids[:1])
    scores = []
    for token in ids[1:]:
        scores.append(float(torch.log_softmax(logits.double(), dim=-1)[token]))
        logits, state = model.step(token, state)
    return scores


def perplexity(model: LanguageModel, ids: list[int]) -> float:
    """exp(mean negative log-likelihood) of ids[1:] given their prefixes."""
    scores = token_log_probabilities(model, ids)
    return math.exp(-sum(scores) / len(scores))
