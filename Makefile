# Everything a newcomer needs, installed on first use into .venv (the app) and .tools (SAM CLI,
# cfn-lint and AWS's serverless rules for it, kept apart because pip backtracks them to old releases
# when they share an environment; checkov in .tools/checkov, as its pins conflict with SAM CLI's).
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
CHECKOV := $(TOOLS)/checkov/bin/checkov
SERVERLESS_RULES := $(TOOLS)/.serverless-rules-installed
CHROMIUM := /usr/bin/chromium
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: help serve invoke test unit integration mutation reliability bench bench-cold-start bench-dynamodb-cost bench-diff bench-client bench-live-reads browser lint format typecheck template-check openapi-client-check build check clean

help:  ## list the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  make %-22s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

serve: $(VENV)/.installed  ## serve the API at http://127.0.0.1:3000 (PORT=… another port), no Docker
	$(BIN)/python -m decision_flows_local.api.server

invoke: $(VENV)/.installed  ## one function, one event: FUNCTION=PublishFunction EVENT=events/publish.json
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<template function> EVENT=<event file>, e.g. FUNCTION=ListFlowsFunction EVENT=events/list-flows.json" >&2; exit 2; }
	$(BIN)/python -m decision_flows_local.api.invoke "$(FUNCTION)" "$(EVENT)"

# The suite runs on every core (pytest-xdist), a test module to a worker so that module-scoped
# servers start once; TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= auto
test: $(VENV)/.installed  ## run the whole test suite (the Swagger UI test needs `make browser` first)
	$(BIN)/pytest --numprocesses $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

unit: $(VENV)/.installed  ## the fast tests: no server, no moto
	$(BIN)/pytest tests/unit -q $(PYTEST_ARGS)

integration: $(VENV)/.installed  ## the handlers, stream consumer and store end to end against in-process moto
	$(BIN)/pytest tests/integration -q $(PYTEST_ARGS)

# mutmut mutates a copy of the domain layer and runs the unit tests that reach each mutant; it works
# in a scratch copy of the tree (.tools/mutation), where `src` links to shared/layer as mutmut expects.
MUTATION := $(TOOLS)/mutation
MUTATION_WORKERS ?= 2
mutation: $(VENV)/.installed  ## mutation testing of the domain layer against tests/unit (minutes), prints the score
	rm -rf $(MUTATION) && mkdir -p $(MUTATION)/mutants/shared/layer
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents --target-directory=$(MUTATION)
	ln -s shared/layer $(MUTATION)/src
	cd $(MUTATION) && $(abspath $(BIN))/mutmut run --max-children $(MUTATION_WORKERS) && $(abspath $(BIN))/mutmut export-cicd-stats >/dev/null
	cd $(MUTATION) && $(abspath $(BIN))/mutmut results | grep -v ': killed$$' || true
	@$(BIN)/python -c "import json, sys; s = json.load(open(sys.argv[1])); covered = s['total'] - s['no_tests'] - s['skipped']; \
		print('%d mutants, %d with no unit test; killed %d of %d covered: %.1f %%' % (s['total'], s['no_tests'], s['killed'], covered, 100 * s['killed'] / covered))" \
		$(MUTATION)/mutants/mutmut-cicd-stats.json

reliability: $(VENV)/.installed  ## the reliability suite at full size, figures in docs/reliability-figures.json
	RELIABILITY_PROFILE=full RELIABILITY_FIGURES=docs/reliability-figures.json $(BIN)/pytest tests/reliability $(PYTEST_ARGS)

bench: build  ## every benchmark: figures in bench/results/ (not committed), docs/PERFORMANCE.md's tables updated
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.dynamodb_cost
	$(BIN)/python -m bench.diff_cost
	$(BIN)/python -m bench.live_reads
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

bench-live-reads: $(VENV)/.installed  ## warm /live and /live/state of a 2 KB and a 300 KB config (seconds)
	$(BIN)/python -m bench.live_reads
	$(BIN)/python -m bench.report

# The peers' SDKs (bench/peers-requirements.txt, pinned) in a venv of their own beside this repository's
# client: their dependencies are not the application's.
PEERS := .venv-peers

