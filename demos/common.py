"""Boundary helpers shared by the tabs: argument checking, notices, friendly errors, output files.

The API bypasses every widget bound, so each handler passes its arguments through these first.
"""

import collections
import contextlib
import functools
import inspect
import logging
import math
import os
import tempfile
import threading
import time
import unicodedata
import uuid
from pathlib import Path

import gradio as gr
import numpy as np

from genmodels.lessons import Lesson, LessonLocked, default_lesson
from genmodels.ownership import current_session, session_scope

from .i18n import english, language_of, language_scope, tr, translate_message
from .locales import ZH

log = logging.getLogger("genlab")
OUTPUT_DIR = Path(tempfile.mkdtemp(prefix="genlab-outputs-"))
OUTPUT_MAX_AGE_SECONDS = 900


class UserError(gr.Error):
    """A message for the person (or API client) who sent bad input; not a server fault, so no traceback logged."""

    def __init__(self, message: str):
        super().__init__(message, print_exception=False)


class Notices(list):
    """Messages about values that were adjusted; shown as a toast and in the result's info text."""

    def add(self, message: str) -> None:
        self.append(message)
        gr.Warning(message)

    def markdown(self) -> str:
        return "".join(f"⚠️ {message}\n\n" for message in self)


def clean_text(value, name: str, notices: Notices, max_characters: int, keep: str = "end") -> str:
    """Every text that enters (prompt, continuation, training text, run name) passes here first.

    Lone surrogates (a raw API call can send them; the tokenizers cannot take them) become U+FFFD and then go with
    the other invalid, control, format and bidirectional-override characters; newlines and tabs stay. Text over
    max_characters keeps its `keep` end ("end": a prompt's last part matters; "start": a training text's first).
    """
    if not isinstance(value, str):
        raise UserError(tr("{name} must be text.", name=tr(name)))
    text = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if value else value
    kept = "".join(c for c in text if c in "\n\t" or (c != "\ufffd" and unicodedata.category(c)[0] != "C"))
    if len(kept) != len(value):
        notices.add(
            tr(
                "Removed {count:,} control or invalid characters from {name}.",
                count=len(value) - len(kept),
                name=tr(name).lower(),
            )
        )
    if len(kept) > max_characters:
        template = (
            "{name} has {count:,} characters; using its last {limit:,}."
            if keep == "end"
            else "{name} has {count:,} characters; using its first {limit:,}."
        )
        notices.add(tr(template, name=tr(name), count=len(kept), limit=max_characters))
        kept = kept[-max_characters:] if keep == "end" else kept[:max_characters]
    return kept


def _as_number(value, name: str) -> float:
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise UserError(tr("{name} must be a number, not {value}.", name=tr(name), value=type(value).__name__))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(
            tr("{name} must be a number, not {value}.", name=tr(name), value=repr(str(value)[:40]))
        ) from None
    if not math.isfinite(number):
        raise UserError(tr("{name} must be a finite number, not {value}.", name=tr(name), value=value))
    return number


def number(value, name: str, low: float, high: float, notices: Notices) -> float:
    """A finite float, clamped into [low, high] with a notice when outside."""
    result = _as_number(value, name)
    if not low <= result <= high:
        clamped = min(max(result, low), high)
        notices.add(
            tr(
                "{name} {value} is outside {low} to {high}; using {clamped}.",
                name=tr(name),
                value=f"{result:g}",
                low=f"{low:g}",
                high=f"{high:g}",
                clamped=f"{clamped:g}",
            )
        )
        result = clamped
    return result


def integer(value, name: str, low: int, high: int, notices: Notices) -> int:
    """A whole number, clamped into [low, high] with a notice when outside."""
    result = _as_number(value, name)
    if result != int(result):
        notices.add(
            tr(
                "{name} must be a whole number; rounding {value} to {rounded}.",
                name=tr(name),
                value=f"{result:g}",
                rounded=round(result),
            )
        )
    result = round(result)
    if not low <= result <= high:
        clamped = min(max(result, low), high)
        shown = f"{result:,}" if abs(result) < 10**15 else f"{result:.3g}"
        notices.add(
            tr(
                "{name} {value} is outside {low} to {high}; using {clamped}.",
                name=tr(name),
                value=shown,
                low=f"{low:,}",
                high=f"{high:,}",
                clamped=f"{clamped:,}",
            )
        )
        result = clamped
    return int(result)


def flag(value, name: str) -> bool:
    """A true/false value, or a clear error."""
    if not isinstance(value, bool):
        raise UserError(tr("{name} must be true or false.", name=tr(name)))
    return value


