# Two entry points a newcomer needs: `make run` and `make test`.
# Everything is installed into .venv from pyproject.toml, pinned by the lock files
# (used as pip constraints, so a dependency just added to pyproject.toml still installs
# before `make lock` pins it); nothing by hand.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
RUN_STAMP := $(VENV)/.run-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
TEST_STAMP := $(VENV)/.test-$(shell cat pyproject.toml requirements.lock requirements-test.lock | cksum | cut -d' ' -f1)

.PHONY: run test install install-run bench lint lock migrate

$(PY):
	@echo "== creating $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# What running needs: the runtime dependencies only.
$(RUN_STAMP): pyproject.toml requirements.lock | $(PY)
	@echo "== installing runtime dependencies (constraints: requirements.lock)"
	$(PIP) install --progress-bar on -c requirements.lock -e .
	rm -f $(VENV)/.run-* && touch $@

# Tests and lint add the test extra (pytest, hypothesis, ruff, mypy, import-linter, ...).
$(TEST_STAMP): $(RUN_STAMP) requirements-test.lock
	@echo "== installing test and lint tools (constraints: requirements-test.lock)"
	$(PIP) install --progress-bar on -c requirements-test.lock -e '.[test]'
	rm -f $(VENV)/.test-* && touch $@

install-run: $(RUN_STAMP)

install: $(TEST_STAMP)

run: $(RUN_STAMP)
	$(VENV)/bin/dosewise serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

migrate: $(RUN_STAMP)
	$(VENV)/bin/dosewise migrate

# The suite, then the doctests of app/ (the numbered examples in docstrings).
test: $(TEST_STAMP)
	$(PY) -m pytest -q
	$(PY) -m pytest -q --doctest-modules app --ignore=app/migrations -p no:cacheprovider

bench: $(RUN_STAMP)
	$(PIP) install --quiet -c requirements-test.lock -e '.[bench]'
	$(PY) bench/bench_dosing.py
	$(PY) bench/bench_e2e.py

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check app tests bench scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Pin every dependency (runtime + server extra; + test extra) for this Python; commit both files.
lock: | $(PY)
	$(PIP) install --quiet 'pip-tools>=7.4'
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --extra server --output-file requirements.lock pyproject.toml
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --extra server --extra test --output-file requirements-test.lock pyproject.toml
