"""Lesson files: the shipped ones parse; malformed ones are refused naming the line; locks and caps hold."""

import re

import pytest

from genmodels.lessons import LessonError, LessonLocked, available_lessons, load_lesson, parse_lesson

GOOD = """title = "Test"
tabs = ["GAN"]
[settings]
"gan.model" = "gan-mnist"
[locks]
controls = ["gan.model"]
[caps]
"gan.grid" = 9
"""


def test_the_shipped_lessons_parse_with_steps_locks_and_caps():
    assert {"gans-in-45-minutes", "next-word"} <= set(available_lessons())
    gans = load_lesson("gans-in-45-minutes")
    assert gans.title == "GANs in 45 minutes" and "GAN" in gans.tabs and len(gans.steps) >= 4
    assert "training.family" in gans.locks and gans.caps["gan.grid"] >= 16
    words = load_lesson("next-word")
    assert words.tabs == ("Text",) and "text.model" in words.locks


def test_locks_and_caps_name_themselves():
    lesson = parse_lesson("test", GOOD)
    lesson.check("gan.model", "gan-mnist")
    lesson.check("gan.grid", 9)
    with pytest.raises(LessonLocked, match=r"lock: gan\.model"):
        lesson.check("gan.model", "cgan-mnist")
    with pytest.raises(LessonLocked, match=r"up to 9 \(cap: gan\.grid\)"):
        lesson.check("gan.grid", 10)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('title = "x"\ntabs = ["GAN"\n', "not valid TOML"),
        ('title = "x"\n[settings]\n"gan.colour" = 3\n', "line 3: unknown control 'gan.colour'"),
        ('title = "x"\n[settings]\n"gan.grid" = "big"\n', "line 3: gan.grid must be a int"),
        ('title = "x"\n[locks]\ncontrols = ["gan.model"]\n', "line 3: the lock on 'gan.model' needs its value"),
        ('title = "x"\n[caps]\n"gan.psi" = 2\n', "line 3: caps are positive whole numbers"),
        ('title = "x"\ntabs = ["Flow matching"]\n', "line 2: tabs must be"),
        ('titel = "x"\n', "line 1: unknown key 'titel'"),
    ],
)
def test_a_malformed_lesson_is_refused_naming_the_line(text, problem):
    with pytest.raises(LessonError, match=r"lessons/bad\.toml") as error:
        parse_lesson("bad", text)
    assert problem in str(error.value)


def test_lesson_names_never_leave_the_lessons_folder(tmp_path):
    (tmp_path / "ok.toml").write_text(GOOD)
    assert load_lesson("ok", tmp_path).title == "Test"
    for name in ("../app", "/etc/passwd", "OK", "", None, "a" * 80):
        with pytest.raises(LessonError):
            load_lesson(name, tmp_path)
    with pytest.raises(LessonError, match="available: ok"):
        load_lesson("missing", tmp_path)


def test_the_app_starts_and_names_a_malformed_lesson(tmp_path, monkeypatch, caplog):
    import app
    from genmodels import lessons

    (tmp_path / "broken.toml").write_text('title = "x"\n[caps]\n"gan.grid" = -1\n')
    (tmp_path / "fine.toml").write_text(GOOD)
    monkeypatch.setattr(lessons, "LESSONS_DIR", tmp_path)
    monkeypatch.setattr(app, "available_lessons", lambda: lessons.available_lessons(tmp_path))
    monkeypatch.setattr(app, "load_lesson", lambda name: lessons.load_lesson(name, tmp_path))
    problems = app.check_lessons()
    assert len(problems) == 1 and "broken.toml, line 3" in problems[0]
    assert "broken.toml, line 3" in caplog.text


def test_the_chinese_gan_lesson_is_the_english_one_in_chinese():
    english, chinese = load_lesson("gans-in-45-minutes"), load_lesson("gans-in-45-minutes-zh")
    assert english.language == "en" and chinese.language == "zh-CN"
    assert (chinese.tabs, chinese.settings, chinese.locks, chinese.caps) == (
        english.tabs,
        english.settings,
        english.locks,
        english.caps,
    )
    assert [step.tab for step in chinese.steps] == [step.tab for step in english.steps]
    assert all(
        re.search(r"[\u4e00-\u9fff]", text) for text in [chinese.title, *(s.title + s.text for s in chinese.steps)]
    )


