"""Drive the Text endpoints of a real server: streaming, stop, bad inputs, concurrent clients."""

import json
import threading
import time

import pytest
from gradio_client.exceptions import AppError

from tests.conftest import ARTIFACTS
from tests.integration.test_gan_api import call_raw

CHAR = "chargpt-shakespeare"
SMOL = "smollm2-135m-instruct"


def settings(temperature=0.8, top_k=40, top_p=0.95, penalty=1.0):
    return [temperature, top_k, top_p, penalty]


def stream(client, model=CHAR, prompt="ROMEO:\n", tokens=40, seed=1, alternatives=1, chat=False, **kwargs):
    job = client.submit(model, prompt, tokens, *settings(**kwargs), seed, alternatives, chat, api_name="/text_generate")
    updates, final = list(job), job.result()
    # gradio_client keeps a stream's final output only as the job's result: its outputs can end one update early.
    return updates if updates and updates[-1] == final else [*updates, final]


def test_text_endpoints_exist(client):
    endpoints = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/text_generate", "/text_complete", "/text_next_token"} <= endpoints


def test_streams_token_by_token_and_ends_with_surprise_view(client):
    updates = stream(client, tokens=30)
    assert len(updates) >= 10, "text arrives in many small updates"
    lengths = [len(update[0]) for update in updates]
    assert lengths == sorted(lengths) and lengths[0] < lengths[-1]
    final = updates[-1]
    assert "30 tokens" in final[3]
    assert len(final[4]) == 30 and all("%" in item["class_or_confidence"] for item in final[4])


def test_same_seed_same_text_and_alternatives_differ(client):
    first = stream(client, seed=7, alternatives=3)[-1]
    again = stream(client, seed=7, alternatives=3)[-1]
    assert first[:3] == again[:3]
    assert len({first[0], first[1], first[2]}) == 3
    assert stream(client, seed=7)[-1][0] == first[0], "alternative 1 is the single continuation for that seed"


def test_two_concurrent_clients_get_their_own_reproducible_streams(server, client):
    from gradio_client import Client

    expected = {seed: stream(client, seed=seed, tokens=60)[-1][0] for seed in (11, 12)}
    results = {}

    def run(seed):
        results[seed] = stream(Client(server, verbose=False), seed=seed, tokens=60)[-1][0]

    threads = [threading.Thread(target=run, args=(seed,)) for seed in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected


def test_complete_returns_text_and_token_statistics(client):
    text, statistics = client.predict(
        CHAR, "JULIET:\n", 25, *settings(temperature=0), 0, False, api_name="/text_complete"
    )
    data = json.loads(statistics)
    assert data["new_tokens"] == 25 and len(data["tokens"]) == 25
    assert "".join(token["text"] for token in data["tokens"]) == text
    assert all(0 < token["probability"] <= 1 for token in data["tokens"])
    assert data["prompt_perplexity"] > 1


def test_next_token_view_reshapes_with_temperature(client):
    cool, info = client.predict(
        CHAR, "ROMEO:\nI", "", 0, *settings(temperature=0.3, top_k=0, top_p=1.0), False, api_name="/text_next_token"
    )
    warm, _ = client.predict(
        CHAR, "ROMEO:\nI", "", 0, *settings(temperature=1.8, top_k=0, top_p=1.0), False, api_name="/text_next_token"
    )
    assert len(cool["data"]) == 20
    model_rows = [row for row in cool["data"] if row[2] == "model"]
    assert model_rows == [row for row in warm["data"] if row[2] == "model"], "the model's own distribution is fixed"
    top_cool = max(row[1] for row in cool["data"] if row[2] != "model")
    top_warm = max(row[1] for row in warm["data"] if row[2] != "model")
    assert top_cool > top_warm
    assert "token 1" in info


def test_stop_ends_the_generation_on_the_server(client):
    job = client.submit(
        SMOL,
        "Once upon a time, in a small village by the sea,",
        512,
        *settings(),
        3,
        1,
        False,
        api_name="/text_generate",
    )
    deadline = time.monotonic() + 120
    while sum(1 for output in job.outputs() if output[0]) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)  # updates with text: the model may still be loading at first
    assert sum(1 for output in job.outputs() if output[0]) >= 3
    job.cancel()
    time.sleep(3)
    log = (ARTIFACTS / "integration-server.log").read_text()
    stopped = [line for line in log.splitlines() if "text generation stopped after" in line]
    assert stopped, "the server saw the stop"
    assert int(stopped[-1].split("after ")[1].split()[0]) < 512


def test_smollm_greedy_continuation_is_fluent(client):
    text, _ = client.predict(
        SMOL, "The capital of France is", 8, *settings(temperature=0), 0, False, api_name="/text_complete"
    )
    assert text.strip().startswith("Paris")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((CHAR, "", 10), "Write a prompt"),
        ((CHAR, "   \n", 10), "Write a prompt"),
        (("no-such-model", "hi", 10), "Unknown language model"),
        ((CHAR, "hi", "many"), "Max new tokens must be a number"),
        ((CHAR, ["a list"], 10), "prompt must be text"),
    ],
)
def test_bad_inputs_get_clear_errors(client, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, *settings(), 0, False, api_name="/text_complete")


def test_long_prompts_control_characters_and_out_of_range_values_are_handled(server, client):
    text, statistics = client.predict(
        CHAR, "To be or not " * 10_000, 10, *settings(), 0, False, api_name="/text_complete"
    )
    notices = json.loads(statistics)["notices"]
    assert any("last 20,000" in notice for notice in notices) and len(text) == 10
    _, statistics = client.predict(CHAR, "ROMEO\x00\x07:\n", 5, 9.0, -3, 0.0, 7.0, 0, False, api_name="/text_complete")
    notices = " ".join(json.loads(statistics)["notices"])
    for fragment in ("control", "Temperature", "Top-k", "Top-p", "Repetition penalty"):
        assert fragment in notices
    body = json.dumps({"data": [CHAR, "ROMEO:", 5, 0.8, 40, 0.9, 1.0, 0, False]}).replace("0.8", "NaN")
    assert "finite number" in call_raw(server, "text_complete", body)
    body = json.dumps({"data": [CHAR, "ROMEO \udc80 \ud800:", 5, 0.8, 40, 0.9, 1.0, 0, False]})  # lone surrogates
    assert "event: complete" in call_raw(server, "text_complete", body)


def test_a_fresh_server_answers_at_once_and_says_the_model_is_loading(client):
    """The first Generate on a new server is answered with progress while SmolLM2 loads, then streams."""
    from gradio_client import Client

    from tests.integration.conftest import start_server

    process, url = start_server("fresh-server.log")
    try:
        fresh = Client(url, verbose=False)
        status = json.loads(fresh.predict(SMOL, api_name="/text_status"))
        assert status["state"] in ("waiting", "preparing", "loading") and status["expected_seconds"] > 0
        updates = stream(fresh, model=SMOL, prompt="The capital of France is", tokens=8, temperature=0.0)
        waiting = [update for update in updates if "is getting ready" in update[3]]
        assert waiting, "the first updates say the model is loading"
        assert "s left" in waiting[0][3]
        assert updates[-1][0].strip(), "then the text streams"
        ready = json.loads(fresh.predict(SMOL, api_name="/text_status"))
        assert ready["state"] == "ready" and ready["decode_path"] in ready["decode_tokens_per_second"]
        assert isinstance(ready["decode_path_remembered"], bool)
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert "Traceback" not in (ARTIFACTS / "fresh-server.log").read_text()
