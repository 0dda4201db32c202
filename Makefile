# Two set-up-and-go targets: `make demo` and `make test` create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz mutate lint format bench completions clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[deep,dev,serve,spark]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mktai demo

test: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -n 2 --dist loadfile -q

# Longer, randomised property-based run (new examples every time; not part of `make test`).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz MKTAI_FUZZ_EXAMPLES=1000 $(BIN)/python -m pytest -n 2 -q \
		tests/test_data_fuzz.py tests/test_store.py

# Mutation testing (mutmut) of the contract modules configured in pyproject.toml [tool.mutmut].
# MODULE=mktai/store/integrity.py mutates one file with the tests listed for it in
# tests/mutation/mutate.py (TESTS='tests/a.py tests/b.py' replaces them); MUTANTS='mktai.store.x_*' limits
# the mutants. Runs under nice -n 19 and stops after MUTATE_TIMEOUT (what was checked by then is
# reported). Slow: not part of `make test`.
MODULE ?=
MUTANTS ?=
TESTS ?=
MUTATE_TIMEOUT ?= 2h
mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutate]'
	rm -rf mutants
	MKTAI_THREADS=1 nice -n 19 timeout -k 30s $(MUTATE_TIMEOUT) $(if $(MODULE),\
		$(BIN)/python tests/mutation/mutate.py $(MODULE) $(MUTANTS) $(if $(TESTS),-- $(TESTS)),\
		$(BIN)/mutmut run $(MUTANTS)) || true
	$(BIN)/python tests/mutation/mutation_report.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

completions: $(STAMP)
	$(BIN)/python -m mktai.cli.completions completions

clean:
	rm -rf $(VENV) build *.egg-info
