# Everything a newcomer needs, installed on first use into .venv (the app) and .tools (SAM CLI and
# cfn-lint, kept apart because pip backtracks them to old releases when they share an environment).
SHELL := /bin/bash
# The Lambda runtime is python3.13; pyenv machines expose it through this setting.
export PYENV_VERSION ?= 3.13.0:3.11.7
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
PYTHON ?= python3.13
VENV := .venv
TOOLS := .tools
BIN := $(VENV)/bin
TOOLS_BIN := $(TOOLS)/bin
CHROMIUM := /usr/bin/chromium
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: serve invoke test reliability bench bench-cold-start bench-embedded-store browser lint format typecheck template-check build check clean

serve: $(VENV)/.installed  ## serve the API at http://127.0.0.1:$${PORT:-3000}, no Docker
	$(BIN)/python -m decision_flows_local.server

invoke: $(VENV)/.installed  ## make invoke FUNCTION=PublishFunction EVENT=events/publish.json
	$(BIN)/python -m decision_flows_local.invoke "$(FUNCTION)" "$(EVENT)"

test: $(VENV)/.installed browser  ## run the whole test suite
	$(BIN)/pytest $(PYTEST_ARGS)

reliability: $(VENV)/.installed browser  ## the reliability suite at full size, figures in docs/reliability-figures.json
	RELIABILITY_PROFILE=full RELIABILITY_FIGURES=docs/reliability-figures.json $(BIN)/pytest tests/reliability $(PYTEST_ARGS)

bench: build  ## every benchmark: figures in bench/results/, docs/PERFORMANCE.md's tables updated
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.dynamodb_cost
	$(BIN)/python -m bench.embedded_store
	$(BIN)/python -m bench.report

bench-cold-start: build  ## cold start of each function vs `import boto3; boto3.client("dynamodb")`, Lambda-like env
	$(BIN)/python -m bench.cold_start

bench-embedded-store: $(VENV)/.installed  ## publish latency on make serve at 100, 1 000 and 10 000 stored items
	$(BIN)/python -m bench.embedded_store

# The Swagger UI test loads /swagger in a headless browser: Debian's chromium (apt-get, as root),
# installed once, so that `make test` alone still works on a fresh machine.
browser: $(CHROMIUM)

$(CHROMIUM):
	$(APT) update
	$(APT) install -y chromium

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.installed
	$(BIN)/mypy shared/layer/decision_flows shared/local/decision_flows_local functions tests bench

template-check: $(TOOLS)/.installed
	$(TOOLS_BIN)/cfn-lint template.yaml
	$(TOOLS_BIN)/sam validate
	$(TOOLS_BIN)/sam validate --lint

build: $(TOOLS)/.installed $(VENV)/.installed  ## sam build, then check that the layer ships bytecode
	$(TOOLS_BIN)/sam build
	$(BIN)/python -m bench.artifacts --check

check: lint typecheck test template-check build

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(TOOLS)/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS_BIN)/pip install --quiet --upgrade pip
	$(TOOLS_BIN)/pip install --quiet aws-sam-cli==1.170.0 cfn-lint==1.58.0
	touch $@

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache
