"""transformers imported from two threads at once: the server's background load of SmolLM2 and a request that
needs SmolLM2's tokenizer (starting a LoRA run) used to collide, and the request failed with
"cannot import name 'PreTrainedTokenizerFast' from 'transformers'"."""

import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

RACE = """
import threading
from genmodels.registry import Registry
from genmodels.lora import load_tokenizer
from genmodels.text_models import TextModels

models = TextModels(Registry(device="cpu"), check_hub=False)

errors, barrier = [], threading.Barrier(2)

def run(job):
    barrier.wait()
    try:
        job()
    except Exception as error:
        errors.append(repr(error))

jobs = (lambda: models.load("smollm2-135m-instruct"), load_tokenizer)
threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("ERRORS", errors)
"""


def test_two_threads_loading_smollm_and_its_tokenizer_at_once_both_succeed():
    # a fresh interpreter, so both threads import transformers for the first time: without the lock this failed
    # 3 times in 3 here
    done = subprocess.run([sys.executable, "-c", RACE], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ERRORS []" in done.stdout, done.stdout[-2000:]


def test_names_returns_one_value_or_a_tuple():
    from genmodels.imports import names

    assert names("json", "dumps")({"a": 1}) == '{"a": 1}'
    loads, dumps = names("json", "loads", "dumps")
    assert loads(dumps([1])) == [1]
    with pytest.raises(AttributeError):
        names("json", "no_such_name")
