# Two commands do everything: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# `make run HOST=0.0.0.0 PORT=5050 LAB_PORT=8899`: only command-line values count (a PORT or HOST
# variable some other tool exported into the environment does not move the kit).
HOST = 127.0.0.1
PORT = 5000
LAB_PORT = 8888
INSTALL_LOG := $(VENV)/install.log

.PHONY: run demo test lint format stress bench clean

# Quiet install: the whole pip output goes to $(INSTALL_LOG); on failure its tail is shown.
$(STAMP): pyproject.toml
	@mkdir -p $(VENV)
	@printf 'Memasang lingkungan Python di %s (beberapa menit pada pemasangan pertama; catatan: %s) ... ' '$(VENV)' '$(INSTALL_LOG)'
	@{ test -x $(BIN)/python || $(PY) -m venv $(VENV); } >$(INSTALL_LOG) 2>&1 \
	  && $(BIN)/python -m pip install --upgrade pip >>$(INSTALL_LOG) 2>&1 \
	  && $(BIN)/python -m pip install -e '.[test]' >>$(INSTALL_LOG) 2>&1 \
	  || { echo 'GAGAL.'; echo 'Bagian akhir $(INSTALL_LOG):'; tail -n 25 $(INSTALL_LOG); exit 1; }
	@touch $(STAMP)
	@echo 'selesai.'

## Set up and start the quiz server (HOST:PORT, default 127.0.0.1:5000) and the learners' JupyterLab
## (127.0.0.1:LAB_PORT, default 8888); ends with a summary. No sample agencies (see `make demo`).
run: $(STAMP)
	@$(BIN)/netralitas up --host '$(HOST)' --port '$(PORT)' --lab-port '$(LAB_PORT)'

## The same, in demo mode: the ten sample agencies are loaded into an empty agency list.
demo: $(STAMP)
	@$(BIN)/netralitas up --demo --host '$(HOST)' --port '$(PORT)' --lab-port '$(LAB_PORT)'

## Set up, lint and run the whole test suite (four pytest workers on two cores: most tests wait on servers
## or browsers; worksteal keeps the long grading chain from finishing alone at the end).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# npm packages the tests drive: an OpenID provider (tests/server/test_oidc.py) and axe-core
	# (tests/browser/test_accessibility.py), each pinned by its package-lock.json.
	if command -v npm >/dev/null; then for d in tests/oidc tests/browser/axe; do npm ci --prefix $$d --silent --no-audit --no-fund || exit 1; done; fi
	$(BIN)/python -m pytest -n 4 --dist worksteal --durations=15

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
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
