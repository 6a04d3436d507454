"""Failures that name themselves (issue 12, item 4), on the real one-click runs: each break-it run, set up by
/train_break_it and started as the page starts it, ends with the banner that names its failure."""

import pytest
from gradio_client import Client

FAILURES = {
    "collapse": "Mode collapse",
    "posterior": "Posterior collapse",
    "divergence": "Divergence: the loss became",
    "overfit": "Overfitting: the validation loss rose",
}


def break_it(client, key, prediction):
    *settings, explanation = client.predict(key, prediction, api_name="/train_break_it")
    return settings, explanation


# The collapse run is walked in tests/integration/test_lesson_walkthrough.py (the lesson's last step).
@pytest.mark.parametrize("key", [key for key in FAILURES if key != "collapse"])
def test_each_break_it_run_names_its_failure(server, key):
    client = Client(server, verbose=False)
    settings, explanation = break_it(client, key, 0)
    assert settings[1].startswith(f"break-{key}-")  # a fresh run name
    assert "**Your prediction" in explanation or "**You skipped" in explanation
    job = client.submit(*settings, None, api_name="/train_start")
    updates = list(job)
    final = job.result()
    status = final[5]
    assert f"🚩 {FAILURES[key]}" in status, status[:400]
    if key == "divergence":
        assert "stopped itself without saving" in status
    assert updates  # it streamed


def test_a_skipped_prediction_and_the_answer(server):
    client = Client(server, verbose=False)
    _, explanation = break_it(client, "posterior", -1)
    assert explanation.startswith("**You skipped the prediction. The answer: Posterior collapse")
    _, wrong = break_it(client, "posterior", 2)
    assert "Your prediction was “Divergence: the loss explodes”" in wrong


def test_bad_break_it_requests(server):
    from gradio_client.exceptions import AppError

    client = Client(server, verbose=False)
    with pytest.raises(AppError, match="Failure must be one of"):
        break_it(client, "everything", 0)
    with pytest.raises(AppError, match="Your prediction must be a number"):
        break_it(client, "collapse", {"x": 1})
