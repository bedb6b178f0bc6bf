# One-line entry points; each target sets up its own environment in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_CPU := torch==2.13.0

.PHONY: venv demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is installed first as the CPU build; `torch>=2.2` in pyproject is then already met.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "$(TORCH_CPU)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(BIN)/sknets demo

lint: venv
	$(BIN)/ruff check sknets tests examples benchmarks
	$(BIN)/ruff format --check sknets tests examples benchmarks

test: venv lint
	$(BIN)/python -m pytest -n 2 -q

bench: venv
	$(BIN)/python benchmarks/bench_mlp.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
