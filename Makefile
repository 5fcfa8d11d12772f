# `make run`: the API and the page on http://localhost:8080 with the bundled model.
# `make test`: every test. Both set up .venv (pinned, CPU torch) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
HOST ?= 127.0.0.1
# Debian packages the tests drive: a browser, a Korean font for its screenshots, shellcheck;
# and the load generator the benchmark drives.
SYSTEM_PACKAGES := chromium fonts-noto-cjk shellcheck
BENCH_PACKAGES := wrk
PACKAGES = $(SYSTEM_PACKAGES)

.PHONY: run lint test system-deps train bench mutation clean engines

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	# The model core (src/soundness), installed editable: training, tests and the function share it.
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	@echo "Serving the API and the page on http://localhost:$(PORT)"
	$(BIN)/functions-framework --asgi --source function/main.py --target predict --host $(HOST) --port $(PORT)

system-deps:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "not root or no apt-get: what needs$$missing will skip or stop"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint system-deps
	$(BIN)/python -m pytest

train: $(STAMP)
	$(BIN)/python -m training.train --out artifacts/default --report training/report

bench: PACKAGES = $(BENCH_PACKAGES)
bench: $(STAMP) system-deps
	$(BIN)/python -m bench.run

# Mutation testing of the ratios and the preprocessing steps (pyproject.toml's [tool.mutmut]); not in
# CI nor in `make test`: about 10 minutes here. mutmut copies src/ into mutants/src and puts it first
# on sys.path (taking the editable install's ./src off it), so the tests import the mutants. Its
# score: killed / all per file, printed last (`mutmut results` lists the survivors).
mutation: $(STAMP)
	$(BIN)/python -m pip install -q mutmut==3.8.1
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	@# The score per file: killed / all mutants.
	$(BIN)/mutmut results --all true | awk -F': ' '{ split($$1, name, "."); file = name[2]; all[file]++; \
	  if ($$2 == "killed") killed[file]++ } END { for (f in all) printf "%s.py: %d / %d killed\n", f, killed[f], all[f] }'

# The engines' own SDKs in environments of their own (MLServer and KServe pin what the function's
# cannot share): tests/test_engine_sdks.py runs them as clients of the served function, and skips,
# saying so, until this has been run once (~780 MB, a few minutes).
engines: .venv-mlserver/.installed .venv-kserve/.installed

.venv-%/.installed: requirements-%.txt
	test -x .venv-$*/bin/python || $(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip install -q -r requirements-$*.txt
	touch $@

clean:
	rm -rf $(VENV) .venv-mlserver .venv-kserve build .pytest_cache mutants
