# Siar: `make dev` runs the platform on the embedded stack; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
# uv from PATH, else the module installed by `make uv`.
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")

.PHONY: dev test uv sync lint format typecheck sizes pytest bench asyncapi ops-check ops-generate clean

uv:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check uv

sync: uv
	$(UV) sync --frozen --all-packages

dev: sync
	$(UV) run --frozen siar-dev

test: sync lint typecheck sizes pytest

lint:
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: sync
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

typecheck:
	$(UV) run --frozen mypy

sizes:
	$(UV) run --frozen python scripts/check_sizes.py

pytest:
	$(UV) run --frozen pytest

bench: sync
	$(UV) run --frozen python tests/bench/bench_slice_latency.py
	$(UV) run --frozen python tests/bench/bench_dev_startup.py

asyncapi: sync
	$(UV) run --frozen python scripts/asyncapi.py --write

# Deployment artefacts checked offline (docs/operations.md); `make test` runs them too
# (tests/ops is under pytest's testpaths). promtool: apt-get install prometheus.
ops-check: sync
	$(UV) run --frozen python deploy/k8s/generate.py --check
	$(UV) run --frozen python deploy/grafana/generate.py --check
	$(UV) run --frozen pytest -q tests/ops

# Regenerates dashboards, then the manifests (the monitoring ConfigMap embeds the dashboards).
ops-generate: sync
	$(UV) run --frozen python deploy/grafana/generate.py
	$(UV) run --frozen python deploy/k8s/generate.py

clean:
	rm -rf .siar test-artifacts .pytest_cache .mypy_cache .ruff_cache
