# One-line entry points; each target sets up its own environment in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_CPU := torch==2.13.0

.PHONY: venv demo test lint bench bench-gpu docs docs-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is installed first as the CPU build; `torch>=2.2` in pyproject is then already met.
# The demo needs sknets alone; the tests, lint and benchmarks need the dev extra.
$(VENV)/.installed-demo: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "$(TORCH_CPU)"
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed: $(VENV)/.installed-demo
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed-demo
	$(BIN)/sknets demo

lint: venv
	$(BIN)/ruff check sknets tests examples benchmarks
	$(BIN)/ruff format --check sknets tests examples benchmarks

# Tests, plus the doctests of the package docstrings and of the docs' pages.
test: venv lint
	$(BIN)/python -m pytest -n 2 -q --doctest-modules --doctest-glob='*.rst' sknets tests docs

bench: venv
	$(BIN)/python benchmarks/bench_mlp.py
	$(BIN)/python benchmarks/bench_regressor.py
	$(BIN)/python benchmarks/bench_cnn.py
	$(BIN)/python benchmarks/bench_rnn.py
	$(BIN)/python benchmarks/bench_tuning.py
	$(BIN)/python benchmarks/bench_inference.py
	$(BIN)/python benchmarks/bench_convergence.py
	$(BIN)/python benchmarks/bench_sparse.py
	$(BIN)/python benchmarks/bench_memory.py

# sknets against a hand-written CUDA loop; on a machine without a CUDA GPU it says so and
# measures nothing (`python benchmarks/bench_gpu.py --device cpu --quick` is its smoke run).
bench-gpu: venv
	$(BIN)/python benchmarks/bench_gpu.py

$(VENV)/.installed-docs: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev,docs]"
	touch $@

# HTML docs with the executed example gallery; warnings are errors.
docs: $(VENV)/.installed-docs
	$(BIN)/python -m sphinx -W --keep-going -n -b html docs docs/_build/html

# Serve the built site on loopback and check it in headless Chromium (screenshots in docs/_build/screenshots).
docs-check: docs
	$(BIN)/python docs/check_site.py docs/_build/html

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
