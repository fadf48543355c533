# Two commands do everything: `make run` (the product on this machine) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
ARTIFACTS := marketplace/integrations/chain/artifacts/CreativeWorks.json marketplace/integrations/chain/artifacts/BaselineURIStorage.json \
	marketplace/integrations/chain/artifacts/Splits.json
# The browser tests drive Debian's Chromium through Playwright (never `playwright install`: it downloads a build).
CHROMIUM := /usr/bin/chromium
# `docker-compose config` validates docker-compose.yml in the tests (Debian's docker-compose; no Docker engine runs)
DOCKER_COMPOSE := /usr/bin/docker-compose
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: run test test-fast bench setup contracts messages clean

run: setup
	$(BIN)/python -m devtools dev

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not contracts and not postgres and not browser"

bench: setup
	$(BIN)/python -m benchmarks.run

setup: $(PY_STAMP) $(NODE_STAMP) $(ARTIFACTS) $(CHROMIUM) $(DOCKER_COMPOSE)

$(PY_STAMP): pyproject.toml requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

$(DOCKER_COMPOSE):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y docker-compose

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The service loads committed ABI + bytecode (no Node at run time); rebuild them when the Solidity changes.
$(ARTIFACTS) &: $(NODE_STAMP) $(wildcard contracts/src/*.sol contracts/src/*/*.sol) contracts/foundry.toml
	bash scripts/build_contracts.sh
	touch $(ARTIFACTS)

contracts: $(NODE_STAMP)
	bash scripts/build_contracts.sh

# The page translations (README, "Languages"): extract the English messages from the code and the templates into
# the .pot, merge them into each language's .po (new ones empty, changed ones fuzzy: translate them, then run this
# again), and compile the .mo the app reads. The .pot, .po and .mo files are committed.
LOCALE_DIR := marketplace/web/locale
messages: $(PY_STAMP)
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs ".* ._ node_modules contracts data" --no-location \
		--sort-output --project "Creative Marketplace" --copyright-holder "Creative Marketplace" \
		-o $(LOCALE_DIR)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) --ignore-obsolete
	$(BIN)/pybabel compile -d $(LOCALE_DIR) --statistics

clean:
	rm -rf $(VENV) node_modules contracts/out contracts/cache data .pytest_cache
