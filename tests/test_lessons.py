"""Lesson files: the shipped ones parse; malformed ones are refused naming the line; locks and caps hold."""

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
        ('title = "x"\ntabs = ["Diffusion"]\n', "line 2: tabs must be"),
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
