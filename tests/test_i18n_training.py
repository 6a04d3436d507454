"""简体中文 for the Training tab's results and for the messages genmodels writes (issue 14, item 4)."""

import string

import pytest

from demos.common import Notices
from demos.i18n import language_scope, translate_message
from demos.locales import ZH
from demos.training import TrainingTab, curve_name
from genmodels.jobs import FAILED, FINISHED, QUEUED, RUNNING, JobStatus
from genmodels.lessons import load_lesson


def fields(template: str) -> list[tuple[str, str]]:
    return sorted((name, spec) for _, name, spec, _ in string.Formatter().parse(template) if name is not None)


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("unknown model 'x'; available: gan-mnist, vae-mnist", "未知模型 'x'；可用的有：gan-mnist, vae-mnist"),
        ("'my-gan' is taken; pick another name.", "'my-gan' 已被占用；请换一个名称。"),
        ("Model family must be one of gan, vae, chargpt", "模型类型必须是以下之一：gan, vae, chargpt"),
        # A message carrying another: both translated.
        (
            "Training failed: the training process ended unexpectedly (exit code -9)",
            "训练失败：训练进程意外结束（退出码 -9）",
        ),
        (
            "16 samples from fixed noise at step 300, read by the digit classifier as: 1 7 7",
            "第 300 步时由固定噪声生成的 16 个样本，数字分类器识别为：1 7 7",
        ),
        (
            "lessons/bad.toml, line 3: unknown control 'gan.colour' (known: gan.model)",
            "课程文件 lessons/bad.toml 第 3 行：未知的控件 'gan.colour'（已知的有：gan.model）",
        ),
    ],
)
def test_genmodels_messages_in_chinese_with_their_values(english, chinese):
    with language_scope("zh-CN"):
        assert translate_message(english) == chinese
    assert translate_message(english) == english  # English pages get them as they are


def test_a_lesson_lock_names_the_control_in_chinese():
    lesson = load_lesson("gans-in-45-minutes")
    with pytest.raises(ValueError) as locked:
        lesson.check("training.family", "VAE (MNIST digits)")
    with pytest.raises(ValueError) as capped:
        lesson.check("training.steps", 5000)
    with language_scope("zh-CN"):
        assert translate_message(str(locked.value)) == (
            "本课（GANs in 45 minutes）把要训练的模型类型固定为 'GAN (MNIST digits)'（锁定：training.family）。"
        )
        assert translate_message(str(capped.value)) == (
            "本课（GANs in 45 minutes）允许训练步数最多为 1000（上限：training.steps）。"
        )


def test_every_diagnosis_has_chinese_with_the_same_values():
    diagnose = pytest.importorskip("genmodels.diagnose")
    templates = [diagnose.MODE_COLLAPSE, diagnose.POSTERIOR_COLLAPSE, diagnose.DIVERGENCE, diagnose.OVERFITTING]
    for template in templates:
        assert template in ZH and fields(ZH[template]) == fields(template), template[:40]
    with language_scope("zh-CN"):
        message = diagnose.DIVERGENCE.format(value="infinite", step=12, learning_rate=0.05)
        assert translate_message(message).startswith("训练发散：损失在第 12 步变成了 无穷大")


def view(status: JobStatus, losses=(), quality=()) -> tuple:
    tab = object.__new__(TrainingTab)  # _view reads only its arguments
    return tab._view(None, status, list(losses), list(quality), None, "", Notices())


def test_the_training_status_in_both_languages():
    running = JobStatus(RUNNING, 120, 300, steps_per_second=12.5)
    finished = JobStatus(FINISHED, 300, 300, result="my-gan")
    failed = JobStatus(FAILED, 3, 300, message="Training failed: the saved run used a different model configuration")
    assert view(running)[-1] == "Step 120 of 300 · 12.5 steps/s · about 14 s left"
    assert view(finished)[-1].startswith("Finished at step 300. Saved as **my-gan**: pick it in the other tabs.")
    with language_scope("zh-CN"):
        assert view(JobStatus(QUEUED, 0, 300, queue_position=2))[-1] == "正在等待空闲的训练器：排在队列第 2 位。"
        assert view(running)[-1] == "第 120 步，共 300 步 · 每秒 12.5 步 · 大约还剩 14 秒"
        assert view(finished)[-1].startswith("在第 300 步完成。已保存为 **my-gan**")
        assert view(failed)[-1] == "训练失败：保存的训练任务使用的是另一种模型配置"


def test_curves_are_named_in_the_readers_language():
    losses = [{"step": 1, "loss": 0.5, "series": "reconstruction"}, {"step": 1, "loss": 0.1, "series": "kl"}]
    quality = [{"step": 1, "value": 90.0, "series": "held-out negative ELBO (nats)"}]
    curves, score, _, *_ = view(JobStatus(RUNNING, 1, 10, steps_per_second=1.0), losses, quality)
    assert list(curves["series"]) == ["reconstruction", "kl"] and list(score["series"]) == [quality[0]["series"]]
    with language_scope("zh-CN"):
        curves, score, _, *_ = view(JobStatus(RUNNING, 1, 10, steps_per_second=1.0), losses, quality)
        assert list(curves["series"]) == ["重建损失", "KL 散度"] and list(score["series"]) == [
            "留出数据上的负 ELBO（nats）"
        ]
        assert curve_name("G") == "G"  # the math's own letters stay
