"""The 45-minute lesson, walked through the API step by step (issue 12, item 7): every step's experiment runs on a
real server and produces the outcome the step and docs/lesson.md promise, read from the numbers it reports."""

import re

import pytest
from gradio_client import Client

from genmodels.diagnose import COLLAPSE_ENTROPY_BITS, ENTROPY_KEY
from genmodels.lessons import load_lesson

LESSON = load_lesson("generative-models-in-45-minutes")


def numbers(pattern: str, text: str) -> list[float]:
    match = re.search(pattern, text, re.DOTALL)
    assert match, f"{pattern!r} not in {text[:300]!r}"
    return [float(value.replace(",", "")) for value in match.groups()]


def promise_kept(key: str, result: str) -> None:
    """What the lesson promises each experiment shows, checked on its reported numbers."""
    if key == "gan.truncation":
        number = r"(\d+(?:\.\d+)?)"
        low_h, low_is, full_h, full_is = numbers(
            rf"ψ 0\.5: class entropy {number} bits.*?Inception score {number}.*?ψ 1\.0: class entropy {number} "
            rf"bits.*?Inception score {number}",
            result,
        )
        assert low_h < full_h and low_is < full_is
    elif key == "gan.paths":
        start, low, end = numbers(
            r"\|z\| from (\d+(?:\.\d+)?) down to (\d+(?:\.\d+)?) and back to (\d+(?:\.\d+)?)", result
        )
        assert low < 0.85 * min(start, end)
    elif key == "gan.discriminator":
        real, fake = numbers(r"real ([+-]\d+(?:\.\d+)?), generated ([+-]\d+(?:\.\d+)?)", result)
        assert real > fake
    elif key == "vae.beta":
        kl_one, kl_four = numbers(r"KL per digit: β = 1 (\d+(?:\.\d+)?) nats, β = 4 (\d+(?:\.\d+)?) nats", result)
        error_one, error_four = numbers(r"error per digit: β = 1 (\d+(?:\.\d+)?), β = 4 (\d+(?:\.\d+)?)", result)
        assert kl_four < kl_one and error_four > error_one
    elif key == "vae.ellipses":
        (sigma,) = numbers(r"Largest posterior σ: (\d+(?:\.\d+)?)", result)
        assert sigma < 0.3
    elif key == "text.temperature":
        cold, hot = numbers(
            r"T = 0\.2\*\* \(mean log-probability.*?: (-?\d+(?:\.\d+)?) nats\).*?T = 1\.5\*\* \((-?\d+(?:\.\d+)?) nats",
            result,
        )
        assert cold > hot + 2
    elif key == "text.repetition":
        loop, free = numbers(r"windows: (\d+)%\).*?1\.3\*\* \((\d+)%\)", result)
        assert loop > 50 > 20 > free
    else:
        raise AssertionError(f"no promise written down for {key}")


@pytest.mark.parametrize("step", [s for s in LESSON.steps if not s.experiment.startswith("training.")],
                         ids=lambda s: s.experiment)  # fmt: skip
def test_each_step_keeps_its_promise(client, step):
    tab = step.experiment.split(".")[0]
    answer = 0 if step.experiment == "text.temperature" else 1  # the option that describes what happens
    *_, result, explanation = client.predict(step.experiment, answer, api_name=f"/{tab}_experiment")
    promise_kept(step.experiment, result)
    assert "was right" in explanation


def test_the_training_step_collapses_below_the_threshold_it_names(server):
    (step,) = [s for s in LESSON.steps if s.experiment.startswith("training.")]
    client = Client(server, verbose=False)
    *settings, explanation = client.predict(step.experiment.split(".")[1], 0, api_name="/train_break_it")
    assert "was right" in explanation  # option 1: mode collapse
    job = client.submit(*settings, None, api_name="/train_start")
    list(job)
    final = job.result()
    status, quality = final[5], final[1]["data"]
    assert "🚩 Mode collapse" in status, status[:300]
    entropies = [row[1] for row in quality if row[2] == ENTROPY_KEY]
    peak = entropies.index(max(entropies))
    assert entropies[peak] > 3.0 and min(entropies[peak:]) < COLLAPSE_ENTROPY_BITS, entropies  # as the text says
    assert f"{COLLAPSE_ENTROPY_BITS:g}" in client.predict("collapse", -1, api_name="/train_break_it")[-1]


def test_the_lesson_and_the_teachers_notes_agree():
    from pathlib import Path

    notes = (Path(__file__).resolve().parents[2] / "docs" / "lesson.md").read_text()
    assert sum(int(m) for m in re.findall(r"\((\d+) min\)", "".join(s.title for s in LESSON.steps))) == 45
    for step in LESSON.steps:
        assert step.title in notes, f"docs/lesson.md has no section for {step.title!r}"
