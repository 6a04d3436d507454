"""Filling blanks three ways (issue 16): both sides, left only, and a causal LM scoring the candidates."""

import pytest
import torch

from genmodels.chargpt import CharGPT
from genmodels.checkpoints import CHECKPOINTS_DIR, load_checkpoint
from genmodels.fill import MAX_BLANKS, MAX_CHARACTERS, blanks_of, fill_blanks, normalise, scored_candidates, shown
from genmodels.lm import CharModel
from genmodels.maskedlm import MaskedCharLM, MaskedCharLMConfig


@pytest.fixture(scope="module")
def gpt():
    return load_checkpoint(CharGPT, CHECKPOINTS_DIR / "chargpt-shakespeare")


@pytest.fixture(scope="module")
def masked(gpt):
    """A small untrained masked model with the char-GPT's characters: the mechanics do not need a trained one."""
    torch.manual_seed(0)
    return MaskedCharLM(MaskedCharLMConfig(vocab=gpt.config.vocab, block_size=64, n_layer=1, n_head=2, n_embd=16))


def test_mask_words_become_one_character_blanks():
    assert normalise("a [MASK] b [mask]c") == "a _ b _c"
    assert blanks_of("_ab__") == [0, 3, 4]
    assert shown(" ") == "␣" and shown("\n") == "↵" and shown("a") == "a"


def test_every_blank_gets_candidates_from_both_models(masked, gpt):
    text = "To be, or not to be, that is the q[MASK]estion:\nWhether 'tis n_bler in the mind"
    filled = fill_blanks(masked, gpt, None, text)
    assert [b.position for b in filled.blanks] == blanks_of(normalise(text))
    for blank in filled.blanks:
        assert len(blank.both) == 5 and len(blank.left) == 5 and blank.scored is None
        assert sum(p for _, p in blank.both) <= 1 + 1e-9
        assert [p for _, p in blank.left] == sorted((p for _, p in blank.left), reverse=True)
    assert "_" not in filled.both_text and "_" not in filled.left_text
    # the left-to-right text keeps the char-GPT's first choice for each blank
    assert filled.left_text[filled.blanks[0].position] == filled.blanks[0].left[0][0]


def test_a_left_to_right_model_predicts_a_blank_at_the_start_from_a_line_break(masked, gpt):
    filled = fill_blanks(masked, gpt, None, "_ll:\nSpeak, speak.")
    assert filled.blanks[0].position == 0 and len(filled.blanks[0].left) == 5


def test_a_causal_lm_scores_candidates_by_the_whole_passage(gpt):
    lm = CharModel(gpt)
    scored = scored_candidates(lm, "ROMEO:\nBut soft, what light through yonder window breaks?", 25, ["h", "q", "z"])
    assert scored[0][0] == "h"  # "light" with the real "h" reads best
    assert sum(p for _, p in scored) == pytest.approx(1.0)
    filled = fill_blanks(
        MaskedCharLM(MaskedCharLMConfig(vocab=gpt.config.vocab, block_size=64, n_layer=1, n_head=2, n_embd=16)),
        gpt,
        lm,
        "_" * 6 + " the end",
    )
    assert [b.scored is not None for b in filled.blanks] == [True] * 4 + [False] * 2  # the first SCORED_BLANKS


@pytest.mark.parametrize(
    "text, message",
    [
        ("no blanks here", "mark at least one blank"),
        ("   ", "no text around the blanks"),
        ("___", "no text around the blanks"),
        ("a" + "_b" * (MAX_BLANKS + 1), f"at most {MAX_BLANKS} blanks"),
        ("a_" + "b" * MAX_CHARACTERS, "the limit is"),
        ("我爱_你", "not in the model's vocabulary"),
    ],
)
def test_bad_text_gets_a_clear_error(masked, gpt, text, message):
    with pytest.raises(ValueError, match=message):
        fill_blanks(masked, gpt, None, text)
