# SPDX-License-Identifier: GPL-2.0-only
# The two commands a newcomer needs:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: demo test test-all install bench clean

$(VENV)/.installed: pyproject.toml CMakeLists.txt $(shell find cpp -type f) 
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# Build requirements first, then build without isolation: the 300 MB ns3 wheel is then
	# installed once, not once more in a throwaway build environment.
	$(PIP) install --quiet "scikit-build-core>=0.10" "pybind11>=2.12" "ns3==3.44.post0"
	# The CPU build of PyTorch, before anything that depends on torch can pull the CUDA one.
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet --no-build-isolation -e ".[test]"
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest -q

test-all: install
	$(PY) -m pytest -q -m ""

demo: install
	$(PY) -m experiments.demo

bench: install
	$(PY) experiments/bench_bridge.py
	$(PY) experiments/bench_overhead.py
	$(PY) experiments/bench_synnet.py

clean:
	rm -rf build $(VENV) .pytest_cache