class FakeRequest:
    def __init__(self, lesson=None, language=None):
        self.query_params = {"lesson": lesson} if lesson else {}
        self.cookies = {"genlab_lang": language} if language else {}
        self.headers, self.session_hash = {}, None


def lesson_bar_load():
    import gradio as gr

    from demos.lesson import LessonBar

    with gr.Blocks() as demo:
        bar = LessonBar()
        with gr.Tabs() as tabs:
            with gr.Tab("GAN", id="GAN"):
                pass
        bar.wire(demo, tabs)
    load = next(fn for fn in demo.fns.values() if fn.name == "on_load")
    switch = next(fn for fn in demo.fns.values() if fn.js and "genlabSetLocale" in fn.js)
    assert switch.trigger_after == load._id and [block._id for block in switch.inputs] == [bar.language._id]
    return load.fn


def test_a_lesson_link_switches_the_page_to_the_lessons_language():
    on_load = lesson_bar_load()
    _, text, _, language, *_ = on_load(FakeRequest("gans-in-45-minutes-zh", language="en"))
    assert language == "zh-CN"  # the page's script switches to it
    assert (
        "第 1 步（共 5 步）" in text and "45 分钟认识生成对抗网络" in text and "🔒 本课固定：要训练的模型类型。" in text
    )
    _, text, _, language, *_ = on_load(FakeRequest("gans-in-45-minutes", language="zh-CN"))
    assert language == "en" and "Step 1 of 5 · in the **GAN** tab" in text
    _, text, _, language, *_ = on_load(FakeRequest("no-such-lesson", language="zh-CN"))
    assert language == "" and "这个课程链接无法使用：没有名为 'no-such-lesson' 的课程" in text
    _, text, _, language, *_ = on_load(FakeRequest())
    assert language == "" and text == ""


def test_the_lesson_frame_follows_the_page_and_the_lesson_text_stays_as_written():
    from demos.i18n import language_scope
    from demos.lesson import LessonBar

    lesson = load_lesson("next-word")
    with language_scope("zh-CN"):
        text = LessonBar.render(lesson, 1)
    assert "第 2 步（共 4 步）· 在 **文本** 标签页：**2. The candidates (10 min)**" in text
    assert "🔒 本课固定：语言模型。" in text and lesson.steps[1].text in text
    english = LessonBar.render(lesson, 1)
    assert "Step 2 of 4 · in the **Text** tab: **2. The candidates (10 min)**" in english
    assert "🔒 Fixed for this lesson: the language model." in english


def test_the_45_minute_lesson_names_an_experiment_the_app_has_for_every_step():
    from app import build_app

    lesson = load_lesson("generative-models-in-45-minutes")
    assert [s.tab for s in lesson.steps] == ["GAN"] * 3 + ["VAE"] * 2 + ["Text"] * 2 + ["Training"]
    demo = build_app()
    for step in lesson.steps:
        tab, name = step.experiment.split(".", 1)
        picker = demo.genlab_controls[f"experiment.{tab}"]
        values = [choice[1] for choice in picker.choices]
        assert (name if tab == "training" else step.experiment) in values, step.experiment


@pytest.mark.parametrize("experiment", ['"vae.beta"', '"gan"', '"gan.Truncation"', "3", '"text.temperature"'])
def test_a_step_experiment_must_be_the_steps_own_tabs(experiment):
    text = 'title = "x"\ntabs = ["GAN", "Text"]\n[[steps]]\ntitle = "a"\ntab = "GAN"\ntext = "b"\n'
    text += f"experiment = {experiment}\n"
    with pytest.raises(LessonError, match="line 7: step 1's experiment must be named"):
        parse_lesson("bad", text)
    parse_lesson("good", text.replace(f"experiment = {experiment}", 'experiment = "gan.paths"'))
