# `make demo` and `make test` work on a fresh clone: they create .venv and
# install what they need first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the demo needs chainrule and its extras only; the tests add the
# PyTorch oracle (about 1 GB), so `make demo` never downloads it.
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(DEMO_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(TEST_STAMP) $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/chainrule demo

# One BLAS thread: the suite's many small matrix products run faster without
# thread hand-offs, and results do not depend on the thread count.
test: $(TEST_STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest tests

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this workplace's machines
# to protect old OpenBLAS builds; they slow a current NumPy, so the benchmark
# runs without them (the kernel in use is printed).
bench: $(TEST_STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
