# salvosim — quick start: `make run`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/al_asad_drone_raid.toml

.PHONY: run test bench clean clean-cache

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,dist]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/salvosim run $(SCENARIO)

test: $(STAMP)
	$(BIN)/ruff check engine threats defenses bases salvosim tests bench
	$(BIN)/python -m pytest -q tests bench --benchmark-disable

bench: $(STAMP)
	$(BIN)/python -m pytest -q bench --benchmark-only --benchmark-columns=min,mean,stddev,rounds

# Numba's cache does not notice a change in a function another module inlined, nor in the LLVM
# passes of engine/jit.py: after editing njit code (engine/, threats/, defenses/, bases/) or
# engine/jit.py, drop the cache (CI always starts without one).
clean-cache:
	find engine threats defenses bases salvosim -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf $(VENV) .pytest_cache .benchmarks
