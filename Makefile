# Set-up and checks on a fresh machine: `make run` opens the app, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-core test-ui venv clean

# (Re)install when pyproject.toml changes. torch/torchvision are pinned to the wheels on this
# machine's disk (pyproject's ranges admit them), so pip does not download a newer CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.14.1" "torchvision==0.29.1"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/genstudio

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

test-core: $(STAMP)
	$(BIN)/python -m pytest -q tests/core

clean:
	rm -rf build dist .pytest_cache
