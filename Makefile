# Two commands: `make demo` (set up, then run the demo) and `make test` (set up, then the tests).
# The set-up makes .venv and installs the CPU build of torch first, so that no dependency
# can pull a CUDA build onto a machine without a GPU.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION := 2.13.0
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench figures clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: setup
	$(BIN)/prunelab demo

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/ensemble.py

figures: setup
	rm -rf runs/figures
	$(BIN)/prunelab demo --out runs/figures
	mkdir -p docs/figures
	cp runs/figures/intrinsic_dimension/figures/prunability_vs_dimension.png \
	   runs/figures/three_regime/figures/phase_diagram.png docs/figures/
	cp runs/figures/gibbs_learning/figures/$$(ls runs/figures/gibbs_learning/figures | grep png | head -1) docs/figures/gibbs_learning.png

clean:
	rm -rf $(VENV) runs build *.egg-info
