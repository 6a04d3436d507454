"""Issue 16 through a real server: fill the blanks (masked model, char-GPT, SmolLM2), score continuations with
BLEU, chrF and perplexity, and fine-tune SmolLM2 with LoRA in the Training tab, then use it in the Text tab."""

import json
import time

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.integration.test_training_api import names, run

MASKED = "maskedlm-shakespeare"
LORA = "LoRA fine-tune of SmolLM2 (text)"


def test_the_endpoints_are_named(client):
    endpoints = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {
        "/fill_blanks",
        "/fill_model_info",
        "/fill_experiment",
        "/score_passage",
        "/score_continuations",
    } <= endpoints


def smollm_ready(client, seconds: float = 180) -> None:
    """Wait for the server's background load of SmolLM2 (its column is empty, with a notice, until then)."""
    deadline = time.monotonic() + seconds
    while json.loads(client.predict("smollm2-135m-instruct", api_name="/text_status"))["state"] != "ready":
        assert time.monotonic() < deadline, "SmolLM2 did not load"
        time.sleep(0.5)


def test_blanks_are_filled_from_both_sides_and_from_the_left(client):
    smollm_ready(client)
    table, chart, summary = client.predict(
        MASKED, "A man well _nown throughout all Italy.", 1, True, api_name="/fill_blanks"
    )
    assert table["headers"][2:] == ["masked model (both sides)", "char-GPT (left only)", "SmolLM2 (scores)"]
    (row,) = table["data"]
    assert row[0] == 1 and "man well [_]nown throu" in row[1]
    assert row[2].startswith("k ")  # the masked model's first candidate, with the word's end in sight
    assert row[4] != "—", "SmolLM2 scored the candidates"
    models = {point[2] for point in chart["data"]}
    assert models == {"masked model (both sides)", "char-GPT (left only)", "SmolLM2 (scores)"}
    assert "A man well known throughout all Italy." in summary


def test_several_blanks_and_mask_words(client):
    text = "To be, or not to be, that is the q[MASK]estion:\nWhether 'tis n__ler in the mind to suffer"
    table, chart, summary = client.predict(MASKED, text, 2, False, api_name="/fill_blanks")
    assert [row[0] for row in table["data"]] == [1, 2, 3]
    assert all(row[4] == "—" for row in table["data"]), "SmolLM2 off: its column stays empty"
    assert "blank 2 of 3" in summary and {p[2] for p in chart["data"]} == {
        "masked model (both sides)",
        "char-GPT (left only)",
    }
    info = client.predict(MASKED, api_name="/fill_model_info")
    assert "single blanks" in info and "from the left only" in info


@pytest.mark.parametrize(
    "text, message",
    [
        ("no blank at all", "mark at least one blank"),
        ("", "no text around the blanks"),
        ("我爱_你", "not in the model's vocabulary"),
        ("a" + "_b" * 40, "at most 32 blanks"),
        ("a_" + "b" * 5000, "the limit is 2,000"),
    ],
)
def test_bad_fill_input_gets_a_clean_error(client, text, message):
    with pytest.raises(AppError, match=message):
        client.predict(MASKED, text, 1, False, api_name="/fill_blanks")


def test_fill_rejects_unknown_models_and_bad_settings(client):
    with pytest.raises(AppError, match="Unknown masked model"):
        client.predict("chargpt-shakespeare", "a_b", 1, False, api_name="/fill_blanks")
    with pytest.raises(AppError, match="must be true or false"):
        client.predict(MASKED, "a_b", 1, "yes", api_name="/fill_blanks")


@pytest.mark.parametrize("key", ["fill.right_context", "fill.line_start"])
def test_fill_experiments_run_with_their_verdict(client, key):
    _, bars, _, result, explanation = client.predict(key, 0, api_name="/fill_experiment")
    assert "the right character" in result and "was right" in explanation
    both, left = (row[1] for row in bars["data"])
    assert both > left


