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
EXTRAS_STUDIO := neural,mesh$(GPU)
EXTRAS_TEST   := neural,mesh,dev$(GPU)
# There, gsplat builds its CUDA kernels once at setup (a few minutes, the first time only)
# rather than in the studio's first frame, and says whether "auto" will render on the GPU.
CUDA_KERNELS  := $(if $(GPU),$(BIN)/python -m studio.render.cuda,true)
# numba compiles its kernels on first use (~30 s on 2 cores): do it at setup, not in the first world.
PRECOMPILE    := $(BIN)/python -m ui.precompile
ARGS   ?=

.PHONY: studio test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH)

$(VENV)/.studio-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[$(EXTRAS_STUDIO)]"
	$(CUDA_KERNELS)
	$(PRECOMPILE)
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[$(EXTRAS_TEST)]"
	$(CUDA_KERNELS)
	$(PRECOMPILE)
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

# bpy (headless Blender) wheels need Python 3.11 and numpy < 2, so Blender gets its own venv.
BLENDER_VENV := $(VENV)/blender
BPY := bpy==5.0.1

$(BLENDER_VENV)/bin/python:
	$(PYTHON) -m venv $(BLENDER_VENV)
	$(BLENDER_VENV)/bin/python -m pip install --quiet $(BPY) \
	  || (echo "bpy needs Python 3.11: set PYTHON=python3.11" >&2; rm -rf $(BLENDER_VENV); exit 1)

.PHONY: test-slow
## Install bpy (about 400 MB) and run the tests that import our exports into Blender.
test-slow: $(VENV)/.test-installed $(BLENDER_VENV)/bin/python
	TIDEPOOL_BLENDER_PYTHON=$(BLENDER_VENV)/bin/python $(BIN)/python -m pytest -m slow_blender tests/exporters $(ARGS)

bench: $(VENV)/.studio-installed
	$(BIN)/tidepool bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
