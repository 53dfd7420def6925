# The two commands of the README's quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint stack system-deps bench soak clean

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

system-deps:
	.ci/install-system-deps

demo: $(INSTALLED)
	$(VENV)/bin/costopt demo --out costopt-demo

lint: $(INSTALLED)
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/mypy

test: $(INSTALLED) system-deps lint
	$(PY) -m pytest -q -m "not soak"

bench: $(INSTALLED) system-deps
	$(PY) -m bench.run

soak: $(INSTALLED) system-deps
	COSTOPT_KILL_POINTS=20 $(PY) -m pytest -q -s tests/jobs/test_crash_safety.py
	COSTOPT_LOAD_SECONDS=600 $(PY) -m pytest -q -s -m soak tests/api/test_load.py

stack: $(INSTALLED) system-deps
	$(PY) -m tests.stack

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
