# One set of verbs. `make up` runs the platform, `make test` runs every test.
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup up down status lint test test-unit test-integration test-faults bench schema demo compose-secrets

setup:
	@bash scripts/setup.sh

up: setup
	@.venv/bin/headwater up
	@.venv/bin/headwater demo

down:
	@if [ -x .venv/bin/headwater ]; then .venv/bin/headwater down; else echo "nothing to stop (no .venv)"; fi

status:
	@.venv/bin/headwater status

lint:
	@.venv/bin/ruff check libs services tests bench examples scripts
	@.venv/bin/ruff format --check libs services tests bench examples scripts
	@.venv/bin/mypy $(MYPY_PATHS)
	@.venv/bin/lint-imports
	@$(PY) scripts/check_sizes.py

MYPY_PATHS := libs/headwater/src libs/headwater-ops/src services/planner/src services/worker/src services/collection-model/src

test: setup
	@$(MAKE) --no-print-directory lint
	@$(PY) -m pytest tests/unit tests/integration tests/faults

test-unit:
	@$(PY) -m pytest tests/unit

test-integration:
	@$(PY) -m pytest tests/integration

# kill -9 / stop parts of a real stack (instance `faults`, ports + 600) and check it recovers
test-faults:
	@$(PY) -m pytest tests/faults

# make bench (all) or make bench NAME=fanout; each writes bench/results/<name>.json, then one
# line per benchmark (bench/summary.py: headline figures beside their goals)
bench:
	@if [ -n "$(NAME)" ]; then $(PY) bench/bench_$(NAME).py; \
	else for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done; fi
	@echo "== summary"; $(PY) bench/summary.py

schema:
	@$(PY) -m headwater_ops.schema

demo:
	@.venv/bin/headwater demo

# the secrets docker-compose.yml mounts (.headwater/compose/, mode 0600), made once
compose-secrets: setup
	@$(PY) scripts/compose_secrets.py
