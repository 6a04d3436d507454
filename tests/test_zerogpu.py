"""On a Hugging Face ZeroGPU Space, handlers run inside `spaces.GPU`; elsewhere nothing changes.

The real `spaces` package only works on a Space, so a stand-in module with the same decorator is used."""

import functools
import inspect
import sys
import threading
import time
import types
import typing

import gradio as gr
import pytest

from demos.common import UserError, friendly


@pytest.fixture
def stand_in_spaces(monkeypatch):
    calls: list[str] = []
    module = types.ModuleType("spaces")

    def gpu(function):  # as spaces.GPU does: the same kind of callable, run "on the GPU"
        if inspect.isgeneratorfunction(function):

            @functools.wraps(function)
            def streaming(*args, **kwargs):
                calls.append(function.__name__)
                yield from function(*args, **kwargs)

            return streaming

        @functools.wraps(function)
        def plain(*args, **kwargs):
            calls.append(function.__name__)
            return function(*args, **kwargs)

        return plain

    module.GPU = gpu
    monkeypatch.setitem(sys.modules, "spaces", module)
    return calls


def double(x):
    return 2 * x


def count(n):
    yield from range(n)


def refuse(x):
    raise ValueError("x must be positive")


def test_handlers_run_inside_spaces_gpu_when_it_exists(stand_in_spaces):
    assert friendly(double)(None, 3) == 6  # Gradio passes the request first
    streaming = friendly(count)
    assert inspect.isgeneratorfunction(streaming), "Gradio must still see a generator"
    assert list(streaming(None, 3)) == [0, 1, 2]
    assert stand_in_spaces == ["double", "count"]
    with pytest.raises(UserError, match="x must be positive"):
        friendly(refuse)(None, 1)


def test_without_spaces_nothing_changes(monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # import spaces raises ImportError
    wrapped = friendly(double)
    assert wrapped(None, 4) == 8 and wrapped.__name__ == "double"


def test_the_app_builds_with_spaces_present(stand_in_spaces):
    from app import build_app
    from genmodels.registry import Registry
    from genmodels.text_models import TextModels

    registry = Registry(device="cpu")
    demo = build_app(registry, TextModels(registry, check_hub=False))
    sample = next(fn for fn in demo.fns.values() if fn.api_name == "gan_sample")
    sample.fn(None, "gan-mnist", 1, 4, "0-9 in turn", 1.0, False, 0, 0, 0, 0, 0)  # the request first
    assert "sample" in stand_in_spaces, "the GAN grid ran inside spaces.GPU"


def test_every_handler_runs_within_its_session_step_by_step():
    from genmodels.ownership import current_session

    class Request:
        session_hash = "abc123"

    def where():
        return current_session()

    def stream():
        yield current_session()
        yield current_session()

    handler = friendly(where)
    assert list(inspect.signature(handler).parameters) == ["request"]
    assert typing.get_type_hints(handler)["request"] is gr.Request  # so Gradio fills it in
    assert handler(Request()) == "abc123" and current_session() is None
    steps = friendly(stream)(Request())
    seen = [next(steps)]
    # Gradio may run each step of a stream on another thread: the session must hold there too.
    thread = threading.Thread(target=lambda: seen.append(next(steps)))
    thread.start()
    thread.join()
    assert seen == ["abc123", "abc123"]


def test_one_text_stream_at_a_time_per_session_and_other_sessions_unaffected():
    class Request:
        def __init__(self, session):
            self.session_hash = session

    def stream():
        yield "first"
        yield "second"

    handler = friendly(stream, kind="stream")
    running = handler(Request("page-1"))
    assert next(running) == "first"  # page 1's stream is in flight
    with pytest.raises(UserError, match="One text generation at a time"):
        next(handler(Request("page-1")))
    assert list(handler(Request("page-2"))) == ["first", "second"]  # another page is not held up
    assert list(running) == ["second"]  # page 1's stream ends normally...
    assert list(handler(Request("page-1"))) == ["first", "second"]  # ...and frees its slot

    release = threading.Event()
    blocked = friendly(lambda: release.wait(5))
    threads = [threading.Thread(target=blocked, args=(Request("page-3"),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    with pytest.raises(UserError, match="at most 2"):
        blocked(Request("page-3"))
    release.set()
    for thread in threads:
        thread.join()
    assert blocked(Request("page-3")) is True
