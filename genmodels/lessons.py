"""Lessons: one small TOML file in lessons/ sets up GenLab for a class.

    title = "GANs in 45 minutes"
    language = "en"                       # or "zh-CN"
    tabs = ["GAN", "Training"]            # the tabs shown, in this order
    [settings]                            # starting values of controls (see CONTROLS)
    "gan.model" = "gan-mnist"
    [locks]                               # controls the class cannot change (their value is the setting above)
    controls = ["gan.model"]
    [caps]                                # upper bounds, held on the server
    "gan.grid" = 16
    [[steps]]                             # the walkthrough, shown one step at a time
    title = "Meet the generator"
    tab = "GAN"
    text = "Press Generate ..."
    experiment = "gan.truncation"         # optional: the tab's one-click experiment this step opens

`?lesson=NAME` opens lessons/NAME.toml for one page; GENLAB_LESSON=NAME makes it every request's lesson (a Space).
A malformed file is refused with a message naming the file and line; the app then runs without it.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .checkpoints import PROJECT_ROOT

LESSONS_DIR = PROJECT_ROOT / "lessons"
TABS = ("GAN", "VAE", "Diffusion", "Text", "Training")
LANGUAGES = ("en", "zh-CN")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
# Controls a lesson may set, lock or cap: name -> (kind, what the class sees it as).
CONTROLS = {
    "gan.model": (str, "the GAN model"),
    "gan.grid": (int, "the GAN grid size"),
    "gan.psi": (float, "the truncation ψ"),
    "gan.frames": (int, "the interpolation frames"),
    "vae.model": (str, "the VAE model"),
    "diffusion.model": (str, "the diffusion model"),
    "diffusion.grid": (int, "the diffusion grid size"),
    "diffusion.steps": (int, "the sampling steps"),
    "text.model": (str, "the language model"),
    "text.tokens": (int, "the new tokens per generation"),
    "text.temperature": (float, "the temperature"),
    "training.family": (str, "the model family to train"),
    "training.steps": (int, "the training steps"),
}
CAPPABLE = ("gan.grid", "gan.frames", "diffusion.grid", "diffusion.steps", "text.tokens", "training.steps")


EXPERIMENT_PATTERN = re.compile(r"^(gan|vae|diffusion|text|training)\.[a-z_]+$")


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and, where it can, the line."""


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    tab: str | None = None
    experiment: str | None = None  # "gan.truncation": the tab's one-click experiment this step runs


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    language: str = "en"
    tabs: tuple[str, ...] = TABS
    settings: dict = field(default_factory=dict)
    locks: frozenset = frozenset()
    caps: dict = field(default_factory=dict)
    steps: tuple[Step, ...] = ()

    def check(self, control: str, value) -> None:
        """Raise LessonLocked when `value` for `control` is outside this lesson's lock or cap."""
        what = CONTROLS[control][1]
        if control in self.locks and value != self.settings.get(control):
            raise LessonLocked(
                f"This lesson ({self.title}) locks {what} to {self.settings.get(control)!r} (lock: {control})."
            )
        cap = self.caps.get(control)
        if cap is not None and isinstance(value, (int, float)) and value > cap:
            raise LessonLocked(f"This lesson ({self.title}) allows {what} up to {cap} (cap: {control}).")


class LessonLocked(ValueError):
    """A request outside the lesson's locks or caps."""


def _line_of(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf'^\s*"?{re.escape(key)}"?\s*=', line) or line.strip() in (f"[{key}]", f"[[{key}]]"):
            return number
    return None


def parse_lesson(name: str, text: str) -> Lesson:
    """A Lesson from a file's text, or LessonError naming the problem and its line."""
    where = f"lessons/{name}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LessonError(f"{where}: not valid TOML ({error})") from None

    def fail(message: str, key: str) -> LessonError:
        line = _line_of(text, key)
        return LessonError(f"{where}{f', line {line}' if line else ''}: {message}")

    known = {"title", "language", "tabs", "settings", "locks", "caps", "steps"}
    for key in data:
        if key not in known:
            raise fail(f"unknown key {key!r} (expected {', '.join(sorted(known))})", key)
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail("a lesson needs a title", "title")
    language = data.get("language", "en")
    if language not in LANGUAGES:
        raise fail(f"language must be one of {', '.join(LANGUAGES)}", "language")
    tabs = data.get("tabs", list(TABS))
    if not isinstance(tabs, list) or not tabs or any(tab not in TABS for tab in tabs):
        raise fail(f"tabs must be a list of {', '.join(TABS)}", "tabs")
    settings = data.get("settings", {})
    for control, value in settings.items():
        if control not in CONTROLS:
            raise fail(f"unknown control {control!r} (known: {', '.join(CONTROLS)})", control)
        kind = CONTROLS[control][0]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        fits = isinstance(value, str) if kind is str else number and (kind is float or isinstance(value, int))
        if not fits:
            raise fail(f"{control} must be {'text' if kind is str else 'a ' + kind.__name__}", control)
    locks = data.get("locks", {}).get("controls", [])
    for control in locks:
        if control not in settings:
            raise fail(f"the lock on {control!r} needs its value in [settings]", "controls")
    caps = data.get("caps", {})
    for control, cap in caps.items():
        if control not in CAPPABLE or not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
            raise fail(f"caps are positive whole numbers for {', '.join(CAPPABLE)}", control)
    steps = []
    for index, step in enumerate(data.get("steps", [])):
        if (
            not isinstance(step, dict)
            or not isinstance(step.get("title"), str)
            or not isinstance(step.get("text"), str)
        ):
            raise fail(f"step {index + 1} needs a title and a text", "steps")
        if step.get("tab") is not None and step["tab"] not in tabs:
            raise fail(f"step {index + 1}'s tab {step['tab']!r} is not among the lesson's tabs", "steps")
        experiment = step.get("experiment")
        if experiment is not None and (
            not isinstance(experiment, str)
            or not EXPERIMENT_PATTERN.match(experiment)
            or experiment.split(".")[0] != str(step.get("tab", "")).lower()
        ):
            raise fail(f"step {index + 1}'s experiment must be named <tab>.<name>, in the step's tab", "experiment")
        steps.append(Step(step["title"], step["text"], step.get("tab"), experiment))
    return Lesson(
        name=name,
        title=title.strip(),
        language=language,
        tabs=tuple(tabs),
        settings=dict(settings),
        locks=frozenset(locks),
        caps=dict(caps),
        steps=tuple(steps),
    )


def load_lesson(name: str, folder: Path = LESSONS_DIR) -> Lesson:
    """lessons/NAME.toml; only names of letters, digits and dashes, only from the lessons folder."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise LessonError(f"{str(name)[:60]!r} is not a lesson name (lowercase letters, digits and dashes)")
    path = Path(folder) / f"{name}.toml"
    if not path.is_file():
        available = ", ".join(available_lessons(folder)) or "none"
        raise LessonError(f"there is no lesson called {name!r} (available: {available})")
    return parse_lesson(name, path.read_text(encoding="utf-8"))


def available_lessons(folder: Path = LESSONS_DIR) -> list[str]:
    return sorted(p.stem for p in Path(folder).glob("*.toml") if NAME_PATTERN.match(p.stem))


def default_lesson(folder: Path = LESSONS_DIR) -> tuple[Lesson | None, str | None]:
    """GENLAB_LESSON's lesson, or None; and the problem when it is set but cannot be used."""
    name = os.environ.get("GENLAB_LESSON", "").strip()
    if not name:
        return None, None
    try:
        return load_lesson(name, folder), None
    except LessonError as error:
        return None, str(error)
