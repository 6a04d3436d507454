"""The continuation engine against stand-in models with known logits, and the char-GPT adapter."""

import math
import threading

import pytest
import torch

from genmodels.chargpt import CharGPT, CharGPTConfig
from genmodels.lm import CharModel, continue_text, fit_prompt, perplexity, token_log_probabilities
from genmodels.textgen import SamplingSettings

# From token t the model prefers t + 1 (mod 5) strongly, t + 2 weakly.
TABLE = torch.full((5, 5), -4.0)
for t in range(5):
    TABLE[t, (t + 1) % 5] = 3.0
    TABLE[t, (t + 2) % 5] = 1.0


class Markov:
    """A stand-in language model: the next-token logits depend only on the last token."""

    context_length = 64

    def __init__(self, eos_id=None):
        self.eos_id = eos_id
        self.steps = 0

    def encode(self, text):
        return [int(c) for c in text]

    def decode(self, ids):
        return "".join(str(i) for i in ids)

    def prefill(self, ids):
        return TABLE[ids[-1]].clone(), ids[-1]

    def step(self, token, state):
        self.steps += 1
        return TABLE[token].clone(), token


def test_greedy_follows_the_argmax_chain():
    events = list(continue_text(Markov(), [0], SamplingSettings(temperature=0), 6, seed=0))
    assert "".join(e.text for e in events) == "123401"
    top = events[0].candidates[0]
    probabilities = torch.softmax(TABLE[0].double(), 0)
    assert top.token_id == 1 and math.isclose(top.before, float(probabilities[1])) and top.after == 1.0
    assert math.isclose(events[0].probability, float(probabilities[1]))
    assert len(events[0].candidates) == 5


def test_same_seed_same_stream_different_seed_differs():
    settings = SamplingSettings(temperature=2.0)
    first = [e.token_id for e in continue_text(Markov(), [0], settings, 40, seed=1)]
    again = [e.token_id for e in continue_text(Markov(), [0], settings, 40, seed=1)]
    other = [e.token_id for e in continue_text(Markov(), [0], settings, 40, seed=2)]
    assert first == again and first != other


def test_two_interleaved_streams_are_independent():
    settings = SamplingSettings(temperature=1.5)
    alone = [e.token_id for e in continue_text(Markov(), [0], settings, 30, seed=9)]
    a = continue_text(Markov(), [0], settings, 30, seed=9)
    b = continue_text(Markov(), [3], settings, 30, seed=10)
    interleaved = []
    for event_a, _ in zip(a, b, strict=True):
        interleaved.append(event_a.token_id)
    assert interleaved == alone


def test_top_k_one_equals_greedy():
    greedy = [e.token_id for e in continue_text(Markov(), [2], SamplingSettings(temperature=0), 10, 0)]
    top1 = [e.token_id for e in continue_text(Markov(), [2], SamplingSettings(temperature=1.0, top_k=1), 10, 3)]
    assert greedy == top1


def test_stop_event_and_end_of_sequence_end_the_stream():
    stop = threading.Event()
    model = Markov()
    stream = continue_text(model, [0], SamplingSettings(temperature=0), 100, 0, stop)
    next(stream)
    next(stream)
    stop.set()
    assert list(stream) == []
    assert model.steps == 2, "no work after the stop"
    events = list(continue_text(Markov(eos_id=3), [0], SamplingSettings(temperature=0), 100, 0))
    assert [e.token_id for e in events] == [1, 2, 3]


def test_limits():
    with pytest.raises(ValueError):
        list(continue_text(Markov(), [0], SamplingSettings(), 0, 0))
    with pytest.raises(ValueError):
        list(continue_text(Markov(), [0], SamplingSettings(), 513, 0))


def test_perplexity_known_cases():
    uniform = Markov()
    uniform.prefill = lambda ids: (torch.zeros(5), None)
    uniform.step = lambda token, state: (torch.zeros(5), None)
    assert math.isclose(perplexity(uniform, [0, 1, 2, 3]), 5.0)
    p = float(torch.softmax(TABLE[0].double(), 0)[1])
    assert math.isclose(perplexity(Markov(), [0, 1, 2, 3, 4]), 1 / p, rel_tol=1e-6)
    assert len(token_log_probabilities(Markov(), [0, 1, 2])) == 2


def test_prompt_is_cut_from_the_start_to_fit():
    model = Markov()
    ids, cut = fit_prompt(model, "01234" * 20, 24)
    assert len(ids) == 40 and cut == 60 and model.decode(ids).endswith("01234")


def test_char_model_adapter_matches_the_model():
    torch.manual_seed(0)
    gpt = CharGPT(CharGPTConfig(vocab="ab c", block_size=8, n_layer=1, n_head=1, n_embd=8)).eval()
    model = CharModel(gpt)
    ids = model.encode("ab cab ca")
    logits, state = model.prefill(ids)
    with torch.no_grad():
        expected = gpt(torch.tensor([ids[-8:]]))[0][0, -1]
    assert torch.allclose(logits, expected)
    logits, state = model.step(1, state)
    assert len(state) == 8
    events = list(continue_text(model, ids, SamplingSettings(), 12, seed=4))
    assert all(e.text in "ab c" and len(e.text) == 1 for e in events)


def test_char_model_scores_long_texts_with_a_sliding_window():

    torch.manual_seed(0)
    vocab = "abcdefgh"
    model = CharModel(CharGPT(CharGPTConfig(vocab=vocab, block_size=16, n_layer=1, n_head=2, n_embd=8)).eval())
    ids = model.encode("abcdefgh" * 10)
    stepwise = []  # one position at a time through prefill/step: exactly what generation sees
    logits, state = model.prefill(ids[:1])
    for token in ids[1:]:
        stepwise.append(float(torch.log_softmax(logits.double(), -1)[token]))
        logits, state = model.step(token, state)
    scores = model.score(ids)
    assert len(scores) == len(ids) - 1
    assert scores[:15] == pytest.approx(stepwise[:15], abs=1e-5)  # the first window: the full prefix
    assert all(math.isfinite(score) for score in scores)
