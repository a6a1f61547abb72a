# `make demo` and `make test` work on a fresh clone: they create .venv and
# install what they need first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/chainrule demo

# One BLAS thread: the suite's many small matrix products run faster without
# thread hand-offs, and results do not depend on the thread count.
# ruff (88 columns, pyflakes) and the line-count report run first.
test: $(STAMP)
	$(BIN)/ruff check chainrule tests benchmarks examples tools
	$(BIN)/python tools/line_count.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest tests

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this workplace's machines
# to protect old OpenBLAS builds; they slow a current NumPy, so the benchmark
# runs without them (the kernel in use is printed).
bench: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
