"""Every experiment is an API endpoint (issue 12): each runs on the shipped models offline, answers with its
result and an explanation that says whether the prediction was right, and refuses bad input cleanly."""

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

GAN = ["gan.truncation", "gan.paths", "gan.walk_fade", "gan.discriminator"]
VAE = ["vae.beta", "vae.ellipses", "vae.walk_fade", "vae.far_out"]


def run(client, tab, key, prediction):
    return client.predict(key, prediction, api_name=f"/{tab}_experiment")


@pytest.mark.parametrize("key", GAN + VAE)
def test_each_picture_experiment_runs_and_explains(client, key):
    tab = key.split(".")[0]
    picture, _, _, result, explanation = run(client, tab, key, 1)
    assert picture and picture.endswith(".png")
    assert any(ch.isdigit() for ch in result)
    assert explanation.startswith("**Your prediction") and "was right" in explanation
    assert len(explanation) > 200  # the paragraph that explains why


def test_a_wrong_prediction_and_a_skipped_one_are_told_apart(client):
    *_, wrong = run(client, "gan", "gan.truncation", 0)
    assert "Your prediction was “More kinds of digit”; what happened: Fewer kinds" in wrong
    *_, skipped = run(client, "gan", "gan.truncation", -1)
    assert skipped.startswith("**You skipped the prediction. The answer: Fewer kinds")


def test_text_experiments_run_on_smollm2(client):
    *_, result, explanation = run(client, "text", "text.top_p", 1)
    assert "top-p 0.5 keeps" in result and "of 49,152 tokens" in result and "was right" in explanation
    _, _, _, result, explanation = run(client, "text", "text.repetition", 0)
    assert "Repetition penalty 1.3" in result and "what happened: Fall into a loop" in explanation


def test_experiments_in_chinese(server):
    chinese = Client(server, verbose=False, headers={"Accept-Language": "zh-CN"})
    _, _, _, result, explanation = chinese.predict("vae.beta", 1, api_name="/vae_experiment")
    assert "每个数字的 KL" in result and "你的预测" in explanation and "KL 项是编码 z 中信息的价格" in explanation


@pytest.mark.parametrize(
    ("key", "prediction", "message"),
    [
        ("gan.nothing", 1, "Experiment must be one of"),
        ("vae.beta", 1, "Experiment must be one of"),  # a VAE experiment asked of the GAN tab
        ("gan.paths", "abc", "Your prediction must be a number"),
        ("gan.paths", [1], "Your prediction must be a number"),
    ],
)
def test_bad_experiment_requests_get_clean_errors(client, key, prediction, message):
    with pytest.raises(AppError, match=message):
        run(client, "gan", key, prediction)