def choice(value, name: str, options: list[str], labels: dict[str, str] | None = None) -> str:
    """One of `options`, or a clear error.

    A choice shown under a translated label may come back as that label (Gradio sends a dropdown's display text
    after the page switches language): a label in either language is taken for its option. `labels` maps each
    option to its label's catalogue key (default: the option itself)."""
    if isinstance(value, str) and value not in options:
        for option, key in (labels or {option: option for option in options}).items():
            if value in (english(key), ZH.get(key)):
                value = option
                break
    if not isinstance(value, str) or value not in options:
        raise UserError(tr("{name} must be one of: {options}.", name=tr(name), options=", ".join(options)))
    return value


_LOGGED_FAILURES: set[tuple[str, str]] = set()


def gpu_scope(function):
    """On a Hugging Face ZeroGPU Space (the `spaces` package is importable), run function inside `spaces.GPU`.

    ZeroGPU lends a GPU only inside such a call; anywhere else `spaces` is absent and function is unchanged.
    """
    try:
        import spaces
    except ImportError:
        return function
    return spaces.GPU(function)


# Quick requests never wait behind slow ones: each kind of work has its own queue and slots (Gradio's concurrency
# groups). Picture models answer in milliseconds; a text stream holds its slot for seconds; training runs in its own
# process, outside these queues.
IMAGES = {"concurrency_id": "images", "concurrency_limit": 2}
TEXT = {"concurrency_id": "text", "concurrency_limit": 2}
# Requests one page (or API client) may have running at once, per kind; beyond it a clean "one at a time" error.
IN_FLIGHT_PER_SESSION = {"request": 2, "stream": 1}
_in_flight: dict[tuple[str, str], int] = {}
_in_flight_lock = threading.Lock()


@contextlib.contextmanager
def one_at_a_time(session: str | None, kind: str):
    """Count a request of `kind` in flight for `session`; refuse it when the session already has its share.

    Kind "page" (the handlers a page runs by itself when it opens) is not counted: a page fires a fixed handful of
    them at once, and refusing one would leave a tab half drawn."""
    if session is None or kind not in IN_FLIGHT_PER_SESSION:
        yield
        return
    key, limit = (session, kind), IN_FLIGHT_PER_SESSION[kind]
    with _in_flight_lock:
        if _in_flight.get(key, 0) >= limit:
            if limit == 1 and kind == "stream":
                message = tr(
                    "One text generation at a time per page: your previous one is still running. "
                    "Wait for it (or stop it)."
                )
            elif limit == 1:
                message = tr("One request at a time per page: your previous one is still running. Wait for it.")
            else:
                message = tr(
                    "Too many requests at once from this page (at most {limit}); wait for one to finish.", limit=limit
                )
            raise UserError(message)
        _in_flight[key] = _in_flight.get(key, 0) + 1
    try:
        yield
    finally:
        with _in_flight_lock:
            _in_flight[key] -= 1
            if not _in_flight[key]:
                del _in_flight[key]


def friendly(function, kind: str = "request"):
    """Turn ValueErrors from genmodels into messages, and anything unexpected into a short apology.

    Works for plain handlers and for generator handlers (streaming), which must stay generators for Gradio.
    Each runs within its session (see _takes_request), counted against the session's requests in flight of its
    `kind` ("request", or "stream" for text streams). On a ZeroGPU Space it runs inside `spaces.GPU`.
    """

    def translate(error: Exception) -> gr.Error:
        if isinstance(error, gr.Error):
            return error
        if isinstance(error, ValueError):
            return UserError(translate_message(str(error)[:300]))
        # The last guard: its traceback is logged the first time a handler fails this way, one line after that.
        key = (function.__qualname__, type(error).__name__)
        first = key not in _LOGGED_FAILURES
        _LOGGED_FAILURES.add(key)
        log.error(
            "handler %s failed: %s: %s",
            function.__name__,
            type(error).__name__,
            str(error)[:200],
            exc_info=error if first else None,
        )
        return gr.Error(tr("Something went wrong on the server; the error was logged. Please try again."))

    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def streaming(request, *args, **kwargs):
            session, language = session_of(request), language_of(request)
            try:
                with language_scope(language), one_at_a_time(session, kind):
                    with session_scope(session):  # each step may run on another worker thread: scope every one
                        steps = function(*args, **kwargs)
                    while True:
                        with session_scope(session), language_scope(language):
                            try:
                                update = next(steps)
                            except StopIteration:
                                return
                        yield update
            except Exception as error:
                with language_scope(language):
                    raise translate(error) from None

        return gpu_scope(_takes_request(streaming, function))

    @functools.wraps(function)
    def wrapper(request, *args, **kwargs):
        session, language = session_of(request), language_of(request)
        try:
            with language_scope(language), one_at_a_time(session, kind), session_scope(session):
                return function(*args, **kwargs)
        except Exception as error:
            with language_scope(language):  # genmodels' messages are translated here, in the request's language
                raise translate(error) from None

    return gpu_scope(_takes_request(wrapper, function))


