# The two commands of the README's quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint stack system-deps bench soak audit clean

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# An editable install is meant: setuptools' note that it is one is not news.
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

system-deps:
	.ci/install-system-deps

demo: $(INSTALLED)
	$(VENV)/bin/costopt demo --out costopt-demo

lint: $(INSTALLED)
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/mypy

# The suite waits on servers and measurement windows more than on the CPU, so it runs in
# TEST_WORKERS pytest-xdist workers (tests/parallel.py groups those sharing a server);
# `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 4
test: $(INSTALLED) system-deps lint
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

bench: $(INSTALLED) system-deps
	$(PY) -m bench.run

# The reliability runs with their figures printed: every fault test, the crash test with 20
# random kill points of each kind, then the load test for 10 minutes.
SOAK_TESTS := tests/jobs/test_crash_safety.py tests/collect/test_faults.py \
	tests/collect/test_secrets.py tests/api/test_concurrency.py tests/api/test_store_down.py \
	tests/jobs/test_leader.py tests/store/test_store.py \
	tests/collect/test_real_stack.py::test_prometheus_down_fails_cleanly_and_the_next_run_recovers \
	tests/collect/test_real_stack.py::test_kafka_down_fails_cleanly_and_the_next_run_recovers

soak: $(INSTALLED) system-deps
	COSTOPT_KILL_POINTS=20 COSTOPT_KILL_SEED=$$(date +%s) $(PY) -m pytest -q -s -rA $(SOAK_TESTS)
	COSTOPT_LOAD_SECONDS=600 COSTOPT_LOAD_MIN_RATE=190 $(PY) -m pytest -q -s tests/api/test_load.py

# Needs PyPI's per-release JSON API (pypi.org/pypi/<name>/<version>/json), which the
# development machine's registry mirror does not serve; so not part of make test.
audit: $(INSTALLED)
	$(VENV)/bin/pip-audit --progress-spinner off --strict --no-deps --disable-pip -r constraints.txt

stack: $(INSTALLED) system-deps
	$(PY) -m tests.stack

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
