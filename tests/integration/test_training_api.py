"""Drive the Training tab through a real server: stream, stop, resume, and use the result elsewhere."""

import time

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

GAN = "GAN (MNIST digits)"
VAE = "VAE (MNIST digits)"
GPT = "char-GPT (text)"
DIFFUSION = "Diffusion (MNIST digits)"


def settings(
    family=GAN, name="itest-gan", steps=30, batch=16, lr=2e-4, latent=16, layers=1, heads=2, width=32, context=32
):
    return [family, name, steps, 0, batch, lr, lr, "hinge", False, latent, 1.0, layers, heads, width, context]


def text_source(source="Tiny Shakespeare", pasted="", upload=None):
    return [source, pasted, upload]


def run(job) -> tuple[list, tuple]:
    """Every streamed output, and the final one. gradio_client keeps the final output of a stream only as the
    job's result (its `outputs` can end one update early when the last two come close together)."""
    return list(job), job.result()


def names(update) -> list[str]:
    return [choice[0] for choice in update["choices"]]


def test_a_gan_run_streams_then_appears_in_the_gan_tab(server):
    client = Client(server, verbose=False)
    updates, final = run(client.submit(*settings(), *text_source(), api_name="/train_start"))
    steps_seen = {len(update[0]["data"]) for update in updates if "data" in update[0]}
    assert len(steps_seen) >= 2, "the loss curve grew while training ran"
    losses, score, distance, preview, _, status, gan_picker, *_ = final
    assert "Finished at step 30" in status and "itest-gan" in status
    assert {row[2] for row in losses["data"]} == {"G", "D"} and len(losses["data"]) == 60
    assert {row[2] for row in score["data"]} == {"Inception score", "class entropy (bits)"}
    assert {row[2] for row in distance["data"]} == {"Fréchet distance"}
    assert sorted(row[0] for row in distance["data"]) == [10, 20, 30]  # a short run: measured every 10 steps
    assert preview is not None
    assert "itest-gan" in names(gan_picker)
    _, info = client.predict("itest-gan", 1, 4, "0-9 in turn", 1.0, False, 0, 0, 0, 0, 0, api_name="/gan_sample")
    assert "4 samples" in info


def test_stop_saves_and_resume_continues(server):
    client = Client(server, verbose=False)
    args = settings(family=VAE, name="itest-vae", steps=600, batch=16, lr=1e-3, latent=2)
    job = client.submit(*args, *text_source(), api_name="/train_start")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any("Step " in str(out[5]) for out in job.outputs()):
        time.sleep(0.1)
    assert "Stopping" in client.predict(api_name="/train_stop")
    _, final = run(job)
    assert "Stopped at step" in final[5]
    stopped_at = int(final[5].split("Stopped at step ")[1].split(".")[0])
    assert 0 < stopped_at < 600
    assert "itest-vae" in names(final[7])
    assert client.predict("itest-vae", 0.5, 0.5, api_name="/vae_decode_point")[0]
    with pytest.raises(AppError, match="Resume"):
        client.predict(*args, *text_source(), api_name="/train_start")
    _, resumed = run(client.submit(*args, *text_source(), api_name="/train_resume"))
    assert "Finished at step 600" in resumed[5]
    first_step = resumed[0]["data"][0][0]  # the final update always carries the whole curve
    assert first_step == stopped_at + 1, "the resumed curve continues where the stopped one ended"


def test_a_diffusion_run_streams_then_samples_in_the_diffusion_tab(server):
    client = Client(server, verbose=False)
    args = settings(family=DIFFUSION, name="itest-diffusion", steps=4, batch=8, lr=1e-3)
    _, final = run(client.submit(*args, *text_source(), api_name="/train_start"))
    losses, score, distance, preview, _, status, *_, diffusion_picker, _vq_picker = final
    assert "Finished at step 4" in status and preview is not None
    assert {row[2] for row in losses["data"]} == {"loss"} and len(losses["data"]) == 4
    assert {row[2] for row in score["data"]} == {"Inception score", "class entropy (bits)"}
    assert {row[2] for row in distance["data"]} == {"Fréchet distance"}
    assert "itest-diffusion" in names(diffusion_picker)
    info = client.predict("itest-diffusion", api_name="/diffusion_model_info")
    assert "U-Net of" in info and "trained to predict v" in info  # the shipped model's objective
    _, _, _, text, _ = client.predict(
        "itest-diffusion", 3, 4, "7", 5, 2.0, "DDIM (deterministic)", 4, 2, api_name="/diffusion_sample"
    )
    assert "4 samples · seed 3 · 5 DDIM steps" in text


def test_a_vqvae_run_trains_both_stages_then_encodes_in_the_vae_tab(server):
    client = Client(server, verbose=False)
    args = settings(family="VQ-VAE (MNIST digits)", name="itest-vq", steps=5, batch=8, lr=1e-3)
    _, final = run(client.submit(*args, *text_source(), api_name="/train_start"))
    losses, score, distance, preview, _, status, *_, vq_picker = final
    assert "Finished at step 5" in status and preview is not None
    assert {"held-out reconstruction (nats)", "Fréchet distance"} <= {row[2] for row in distance["data"]}
    series = [row[2] for row in losses["data"]]  # the autoencoder's 3 steps, then the prior's 2
    assert series.count("reconstruction") == 3 and series.count("nats_per_code") == 2
    assert "Inception score" in {row[2] for row in score["data"]}
    assert "itest-vq" in names(vq_picker)
    _, _, text, info = client.predict("itest-vq", 3, api_name="/vq_encode")
    assert "became 49 codes" in info and len(text.split()) == 49


