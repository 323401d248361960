# Two commands do everything: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format stress bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Set up and start the quiz server (127.0.0.1:5000) and JupyterLab (127.0.0.1:8888).
run: $(STAMP)
	$(BIN)/netralitas up

## Set up, lint and run the whole test suite (three pytest workers on two cores: most tests wait on servers).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 3

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Long reliability runs (crash rounds, fuzzing); prints its figures.
stress: $(STAMP)
	$(BIN)/python -m pytest -m stress -o addopts="-ra --strict-markers" -s tests

## Benchmarks; figures go to stdout and are recorded by hand in docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