# Lessons (genmodels.lessons): GENLAB_LESSON's is every request's; a page opened with ?lesson=NAME has its own.
DEFAULT_LESSON, DEFAULT_LESSON_PROBLEM = default_lesson()
if DEFAULT_LESSON_PROBLEM:
    log.error("GENLAB_LESSON cannot be used, so GenLab runs without a lesson: %s", DEFAULT_LESSON_PROBLEM)
_SESSION_LESSONS: "collections.OrderedDict[str, Lesson]" = collections.OrderedDict()
_SESSIONS_KEPT = 5000


def set_session_lesson(session: str | None, lesson: Lesson | None) -> None:
    if session is None:
        return
    with _in_flight_lock:
        if lesson is None:
            _SESSION_LESSONS.pop(session, None)
        else:
            _SESSION_LESSONS[session] = lesson
            while len(_SESSION_LESSONS) > _SESSIONS_KEPT:
                _SESSION_LESSONS.popitem(last=False)


def lesson_of(session: str | None) -> Lesson | None:
    """The lesson a request runs under: its page's ?lesson=, else GENLAB_LESSON's, else none."""
    with _in_flight_lock:
        lesson = _SESSION_LESSONS.get(session) if session else None
    return lesson or DEFAULT_LESSON


def within_lesson(control: str, value) -> None:
    """Refuse a value outside the current request's lesson (its lock or cap), naming the lock."""
    lesson = lesson_of(current_session())
    if lesson is not None:
        try:
            lesson.check(control, value)
        except LessonLocked as error:
            raise UserError(translate_message(str(error))) from None


def register(demo: gr.Blocks, controls: dict) -> None:
    """Name a tab's controls for lessons (`tab.NAME` for the tab itself; see genmodels.lessons.CONTROLS)."""
    if not hasattr(demo, "genlab_controls"):
        demo.genlab_controls = {}
    demo.genlab_controls.update(controls)


def session_of(request) -> str | None:
    """The browser session (one page, or one API client) a request comes from."""
    return getattr(request, "session_hash", None) or None


def _takes_request(wrapper, function):
    """Give wrapper function's signature plus a leading gr.Request, which Gradio then fills in.

    Every handler runs within its session (genmodels.ownership.session_scope): models are listed and loaded for it.
    """
    signature = inspect.signature(function)
    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request)
    wrapper.__signature__ = signature.replace(parameters=[request, *signature.parameters.values()])
    wrapper.__annotations__ = {**getattr(function, "__annotations__", {}), "request": gr.Request}
    del wrapper.__wrapped__  # Gradio must read the signature above, not the wrapped function's
    return wrapper


def with_session(function):
    """For plain handlers that are not `friendly` (page-load refreshes): run function within its session."""

    def wrapper(request: gr.Request, *args):
        with session_scope(session_of(request)), language_scope(language_of(request)):
            return function(*args)

    return wrapper