bench-client: $(VENV)/.installed $(PEERS)/.installed  ## decisions/s of the runtime client vs the peers' SDKs on one core; its requests and switch times against the local server
	$(BIN)/python -m bench.client_decisions
	$(BIN)/python -m bench.report

$(PEERS)/.installed: bench/peers-requirements.txt shared/client/pyproject.toml
	$(NEED_PYTHON)
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/pip install --quiet --upgrade pip
	$(PEERS)/bin/pip install --quiet -r bench/peers-requirements.txt -e ./shared/client
	touch $@

# The Swagger UI test loads /swagger in a headless browser: Debian's chromium (apt-get, as root),
# installed once. `make test` installs nothing system-wide: without it, that one test is skipped
# (and fails under CI=true, whose .ci/run installs it first).
browser: $(CHROMIUM)  ## install Debian's chromium (apt-get) for the Swagger UI test

$(CHROMIUM):
	$(APT) update
	$(APT) install -y chromium

lint: $(VENV)/.installed  ## ruff lint and format check; the layer rule (import-linter, pyproject's contracts)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed  ## ruff format and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.installed  ## mypy, strict
	$(BIN)/mypy shared/layer/decision_flows shared/local/decision_flows_local shared/admin/decision_flows_admin shared/client/decision_flows_client functions tests bench

# Checks a template may set aside only in itself, each with its reason (Metadata: cfn-lint / checkov).
template-check: $(TOOLS)/.installed $(SERVERLESS_RULES) $(CHECKOV) openapi-client-check  ## cfn-lint with AWS's serverless rules, sam validate (--lint), checkov; the generated client
	$(TOOLS_BIN)/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml
	$(TOOLS_BIN)/sam validate
	$(TOOLS_BIN)/sam validate --lint
	$(CHECKOV) --file template.yaml --framework cloudformation --quiet --compact --skip-download

# openapi-python-client in a venv of its own (its pins are not the application's): a client generated
# from the OpenAPI document must parse API Gateway's own 401 and the handlers' problem details.
OPENAPI_CLIENT := $(TOOLS)/openapi-client

openapi-client-check: $(VENV)/.installed $(OPENAPI_CLIENT)/.installed  ## generate a client from /openapi.json and parse 401s and 404s with it
	$(BIN)/python -m decision_flows_local.api.openapi_json > $(OPENAPI_CLIENT)/openapi.json
	$(OPENAPI_CLIENT)/bin/python tests/support/generated_client.py $(OPENAPI_CLIENT)/openapi.json

$(OPENAPI_CLIENT)/.installed:
	$(NEED_PYTHON)
	$(PYTHON) -m venv $(OPENAPI_CLIENT)
	$(OPENAPI_CLIENT)/bin/pip install --quiet --upgrade pip
	$(OPENAPI_CLIENT)/bin/pip install --quiet openapi-python-client==0.29.1
	touch $@

build: $(TOOLS)/.installed $(VENV)/.installed  ## sam build, then check that the layer ships bytecode
	$(TOOLS_BIN)/sam build
	$(BIN)/python -m bench.artifacts --check

check: lint typecheck test template-check build  ## everything CI runs

# The runtime client is a distribution of its own (shared/client), installed editable beside the app.
$(VENV)/.installed: pyproject.toml shared/client/pyproject.toml
	$(NEED_PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./shared/client
	touch $@

$(TOOLS)/.installed:
	$(NEED_PYTHON)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS_BIN)/pip install --quiet --upgrade pip
	$(TOOLS_BIN)/pip install --quiet aws-sam-cli==1.170.0 cfn-lint==1.58.0
	touch $@

# Their own stamps, so that a .tools installed before them gains them without a reinstall.
$(SERVERLESS_RULES): $(TOOLS)/.installed
	$(TOOLS_BIN)/pip install --quiet cfn-lint-serverless==0.3.6
	touch $@

$(CHECKOV):
	$(NEED_PYTHON)
	$(PYTHON) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/pip install --quiet --upgrade pip
	$(TOOLS)/checkov/bin/pip install --quiet checkov==3.3.30

clean:  ## remove the virtual environments and build output
	rm -rf $(VENV) $(PEERS) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache
