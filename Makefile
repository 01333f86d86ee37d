# counter-runbook: two commands on a fresh machine with only python3: `make demo`, `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Two stamps, one .venv: running (demo, lab) needs requirements.txt only; testing and
# linting add requirements-dev.txt on top.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# checkov pins boto3, botocore and more to versions that conflict with moto: its own venv
CHECKOV_VENV  ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: help install install-dev demo test test-fast test-e2e lint format lab sandbox-up sandbox-down bench public-stacks clean checkov

help:
	@echo "make demo    - set up .venv, start the sandbox, run every notebook headless, write reports/"
	@echo "make test    - lint, then the whole test suite against a local moto server"
	@echo "make test-fast - the unit and aws tiers only (no notebooks, Terraform or browser)"
	@echo "make lab     - sandbox + JupyterLab on loopback, opening the onboarding notebook"
	@echo "make bench   - benchmarks into bench/results.json"
	@echo "make public-stacks - 05_migrate on 20 public stacks (issue 16), verbatim and as-author, into bench/public_stacks/last_run.json"
	@echo "make clean   - stop the sandbox; remove reports/, .runbook/, caches (keeps backups/)"

$(RUN_STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(RUN_STAMP)

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(DEV_STAMP)

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

# The runbook's exit code is kept; how to call `runbook` is printed either way.
demo: $(RUN_STAMP)
	@$(BIN)/runbook demo; rc=$$?; \
	echo ""; \
	echo "runbook is installed in $(BIN)/: call it as $(BIN)/runbook (e.g. $(BIN)/runbook list),"; \
	echo "or run 'source $(BIN)/activate' once per shell, then just: runbook list"; \
	exit $$rc

# mypy: runbook_lib's types against boto3's and pandas' stubs (pyproject.toml's [tool.mypy])
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@if command -v terraform >/dev/null 2>&1; then TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive terraform && TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive tests/fixtures; \
	else echo "terraform not on PATH: skipping terraform fmt -check"; fi

$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	@touch $(CHECKOV_STAMP)

checkov: $(CHECKOV_STAMP)
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --compact --quiet

# Tiers: tests/unit (no server), tests/aws (a moto server), tests/e2e (notebooks, Terraform,
# IAM, browser). unit + aws run first, so a quick failure shows in about a minute; e2e is split
# by file (module fixtures build Terraform stacks once per file) and its longest files start
# first (tests/conftest.py's LONGEST_FIRST; --no-loadscope-reorder keeps that order).
# Any pytest exit code but 0 fails the target, 5 (no tests collected) included.
# unit + aws use 3 workers on 2 cores: an aws test mostly waits on its worker's moto server,
# so a third worker fills the gaps (51 s against 58 s with 2, on an otherwise idle machine).
TEST_FAST := $(BIN)/python -m pytest -n 3 tests/unit tests/aws
TEST_E2E  := $(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder tests/e2e

test: lint $(CHECKOV_STAMP)
	$(TEST_FAST)
	CHECKOV_VENV=$(CHECKOV_VENV) $(TEST_E2E)

test-fast: $(DEV_STAMP)
	$(TEST_FAST)

test-e2e: $(DEV_STAMP) $(CHECKOV_STAMP)
	CHECKOV_VENV=$(CHECKOV_VENV) $(TEST_E2E)

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

sandbox-up: $(RUN_STAMP)
	$(BIN)/runbook sandbox up

sandbox-down: $(RUN_STAMP)
	$(BIN)/runbook sandbox down

lab: $(RUN_STAMP)
	$(BIN)/python -m runbook_lib.sandbox.lab

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.run

# Issue 16's "Done when": every stack in bench/public_stacks/ (public code, see SOURCES.md)
# migrated in the README's sandbox shell, each on its own moto server; needs terraform.
# Both modes: verbatim, then as each author runs it (SOURCES.md, "Two modes").
public-stacks: $(DEV_STAMP)
	$(BIN)/python -m bench.public_stacks --both

# backups/ (item backups, table exports, the audit log) is data: never removed here.
clean:
	-@if [ -x $(BIN)/runbook ]; then $(BIN)/runbook sandbox down; fi
	rm -rf reports .runbook .pytest_cache .ruff_cache .hypothesis
	rm -rf .ipynb_checkpoints notebooks/.ipynb_checkpoints
