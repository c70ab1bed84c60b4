# stackgen: everything a fresh clone needs goes through these targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_SITE ?= examples/example-site/stackgen.yaml

.PHONY: install demo drift test test-engine test-thorough snapshots lint typecheck check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## demo: generate the swarm deployment for the preproc runner on the built-in example site
demo: $(STAMP)
	$(BIN)/stackgen build preproc self-signed-certs --target swarm -f $(DEMO_SITE) -o build/demo/swarm $(DEMO_FLAGS)
	$(BIN)/stackgen build bids preproc self-signed-certs --target config-toml -f $(DEMO_SITE) -o build/demo/config-toml $(DEMO_FLAGS)
	@test -n "$(DEMO_FLAGS)" || echo "demo output is in build/demo/"

## drift: exit 1 with a diff if build/demo is not what `make demo` would write now (a CI gate)
drift: $(STAMP)
	@$(MAKE) --no-print-directory demo DEMO_FLAGS=--check

## test: the whole default suite (what CI runs): the unit tiers on both cores, then the
## engine tier (one private dockerd, so one process)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --ignore=tests/engine
	$(BIN)/python -m pytest tests/engine

## test-engine: only the engine tier: the generated files deployed in a real Docker Engine
## (as root it installs docker.io, debootstrap and busybox-static with apt-get when missing)
test-engine: $(STAMP)
	$(BIN)/python -m pytest -m engine tests/engine

## test-thorough: the property tests with the large hypothesis budget (10,500 examples, ~10 min)
test-thorough: $(STAMP)
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest tests/test_properties.py --hypothesis-show-statistics

## snapshots: rewrite syrupy snapshots after an intended output change (read the diff first)
snapshots: $(STAMP)
	$(BIN)/python -m pytest tests/test_snapshots.py --snapshot-update

## bench: speed and memory against the budgets in benchmarks/bench.py
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

lint: $(STAMP)
	$(BIN)/ruff check stackgen tests

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
