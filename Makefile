# counter-runbook: two commands on a fresh machine with only python3: `make demo`, `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# checkov pins boto3, botocore and more to versions that conflict with moto: its own venv
CHECKOV_VENV  ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: help install demo test test-fast lint format lab sandbox-up sandbox-down bench clean checkov

help:
	@echo "make demo    - set up .venv, start the sandbox, run every notebook headless, write reports/"
	@echo "make test    - lint, then the whole test suite against a local moto server"
	@echo "make lab     - sandbox + JupyterLab on loopback, opening the onboarding notebook"
	@echo "make bench   - benchmarks into bench/results.json"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/runbook demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@if command -v terraform >/dev/null 2>&1; then TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive terraform; \
	else echo "terraform not on PATH: skipping terraform fmt -check"; fi

$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	@touch $(CHECKOV_STAMP)

checkov: $(CHECKOV_STAMP)
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --compact --quiet

test: lint $(CHECKOV_STAMP)
	CHECKOV_VENV=$(CHECKOV_VENV) $(BIN)/python -m pytest -n 2 --dist loadfile

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not terraform and not browser and not slow"

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

sandbox-up: $(STAMP)
	$(BIN)/runbook sandbox up

sandbox-down: $(STAMP)
	$(BIN)/runbook sandbox down

lab: $(STAMP)
	$(BIN)/python -m runbook_lib.lab

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	-$(BIN)/runbook sandbox down
	rm -rf reports .runbook .pytest_cache