def test_a_held_out_passage_is_continued_and_scored(client):
    prompt, reference, info = client.predict(3, api_name="/score_passage")
    assert prompt and reference and "Held-out passage 3" in info
    table, chart, summary = client.predict(
        "chargpt-shakespeare", prompt, reference[:80], [0.0, 1.0], 2, 0, api_name="/score_continuations"
    )
    rows = table["data"]
    assert [(row[0], row[1]) for row in rows] == [("0", 1), ("1", 1), ("1", 2)]
    for row in rows:
        assert 0 <= row[2] <= 100 and 0 <= row[3] <= 100 and len(row[5]) == len(reference[:80])
    assert len(chart["data"]) == 6 and "perplexity" in summary and "BLEU tokenisation: 13a" in summary
    again = client.predict(
        "chargpt-shakespeare", prompt, reference[:80], [0.0, 1.0], 2, 0, api_name="/score_continuations"
    )
    assert again[0]["data"] == rows, "the same seed gives the same continuations and scores"


def test_chinese_references_are_scored_per_character_with_smollm(client):
    table, _, summary = client.predict(
        "smollm2-135m-instruct", "床前明月光，", "疑是地上霜。", [0.0], 1, 0, api_name="/score_continuations"
    )
    assert len(table["data"]) == 1 and "one word per Chinese character" in summary


@pytest.mark.parametrize(
    "args, message",
    [
        (["chargpt-shakespeare", "", "ref", [0.0], 1, 0], "Write or pick a prompt"),
        (["chargpt-shakespeare", "ROMEO:", "", [0.0], 1, 0], "true continuation"),
        (["chargpt-shakespeare", "ROMEO:", "and", [], 1, 0], "at least one temperature"),
        (["chargpt-shakespeare", "ROMEO:", "and", [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 1, 0], "At most 6"),
        (["chargpt-shakespeare", "ROMEO:", "and", ["hot"], 1, 0], "Temperature must be a number"),
        (["chargpt-shakespeare", "我爱你", "的", [0.0], 1, 0], "not in the model's vocabulary"),
        (["no-such-model", "ROMEO:", "and", [0.0], 1, 0], "unknown language model"),
    ],
)
def test_bad_scoring_input_gets_a_clean_error(client, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/score_continuations")


def lora_settings(name, steps=4):
    return [LORA, name, steps, 0, 2, 3e-3, 2e-4, "hinge", False, 64, 1.0, 2, 4, 64, 32]


PASTED = "\n".join(
    f"The lighthouse keeper of Varrow Point counts {n} ships at dusk and writes them in the green book."
    for n in range(120)
)


def test_lora_fine_tunes_smollm_stops_resumes_then_writes_in_the_text_tab(server):
    client = Client(server, verbose=False)
    args = [*lora_settings("itest-lora", steps=3), "text pasted below", PASTED, None]
    job = client.submit(*args, api_name="/train_start")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not any("Step " in str(out[5]) for out in job.outputs()):
        time.sleep(0.1)
    assert "Stopping" in client.predict(api_name="/train_stop")
    _, stopped = run(job)
    assert "Stopped at step" in stopped[5], stopped[5]
    stopped_at = int(stopped[5].split("Stopped at step ")[1].split(".")[0])
    assert 0 < stopped_at < 3 and "itest-lora" in names(stopped[8])
    _, final = run(client.submit(*args, api_name="/train_resume"))
    _, quality, distance, _, sample, status, *pickers = final
    assert "Finished at step 3" in status and "itest-lora" in status
    assert final[1]["data"][0][0] == stopped_at + 1, "the resumed curve continues where the stopped one ended"
    rows = quality["data"] + distance["data"]
    series = {row[2] for row in rows}
    assert {"held-out perplexity", "held-out perplexity before fine-tuning"} <= series
    perplexity = [row[1] for row in rows if row[2] == "held-out perplexity"]
    before = [row[1] for row in rows if row[2] == "held-out perplexity before fine-tuning"]
    assert perplexity[-1] < before[-1], "the held-out perplexity fell"
    assert "BEFORE:" in sample and "AFTER 3 STEPS:" in sample
    assert "itest-lora" in names(pickers[2])
    text, _ = client.predict(
        "itest-lora", "The lighthouse keeper", 8, 0, 0, 1.0, 1.0, 0, False, api_name="/text_complete"
    )
    assert text.strip()
    too_long = lora_settings("itest-lora-long", steps=900)
    with pytest.raises(AppError, match="at most 500 steps"):
        client.predict(*too_long, "text pasted below", PASTED, None, api_name="/train_start")
    with pytest.raises(AppError, match="too short"):
        client.predict(*lora_settings("itest-lora-x"), "text pasted below", "Too short.", None, api_name="/train_start")
