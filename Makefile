# Tidepool's two commands: `make studio` and `make test`. Each creates .venv on first use,
# installs torch pinned to 2.13.0 first (an unpinned torch pulls several GB of CUDA wheels),
# then the package with its extras.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
TORCH  := torch==2.13.0
# gsplat (the CUDA renderer) only where an NVIDIA driver is present.
GPU    := $(shell command -v nvidia-smi >/dev/null 2>&1 && echo ,gpu)
EXTRAS_STUDIO := neural$(GPU)
EXTRAS_TEST   := neural,dev$(GPU)
ARGS   ?=

.PHONY: studio test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH)

$(VENV)/.studio-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[$(EXTRAS_STUDIO)]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[$(EXTRAS_TEST)]"
	touch $@ $(VENV)/.studio-installed

## Set up and start the studio on http://127.0.0.1:7860 (pass flags with ARGS="--port 8000").
studio: $(VENV)/.studio-installed
	$(BIN)/tidepool studio $(ARGS)

## Set up (with dev tools) and run lint, format check and the whole test suite.
test: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.studio-installed
	$(BIN)/tidepool bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