def test_a_char_gpt_on_pasted_text_appears_in_the_text_tab(server):
    client = Client(server, verbose=False)
    pasted = "the quick brown fox jumps over the lazy dog. " * 200
    args = settings(family=GPT, name="itest-gpt", steps=20, batch=8, lr=3e-3, layers=1, heads=2, width=32, context=32)
    _, final = run(client.submit(*args, *text_source("text pasted below", pasted), api_name="/train_start"))
    assert "Finished at step 20" in final[5] and final[4], "a text sample is shown"
    assert {row[2] for row in final[1]["data"]} == {"validation loss (nats/char)"}
    assert "itest-gpt" in names(final[8])
    text, _ = client.predict("itest-gpt", "the quick", 10, 0.8, 0, 1.0, 1.0, 0, False, api_name="/text_complete")
    assert len(text) == 10 and set(text) <= set(pasted)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Bad Name!"}, "lowercase letters"),
        ({"name": "gan-mnist"}, "shipped model"),
        ({"family": "diffusion"}, "Model family must be one of"),
        ({"family": GPT, "heads": 3, "width": 32}, "divide the width"),
        ({"steps": "many"}, "Steps must be a number"),
    ],
)
def test_bad_settings_get_clear_errors(server, changes, message):
    client = Client(server, verbose=False)
    args = settings(name="itest-bad")
    keys = [
        "family",
        "name",
        "steps",
        "seed",
        "batch",
        "lr",
        "lr_d",
        "loss",
        "conditional",
        "latent",
        "beta",
        "layers",
        "heads",
        "width",
        "context",
    ]
    for key, value in changes.items():
        args[keys.index(key)] = value
    with pytest.raises(AppError, match=message):
        client.predict(*args, *text_source(), api_name="/train_start")


def test_resume_needs_a_stopped_run_and_texts_are_checked(server):
    client = Client(server, verbose=False)
    with pytest.raises(AppError, match="no stopped run"):
        client.predict(*settings(name="itest-never"), *text_source(), api_name="/train_resume")
    with pytest.raises(AppError, match="Paste some text"):
        client.predict(
            *settings(family=GPT, name="itest-empty"), *text_source("text pasted below", ""), api_name="/train_start"
        )


def test_a_chinese_client_gets_a_chinese_run_and_chinese_errors(server):
    """Status, curves and errors in the request's language, genmodels' own messages included; the data stays."""
    chinese = Client(server, verbose=False, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    _, final = run(
        chinese.submit(*settings(name="itest-zh", steps=10, batch=8), *text_source(), api_name="/train_start")
    )
    losses, score, _, _, _, status, *_ = final
    assert "在第 10 步完成。已保存为 **itest-zh**" in status
    assert {row[2] for row in losses["data"]} == {"G", "D"}
    assert {row[2] for row in score["data"]} == {"Inception 分数", "类别熵（比特）"}
    with pytest.raises(AppError, match="请先粘贴一些用于训练的文本"):
        gpt = settings(family=GPT, name="itest-zh-gpt")
        chinese.predict(*gpt, *text_source("text pasted below", ""), api_name="/train_start")
    with pytest.raises(AppError, match="'gan-mnist' 是自带模型的名称"):  # raised in genmodels, translated by the app
        chinese.predict(*settings(name="gan-mnist"), *text_source(), api_name="/train_start")
    assert chinese.predict(api_name="/train_stop") == "当前没有正在进行的训练。"


def test_non_finite_learning_rate_through_the_raw_api(server):
    import json

    from tests.integration.test_gan_api import call_raw

    body = json.dumps({"data": [*settings(name="itest-inf"), *text_source()]}).replace("0.0002", "Infinity", 1)
    stream = call_raw(server, "train_start", body)
    assert "event: error" in stream and "finite number" in stream


def test_a_closed_page_stops_its_run_and_keeps_what_it_learned(server):
    from tests.conftest import ARTIFACTS

    client = Client(server, verbose=False)
    job = client.submit(*settings(name="itest-closed", steps=3000), *text_source(), api_name="/train_start")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any("Step " in str(out[5]) for out in job.outputs()):
        time.sleep(0.1)
    job.cancel()  # what Gradio does when the page that started the run goes away
    saved = ARTIFACTS / "runs-integration-server" / "models" / "itest-closed" / "model.safetensors"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not saved.is_file():
        time.sleep(0.2)
    assert saved.is_file(), "the stopped run was saved"
    deadline = time.monotonic() + 30  # the trainer's process reports its end just after the file lands
    while time.monotonic() < deadline and "Nothing" not in client.predict(api_name="/train_stop"):
        time.sleep(0.2)
    assert "Nothing" in client.predict(api_name="/train_stop"), "nothing is left running for this page"


def test_a_finished_run_keeps_its_previews_and_the_scrubber_moves_through_them(server):
    client = Client(server, verbose=False)
    _, final = run(client.submit(*settings(family=VAE, name="itest-scrub", steps=20), *text_source(),
                                 api_name="/train_start"))  # fmt: skip
    assert "Finished at step 20" in final[5]
    first_picture, first_curves, first_info = client.predict(1, api_name="/train_scrub")
    last_picture, _, last_info = client.predict(20, api_name="/train_scrub")
    assert "Preview 1 of 20: step 1." in first_info and "Preview 20 of 20: step 20." in last_info
    marked = [row for row in first_curves["data"] if row[2] == "step 1"]
    assert len(marked) == 2 and {row[0] for row in marked} == {1}  # the curves are marked at the preview's step
    assert first_picture != last_picture
    _, _, clamped = client.predict(999, api_name="/train_scrub")
    assert "Preview 20 of 20" in clamped
    with pytest.raises(AppError, match="no finished or stopped run"):
        Client(server, verbose=False).predict(1, api_name="/train_scrub")
