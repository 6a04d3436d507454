"""Filling blanks three ways: a masked model sees both sides, a left-to-right model only the left, and SmolLM2
(not a masked model) scores each candidate by how likely the whole passage is with it in place.

A blank is one character, written `_` (or `[MASK]`). Several blanks in a row hide a longer span.
"""

import math
from dataclasses import dataclass

import torch

from .maskedlm import MASK, MASK_WORD, MaskedCharLM

MAX_CHARACTERS = 2000
MAX_BLANKS = 32
TOP = 5  # candidates shown per blank and model
SCORED_BLANKS = 4  # SmolLM2 scores the candidates of the first few blanks (each candidate is a forward pass)
SCORING_WINDOW = 120  # characters each side of a blank that SmolLM2 reads when scoring a candidate
START = "\n"  # what a left-to-right model is given before a blank at the very start (a line begins)


def normalise(text: str) -> str:
    """`[MASK]` (any case) becomes the one-character blank `_`."""
    out, lower, start = [], text.lower(), 0
    while (found := lower.find(MASK_WORD.lower(), start)) >= 0:
        out += [text[start:found], MASK]
        start = found + len(MASK_WORD)
    out.append(text[start:])
    return "".join(out)


def blanks_of(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if c == MASK]


@dataclass(frozen=True)
class Blank:
    position: int  # character index in the normalised text
    both: list[tuple[str, float]]  # the masked model's top candidates (both sides)
    left: list[tuple[str, float]]  # the left-to-right model's top candidates (left side only)
    scored: list[tuple[str, float]] | None  # SmolLM2: each candidate's share of the candidates' total likelihood


@dataclass(frozen=True)
class Filled:
    text: str  # normalised
    blanks: list[Blank]
    both_text: str  # every blank filled with the masked model's choice
    left_text: str  # every blank filled, left to right, with the left-to-right model's choice


@torch.inference_mode()
def both_sides(model: MaskedCharLM, text: str) -> torch.Tensor:
    """(blanks, vocab) probabilities from the masked model, every blank hidden at once. Each blank is read in a
    window of the model's context centred on it where the text is longer."""
    ids = model.encode(text)
    positions = blanks_of(text)
    block = model.config.block_size
    windows, offsets = [], []
    for position in positions:
        start = min(max(position - block // 2, 0), max(len(ids) - block, 0))
        windows.append(ids[start : start + block])
        offsets.append(position - start)
    width = max(len(window) for window in windows)
    padded = torch.tensor([window + [model.mask_id] * (width - len(window)) for window in windows])
    # short windows are padded on the right with mask tokens: more blanks to the right, never a wrong character
    logits, _ = model(padded)
    rows = logits[torch.arange(len(positions)), torch.tensor(offsets)]
    return torch.softmax(rows.double(), dim=-1)


@torch.inference_mode()
def left_only(gpt, text: str) -> tuple[torch.Tensor, str]:
    """(blanks, vocab) probabilities from a left-to-right CharGPT, and the text it fills: each blank is predicted
    from the characters on its left (earlier blanks already filled with its own most likely character)."""
    chars = list(text)
    rows = []
    block = gpt.config.block_size
    for position in blanks_of(text):
        left = "".join(chars[:position]) or START
        ids = gpt.encode(left[-block:])
        probabilities = torch.softmax(gpt(torch.tensor([ids]))[0][0, -1].double(), dim=-1)
        rows.append(probabilities)
        chars[position] = gpt.config.vocab[int(probabilities.argmax())]
    return torch.stack(rows), "".join(chars)


def top(probabilities: torch.Tensor, vocab: str, count: int = TOP) -> list[tuple[str, float]]:
    values, indices = torch.topk(probabilities, min(count, len(vocab)))
    return [(vocab[i], float(p)) for i, p in zip(indices.tolist(), values.tolist(), strict=True)]


def scored_candidates(lm, text: str, position: int, candidates: list[str]) -> list[tuple[str, float]]:
    """SmolLM2 (any causal LM with encode and score) as a judge: the log-likelihood of the passage around the blank
    with each candidate in place, turned into shares that sum to 1 over these candidates."""
    from .lm import token_log_probabilities

    start, end = max(0, position - SCORING_WINDOW), position + SCORING_WINDOW + 1
    totals = []
    for candidate in candidates:
        passage = START + text[start:position] + candidate + text[position + 1 : end]
        ids = lm.encode(passage)
        totals.append(sum(token_log_probabilities(lm, ids)))
    best = max(totals)
    weights = [math.exp(total - best) for total in totals]
    return sorted([(c, w / sum(weights)) for c, w in zip(candidates, weights, strict=True)], key=lambda pair: -pair[1])


def fill_blanks(masked: MaskedCharLM, gpt=None, lm=None, text: str = "") -> Filled:
    """The candidates for every blank: masked model, left-to-right char-GPT (if given), SmolLM2's scores (if given,
    for the first SCORED_BLANKS blanks, over the two models' candidates; other blanks filled with the masked
    model's choice)."""
    text = normalise(text)
    if not text.strip(MASK + " \n"):
        raise ValueError("there is no text around the blanks")
    if len(text) > MAX_CHARACTERS:
        raise ValueError(f"the text has {len(text):,} characters; the limit is {MAX_CHARACTERS:,}")
    positions = blanks_of(text)
    if not positions:
        raise ValueError(f"mark at least one blank with {MASK} or {MASK_WORD}")
    if len(positions) > MAX_BLANKS:
        raise ValueError(f"at most {MAX_BLANKS} blanks at once (the text has {len(positions)})")
    vocab = masked.config.vocab
    both = both_sides(masked, text)
    chars = list(text)
    for position, row in zip(positions, both, strict=True):
        chars[position] = vocab[int(row.argmax())]
    both_text = "".join(chars)
    left, left_text = left_only(gpt, text) if gpt is not None else (None, "")
    blanks = []
    for index, position in enumerate(positions):
        both_top = top(both[index], vocab)
        left_top = top(left[index], gpt.config.vocab) if left is not None else []
        scored = None
        if lm is not None and index < SCORED_BLANKS:
            candidates = list(dict.fromkeys([c for c, _ in both_top] + [c for c, _ in left_top]))
            scored = scored_candidates(lm, both_text, position, candidates)
        blanks.append(Blank(position, both_top, left_top, scored))
    return Filled(text, blanks, both_text, left_text)


def shown(character: str) -> str:
    """A candidate as a reader can see it: space and line break drawn."""
    return {" ": "␣", "\n": "↵"}.get(character, character)
