"""Lessons on a real server: GENLAB_LESSON's locks and caps hold for API calls, with errors naming the lock; a
lesson that cannot be used is named in the log and the app still starts without it."""

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.conftest import ARTIFACTS
from tests.integration.conftest import start_server
from tests.integration.test_training_api import VAE, settings, text_source


@pytest.fixture(scope="module")
def lesson_server():
    env = {"GENLAB_LESSON": "gans-in-45-minutes", "GENLAB_PRELOAD": "0"}
    process, url = start_server("lesson-server.log", extra_env=env)
    yield url
    process.terminate()
    process.wait(timeout=20)


def gan_grid(client, size):
    return client.predict("gan-mnist", 1, size, "0-9 in turn", 1.0, False, 0, 0, 0, 0, 0, api_name="/gan_sample")


def test_caps_and_locks_hold_for_api_calls(lesson_server):
    client = Client(lesson_server, verbose=False)
    assert "16 samples" in gan_grid(client, 16)[1]  # within the lesson
    with pytest.raises(AppError, match=r"up to 36 \(cap: gan\.grid\)"):
        gan_grid(client, 64)
    with pytest.raises(AppError, match=r"cap: gan\.frames"):
        client.predict("gan-mnist", 1, 2, 32, "spherical (slerp)", 1.0, "0-9 in turn", api_name="/gan_interpolate")
    with pytest.raises(AppError, match=r"lock: training\.family"):
        client.predict(*settings(family=VAE, name="locked-out"), *text_source(), api_name="/train_start")
    with pytest.raises(AppError, match=r"cap: training\.steps"):
        client.predict(*settings(name="too-long", steps=2000), *text_source(), api_name="/train_start")


def test_a_lesson_that_cannot_be_used_is_named_and_the_app_starts_anyway():
    env = {"GENLAB_LESSON": "no-such-lesson", "GENLAB_PRELOAD": "0"}  # SmolLM2 is not needed here
    process, url = start_server("lesson-missing.log", extra_env=env)
    try:
        client = Client(url, verbose=False)
        assert "64 samples" in gan_grid(client, 64)[1]  # no lesson: no cap
    finally:
        process.terminate()
        process.wait(timeout=20)
    log = (ARTIFACTS / "lesson-missing.log").read_text()
    assert "GENLAB_LESSON cannot be used" in log and "no lesson called 'no-such-lesson'" in log


def test_the_chinese_lesson_holds_its_locks_in_chinese():
    env = {"GENLAB_LESSON": "gans-in-45-minutes-zh", "GENLAB_PRELOAD": "0"}
    process, url = start_server("lesson-zh-server.log", extra_env=env)
    try:
        chinese = Client(url, verbose=False, headers={"Accept-Language": "zh-CN"})
        with pytest.raises(
            AppError, match=r"本课（45 分钟认识生成对抗网络（GAN））允许GAN 网格大小最多为 36（上限：gan\.grid）"
        ):
            gan_grid(chinese, 64)
        with pytest.raises(
            AppError, match=r"把要训练的模型类型固定为 'GAN \(MNIST digits\)'（锁定：training\.family）"
        ):
            chinese.predict(*settings(family=VAE, name="locked-out-zh"), *text_source(), api_name="/train_start")
        with pytest.raises(AppError, match=r"allows the GAN grid size up to 36 \(cap: gan\.grid\)"):
            gan_grid(Client(url, verbose=False), 64)  # an English client: the same lock, in English
    finally:
        process.terminate()
        process.wait(timeout=20)