def output_path(suffix: str) -> Path:
    """A fresh file path for a download (never reused, so concurrent users never share one); old files go."""
    cutoff = time.time() - OUTPUT_MAX_AGE_SECONDS
    for old in OUTPUT_DIR.glob("*"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    handle, name = tempfile.mkstemp(suffix=suffix, dir=OUTPUT_DIR)
    os.close(handle)
    return Path(name)


_ALT_TEXTS: "collections.OrderedDict[str, str]" = collections.OrderedDict()
_ALT_TEXTS_KEPT = 5000


def described(path: str | None, alt_text: str) -> str | None:
    """A picture file for a gr.Image output, with the alt text a screen reader will speak for it.

    The handler returns the plain file (what API clients get); the page then asks `fill_alt_texts` for the text,
    found by the file's unique name.
    """
    if path is not None:
        with _in_flight_lock:
            _ALT_TEXTS[Path(path).name] = alt_text
            while len(_ALT_TEXTS) > _ALT_TEXTS_KEPT:
                _ALT_TEXTS.popitem(last=False)
    return path


def fill_alt_texts(*pictures):
    """Page-only follow-up of an event that shows pictures: each gr.Image gets the alt text of the file it shows."""
    updates = []
    for picture in pictures:
        name = None
        if isinstance(picture, dict):
            name = picture.get("orig_name") or Path(str(picture.get("path") or "")).name
        with _in_flight_lock:
            text = _ALT_TEXTS.get(name) if name else None
        updates.append(gr.update(alt_text=text) if text else gr.update())
    return updates[0] if len(updates) == 1 else updates


def then_describe(event, *pictures) -> None:
    """After `event`, give `pictures` (gr.Image outputs filled through `described`) their alt texts."""
    event.then(fill_alt_texts, list(pictures), list(pictures), api_visibility="private", preprocess=False, queue=False)


def picture_file(array) -> str:
    """An RGB or greyscale uint8 array saved as a PNG under a fresh name, with bytes unique to this request.

    Gradio caches output files by content: two identical pictures written at once would share one file, rewritten
    in place while the other client downloads it. A per-file text chunk keeps every result separate.
    """
    from PIL import Image, PngImagePlugin

    metadata = PngImagePlugin.PngInfo()
    metadata.add_text("genlab", uuid.uuid4().hex)
    path = output_path(".png")
    grey = array.ndim == 3 and all(np.array_equal(array[..., 0], array[..., c]) for c in range(1, array.shape[2]))
    if grey:
        array = array[..., 0]  # grey pictures (most grids) as one channel: a third of the bytes to compress
    # Level 3 compresses about twice as fast as the default 6, for files a quarter larger.
    Image.fromarray(array).save(path, pnginfo=metadata, compress_level=3)
    return str(path)


def judge_description(registry, what: str, images, value_range: tuple[float, float] = (-1.0, 1.0)) -> str:
    """Alt text for a picture of digits: `what`, and what the judge classifier reads in each, in reading order.

    images: (N, 1, 28, 28) in value_range. Without the judge (no mnist-classifier), `what` alone.
    """
    from genmodels.metrics import describe_digits, judge_reads

    if "mnist-classifier" not in registry.names("classifier"):
        return what
    low, high = value_range
    scaled = (images - low) / (high - low) * 2 - 1  # the judge reads [-1, 1]
    text = describe_digits(what, judge_reads(registry.load("mnist-classifier", "classifier"), scaled))
    return translate_message(text)


def plot_titles(demo: gr.Blocks, plot, x: str, y: str, color: str | None = None) -> None:
    """Axis and legend titles in the page's language (Gradio's I18n does not reach a plot's titles): set when the
    page loads, from the request's language."""

    def titles():
        change = {"x_title": tr(x), "y_title": tr(y)}
        if color is not None:
            change["color_title"] = tr(color)
        return gr.update(**change)

    demo.load(with_session(titles), None, plot, api_visibility="private", queue=False)


def diversity_meter(registry, images):
    """The diversity meter of generated digits (N, 1, 28, 28) in [-1, 1]: the judge's class histogram beside real
    held-out digits' (with as many images), the entropy and the Inception score. (bar table, Markdown)."""
    import pandas as pd

    from genmodels.data import DatasetUnavailable, held_out_digits, to_signed
    from genmodels.metrics import classify, diversity

    if images is None or "mnist-classifier" not in registry.names("classifier"):
        return pd.DataFrame(columns=["digit", "share", "images"]), tr("The diversity meter needs the judge.")
    count = len(images)
    judge = registry.load("mnist-classifier", "classifier")
    meter = diversity(classify(judge, images)[0])
    shares = [(str(d), v, tr("these samples")) for d, v in enumerate(meter["histogram"])]
    try:
        real = diversity(classify(judge, to_signed(held_out_digits().images[:count]))[0])
    except DatasetUnavailable:  # no digits here to compare with: the meter alone
        text = tr(
            "**Diversity meter** ({count} samples): class entropy **{entropy:.2f}** bits of 3.32 · Inception "
            "score **{score:.2f}**.",
            count=count,
            entropy=meter["entropy_bits"],
            score=meter["inception_score"],
        )
        return pd.DataFrame(shares, columns=["digit", "share", "images"]), text
    shares += [(str(d), v, tr("real digits")) for d, v in enumerate(real["histogram"])]
    text = tr(
        "**Diversity meter** ({count} samples): class entropy **{entropy:.2f}** bits of 3.32 · Inception score "
        "**{score:.2f}**, {percent:.0%} of real held-out digits' {real:.2f} with as many images.",
        count=count,
        entropy=meter["entropy_bits"],
        score=meter["inception_score"],
        percent=meter["inception_score"] / real["inception_score"],
        real=real["inception_score"],
    )
    return pd.DataFrame(shares, columns=["digit", "share", "images"]), text


def held_out_digit(index, notices: Notices):
    """The held-out MNIST digits and the checked position of one (a clear message where the digits are missing)."""
    from genmodels.data import DatasetUnavailable, held_out_digits

    try:
        digits = held_out_digits()
    except DatasetUnavailable:
        raise UserError(tr("The MNIST digits are not available on this server.")) from None
    return digits, integer(index, "Held-out digit", 0, len(digits.labels) - 1, notices)
