"""The one function every text that enters the app passes through."""

import pytest

from demos.common import Notices, UserError, clean_text


def test_lone_surrogates_control_and_bidi_characters_go_newlines_stay():
    notices = Notices()
    text = clean_text("a\udc80b\ud800\x00c\u202ed\u2066e\nf\tg\x07", "The prompt", notices, 100)
    assert text == "abcde\nf\tg"
    assert text.encode("utf-8")  # a tokenizer can take it
    assert "Removed 6 control or invalid characters from the prompt." in notices


def test_ordinary_unicode_is_untouched():
    notices = Notices()
    assert clean_text("生成对抗网络 — café ✓", "The prompt", notices, 100) == "生成对抗网络 — café ✓"
    assert not notices


def test_long_text_keeps_the_end_or_the_start():
    notices = Notices()
    assert clean_text("abcdef", "The prompt", notices, 4) == "cdef"
    assert clean_text("abcdef", "The pasted text", notices, 4, keep="start") == "abcd"
    assert any("using its last 4" in notice for notice in notices)


@pytest.mark.parametrize("value", [None, 3, ["a"], {"a": 1}, 2.5])
def test_non_text_is_a_clear_error(value):
    with pytest.raises(UserError, match="The prompt must be text"):
        clean_text(value, "The prompt", Notices(), 10)


def test_a_million_characters_are_cut_fast():
    notices = Notices()
    text = clean_text("x" * 1_000_000, "The prompt", notices, 20_000)
    assert len(text) == 20_000
