# Everything a newcomer needs, installed on first use into .venv (the app) and .tools (SAM CLI and
# cfn-lint, kept apart because pip backtracks them to old releases when they share an environment).
SHELL := /bin/bash
# The Lambda runtime is python3.13: any 3.13 will do, `python3.13` on PATH, else the newest pyenv holds
# (found once; `make PYTHON=/path/to/python3.13` chooses another).
PYTHON := $(or $(PYTHON),$(shell for candidate in python3.13 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13.*/bin/python3.13 \
	2>/dev/null | sort -V | tail -n 1); do "$$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' \
	2>/dev/null && { command -v "$$candidate"; break; }; done))
NEED_PYTHON = @test -n "$(PYTHON)" || { echo "Python 3.13 (the Lambda runtime's) is needed: put python3.13 on PATH, e.g. with pyenv or your package manager" >&2; exit 1; }
# sam build checks that the runtime's interpreter is on PATH, and the layer's Makefile builds with it.
ifeq ($(shell python3.13 -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && echo runs),)
ifneq ($(PYTHON),)
export PATH := $(dir $(PYTHON)):$(PATH)
endif
endif
export PYTHON
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
VENV := .venv
TOOLS := .tools
BIN := $(VENV)/bin
TOOLS_BIN := $(TOOLS)/bin
CHROMIUM := /usr/bin/chromium
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: help serve invoke test unit reliability bench bench-cold-start bench-dynamodb-cost bench-diff browser lint format typecheck template-check build check clean

help:  ## list the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  make %-22s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

serve: $(VENV)/.installed  ## serve the API at http://127.0.0.1:3000 (PORT=… another port), no Docker
	$(BIN)/python -m decision_flows_local.server

invoke: $(VENV)/.installed  ## one function, one event: FUNCTION=PublishFunction EVENT=events/publish.json
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<template function> EVENT=<event file>, e.g. FUNCTION=ListFlowsFunction EVENT=events/list-flows.json" >&2; exit 2; }
	$(BIN)/python -m decision_flows_local.invoke "$(FUNCTION)" "$(EVENT)"

test: $(VENV)/.installed  ## run the whole test suite (the Swagger UI test needs `make browser` first)
	$(BIN)/pytest $(PYTEST_ARGS)

unit: $(VENV)/.installed  ## the fast tests: no server, no moto
	$(BIN)/pytest tests/unit -q $(PYTEST_ARGS)

reliability: $(VENV)/.installed  ## the reliability suite at full size, figures in docs/reliability-figures.json
	RELIABILITY_PROFILE=full RELIABILITY_FIGURES=docs/reliability-figures.json $(BIN)/pytest tests/reliability $(PYTEST_ARGS)

bench: build  ## every benchmark: figures in bench/results/ (not committed), docs/PERFORMANCE.md's tables updated
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.dynamodb_cost
	$(BIN)/python -m bench.diff_cost
	$(BIN)/python -m bench.report

bench-cold-start: build  ## cold start of each function vs `import boto3; boto3.client("dynamodb")`, Lambda-like env
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.report

bench-dynamodb-cost: $(VENV)/.installed  ## DynamoDB calls, bytes and units per route at 1 to 10 000 versions
	$(BIN)/python -m bench.dynamodb_cost
	$(BIN)/python -m bench.report

bench-diff: $(VENV)/.installed  ## /diff and the stream consumer's per-record cost at 1 000 to 8 000 edges
	$(BIN)/python -m bench.diff_cost
	$(BIN)/python -m bench.report

# The Swagger UI test loads /swagger in a headless browser: Debian's chromium (apt-get, as root),
# installed once. `make test` installs nothing system-wide: without it, that one test is skipped
# (and fails under CI=true, whose .ci/run installs it first).
browser: $(CHROMIUM)  ## install Debian's chromium (apt-get) for the Swagger UI test

$(CHROMIUM):
	$(APT) update
	$(APT) install -y chromium

lint: $(VENV)/.installed  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed  ## ruff format and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.installed  ## mypy, strict
	$(BIN)/mypy shared/layer/decision_flows shared/local/decision_flows_local shared/admin/decision_flows_admin functions tests bench

template-check: $(TOOLS)/.installed  ## cfn-lint, sam validate and sam validate --lint on template.yaml
	$(TOOLS_BIN)/cfn-lint template.yaml
	$(TOOLS_BIN)/sam validate
	$(TOOLS_BIN)/sam validate --lint

build: $(TOOLS)/.installed $(VENV)/.installed  ## sam build, then check that the layer ships bytecode
	$(TOOLS_BIN)/sam build
	$(BIN)/python -m bench.artifacts --check

check: lint typecheck test template-check build  ## everything CI runs

$(VENV)/.installed: pyproject.toml
	$(NEED_PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(TOOLS)/.installed:
	$(NEED_PYTHON)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS_BIN)/pip install --quiet --upgrade pip
	$(TOOLS_BIN)/pip install --quiet aws-sam-cli==1.170.0 cfn-lint==1.58.0
	touch $@

clean:  ## remove the virtual environments and build output
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache
