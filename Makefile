# salvosim — quick start: `make run`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/al_asad_drone_raid.toml

.PHONY: run test bench guard clean clean-cache

# Bytecode of the package's sources, written before every run: Python writes it itself on a
# first import unless PYTHONDONTWRITEBYTECODE is set (as on this project's CI machines), and
# then every `salvosim` process compiled some 6,000 lines again: about 0.1 s of a warm run.
# compileall skips the files whose bytecode is up to date (about 0.07 s).
PYC = $(BIN)/python -m compileall -q engine threats defenses bases salvosim

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,dist]'
	touch $(STAMP)

run: $(STAMP)
	@$(PYC)
	$(BIN)/salvosim run $(SCENARIO)

test: $(STAMP)
	@$(PYC)
	$(BIN)/ruff check engine threats defenses bases salvosim tests bench
	$(BIN)/python -m pytest -q tests bench --benchmark-disable

bench: $(STAMP)
	@$(PYC)
	$(BIN)/python -m pytest -q bench --benchmark-only --benchmark-columns=min,mean,stddev,rounds

# The speed guard alone (CI runs it after `make test`, whose compile it reuses): the flagship's
# rate normalized by a calibration loop, failing more than 30 % below bench/baseline.json.
guard: $(STAMP)
	@$(PYC)
	$(BIN)/python -m bench.guard

# Numba's cache does not notice a change in a function another module inlined, nor in the LLVM
# passes of engine/jit.py: after editing njit code (engine/, threats/, defenses/, bases/) or
# engine/jit.py, drop the cache (CI always starts without one).
clean-cache:
	find engine threats defenses bases salvosim -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf $(VENV) .pytest_cache .benchmarks
