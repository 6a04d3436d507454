"""BLEU, chrF and the reference's perplexity (issue 16), checked against values computed by hand."""

import math

import pytest

from genmodels.chargpt import CharGPT
from genmodels.checkpoints import CHECKPOINTS_DIR, load_checkpoint
from genmodels.lm import CharModel, token_log_probabilities
from genmodels.textscore import (
    bleu,
    chrf,
    held_out_passages,
    is_chinese,
    reference_fit,
    scored_samples,
    split_passage,
    tokens_for,
)


def test_bleu_matches_the_hand_computed_geometric_mean():
    result = bleu("the cat sat on the mat", "the cat sat on a mat")
    # matches: 1-grams 5 of 6, 2-grams 3 of 5, 3-grams 2 of 4, 4-grams 1 of 3; equal lengths, no brevity penalty
    expected = 100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    assert result.score == pytest.approx(expected, abs=0.01)
    assert result.precisions == pytest.approx((500 / 6, 60.0, 50.0, 100 / 3), abs=0.01)
    assert result.brevity_penalty == 1.0 and result.tokenizer == "13a"


def test_bleu_penalises_a_short_continuation():
    result = bleu("the cat sat on", "the cat sat on the mat")
    # every n-gram matches, but 4 words against 6: brevity penalty exp(1 - 6/4)
    assert result.brevity_penalty == pytest.approx(math.exp(1 - 6 / 4), abs=1e-4)
    assert result.score == pytest.approx(100 * math.exp(1 - 6 / 4), abs=0.01)
    assert bleu("completely different words here", "the cat sat on the mat").score < 1
    assert bleu("the cat sat on the mat", "the cat sat on the mat").score == pytest.approx(100)


def test_chinese_text_is_scored_one_character_per_word():
    assert is_chinese("我爱你") and not is_chinese("I love you") and not is_chinese("")
    result = bleu("我爱你们", "我爱你")
    # characters as words: 1-grams 3/4, 2-grams 2/3, 3-grams 1/2, 4-grams 0/1 smoothed to 1/(2 * 1) (exp smoothing)
    assert result.tokenizer == "zh"
    assert result.score == pytest.approx(100 * (3 / 4 * 2 / 3 * 1 / 2 * 1 / 2) ** 0.25, abs=0.01)


def test_chrf_matches_the_hand_computed_value():
    # character n-grams of "abcd" against "abce": orders 1-4 have 3/4, 2/3, 1/2 and 0/1 matches (precision equals
    # recall here), orders 5-6 have none on either side; chrF averages over orders 1-4, then F with beta 2
    expected = 100 * (3 / 4 + 2 / 3 + 1 / 2 + 0) / 4
    assert chrf("abcd", "abce") == pytest.approx(expected, abs=0.01)
    assert chrf("a b c d", "abce") == pytest.approx(expected, abs=0.01)  # whitespace is ignored
    assert chrf("same text", "same text") == pytest.approx(100)


def test_passages_end_at_line_ends_and_the_cut_is_never_inside_a_word():
    text = "".join(f"Line number {i} of the held-out text.\n" for i in range(200))
    passages = held_out_passages(text, 300)
    assert len(passages) > 10 and all(p.endswith(".") for p in passages)
    assert "".join(p + "\n" for p in passages).strip() in text
    prompt, reference = split_passage(passages[0])
    assert prompt + reference == passages[0] and prompt.endswith("\n")
    prompt, reference = split_passage("one two three four five six seven eight")
    assert prompt + reference == "one two three four five six seven eight" and prompt.endswith(" ")


@pytest.fixture(scope="module")
def char_model():
    return CharModel(load_checkpoint(CharGPT, CHECKPOINTS_DIR / "chargpt-shakespeare"))


def test_the_reference_fit_is_the_mean_surprise_of_its_tokens(char_model):
    prompt, reference = "ROMEO:\nBut soft, what light", " through yonder window breaks?"
    ids = char_model.encode(prompt)
    fit = reference_fit(char_model, ids, reference)
    scores = token_log_probabilities(char_model, ids + char_model.encode(reference))[-len(reference) :]
    assert fit.tokens == len(reference)
    assert fit.nats_per_token == pytest.approx(-sum(scores) / len(scores))
    assert fit.perplexity == pytest.approx(math.exp(fit.nats_per_token))
    assert fit.nats_per_character == pytest.approx(fit.nats_per_token)  # one token per character
    shuffled = reference_fit(char_model, ids, " yonder breaks window? through")
    assert shuffled.perplexity > fit.perplexity  # scrambled Shakespeare surprises the model more


def test_scored_samples_are_seeded_and_greedy_is_sampled_once(char_model):
    ids = char_model.encode("KING RICHARD:\nNow is the winter of our ")
    reference = "discontent made glorious summer"
    tokens = tokens_for(char_model, reference)
    rows = scored_samples(char_model, ids, reference, [0.0, 1.0], 2, 5, tokens)
    assert [(r.temperature, r.sample) for r in rows] == [(0.0, 1), (1.0, 1), (1.0, 2)]
    again = scored_samples(char_model, ids, reference, [0.0, 1.0], 2, 5, tokens)
    assert [r.text for r in rows] == [r.text for r in again]
    for row in rows:
        assert len(row.text) == tokens
        assert row.bleu.score == pytest.approx(bleu(row.text, reference).score)
        assert row.chrf == pytest.approx(chrf(row.text, reference))
    assert rows[0].mean_log_probability > rows[1].mean_log_probability  # greedy text is the model's likeliest
