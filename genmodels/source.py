"""The code that runs: the source of GenLab's own functions, read from their files when asked, so what a Learn
panel shows is always what the server executes."""

import inspect
import textwrap


def source_of(function) -> str:
    """The source text of a function or method (dedented), with its docstring kept: it says what the code does."""
    function = inspect.unwrap(function)
    return textwrap.dedent(inspect.getsource(function)).rstrip() + "\n"


def where(function) -> str:
    """'genmodels/vae.py:73': where a function lives (file and line), for the reader who wants to open it."""
    function = inspect.unwrap(function)
    module = inspect.getmodule(function).__name__.replace(".", "/") + ".py"
    return f"{module}:{inspect.getsourcelines(function)[1]}"
