# outpost-mesh: every target installs what it needs on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

# python3.13 is the Lambda runtime; pyenv keeps it outside PATH on this image (the shim alone does
# not find it). Fall back to python3.13 on PATH, then python3.
PYENV_PY313 := $(shell command -v pyenv >/dev/null 2>&1 && echo "$$(pyenv root)/versions/3.13.0/bin/python3.13")
PYTHON ?= $(shell for p in "$(PYENV_PY313)" "$$(command -v python3.13)" "$$(command -v python3)"; do \
	[ -n "$$p" ] && [ -x "$$p" ] && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# sam build needs python3.13 on PATH: the venv's bin provides it.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help install lint check-stack checkov test demo build stackset bench reliability docs mesh-map-image clean

help:
	@echo "make demo    run the blog scenario through the whole pipeline on the local sandbox"
	@echo "make test    lint, type checks, template/ASL checks, sam build and every test"
	@echo "make install create .venv and install the project with its dev tools"
	@echo "make lint    ruff (lint + format check) and mypy"
	@echo "make build   sam build (python3.13)"
	@echo "make stackset  the member stack as an Organization StackSet deploys it, offline:"
	@echo "             .aws-sam/stackset/member.json (SAM translated, code from the artifacts"
	@echo "             bucket) and artifacts/ to upload (README, \"Organization-wide\")"
	@echo "make bench   benchmarks (not tests): prints one table; a complete run rewrites docs/performance.md"
	@echo "make reliability  the reliability suite alone; only a complete run with every test passed"
	@echo "             rewrites docs/reliability.md (test runs write their reports under reports/)"
	@echo "make mesh-map-image  docs/mesh-map.png, the README's mesh map of a sandbox VPC (chromium)"
	@echo "make docs    make bench, make reliability, make mesh-map-image: regenerates the generated docs"
	@echo "make check-stack  sam validate --lint, cfn-lint (member, hub, artifacts bucket), ASL check,"
	@echo "             sam build, layer check"
	@echo "make checkov security scan of template.yaml, hub.yaml, artifacts-bucket.yaml (own venv, offline)"
	@echo "make clean   remove .aws-sam, the tool caches and reports/"

$(STAMP): pyproject.toml
	test -x "$(BIN)/python" || "$(PYTHON)" -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# Debian's chromium for the mesh map's browser test (tests/integration/test_mesh_map_browser.py):
# a system package (root), never a browser download by Playwright or puppeteer; left alone where
# it is installed already. ~40 s and ~115 packages on a bare Debian 12 image.
install: $(STAMP)
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# checkov pins clash with aws-sam-cli's: it lives in its own venv.
CHECKOV_STAMP := .venv-checkov/.installed
$(CHECKOV_STAMP):
	test -x .venv-checkov/bin/python || "$(PYTHON)" -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install -q --upgrade pip
	.venv-checkov/bin/python -m pip install -q checkov
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The stack: SAM schema + cfn-lint, the state machine file (cfn-lint does not look inside a
# DefinitionUri; statelint from PyPI and asl-validator from npm do), sam build for python3.13
# (the layer by its own Makefile, layers/outpost_mesh/Makefile, which drops what no function
# imports, then compiles it) and the built layer: no boto3/botocore, under 10 MB, checked-hash
# bytecode for every module, every handler imports and parses its events/ samples with only the
# layer and the runtime's packages.
check-stack: install
	$(BIN)/sam validate --lint
	$(BIN)/cfn-lint template.yaml hub.yaml artifacts-bucket.yaml
	$(BIN)/python scripts/check_asl.py --asl-validator
	$(BIN)/sam build --cached --parallel
	$(BIN)/python scripts/check_layer.py

# Security scan, offline (--skip-download); every skip is justified in .checkov.yaml, or in the
# Metadata of the one resource it applies to.
checkov: $(CHECKOV_STAMP)
	.venv-checkov/bin/checkov --config-file .checkov.yaml -f template.yaml -f hub.yaml \
	  -f artifacts-bucket.yaml

test: lint check-stack checkov
	$(BIN)/pytest -q -p no:cacheprovider

demo: install
	$(BIN)/outpost-mesh demo --scenario scenarios/blog.yaml

build: install
	$(BIN)/sam build --cached --parallel

# What a service-managed StackSet deploys to every member account (README, "Organization-wide"):
# template.yaml translated offline by the SAM translator (a StackSet's default execution role
# cannot run a transform), every function and the layer zipped by content hash, code read from
# the per-Region artifacts bucket (artifacts-bucket.yaml); cfn-lint on the result. No AWS call.
stackset: build
	$(BIN)/python scripts/stackset.py
	$(BIN)/cfn-lint .aws-sam/stackset/member.json

# Benchmarks, not tests: they report targets met or missed, they never fail on them. Every run
# writes reports/performance.md (git-ignored); a complete one (no --quick, --sections) also
# rewrites docs/performance.md.
bench: build
	$(BIN)/python -m bench

# The generated docs come from complete runs only: a test run writes its reports under reports/
# (git-ignored) and never a tracked file. This runs the whole reliability suite and copies its
# report into docs/ only if every test ran and passed (nothing deselected or skipped); otherwise
# it fails with one line and leaves docs/ as it was.
reliability: install
	@rm -f reports/reliability.md reports/reliability.status
	@$(BIN)/pytest -q -p no:cacheprovider tests/reliability; code=$$?; \
	status=$$(head -n 1 reports/reliability.status 2>/dev/null); \
	if [ "$$status" != complete ]; then why="$${status:-no report written}"; \
	elif [ $$code -ne 0 ]; then why="pytest exited $$code"; else why=""; fi; \
	if [ -n "$$why" ]; then \
	  echo "make reliability: docs/reliability.md left as it was: $$why" >&2; exit 1; fi; \
	cp reports/reliability.md docs/reliability.md; \
	echo "make reliability: docs/reliability.md rewritten from a complete run"

# docs/mesh-map.png (the README's picture): the mesh map of a sandbox VPC, drawn by chromium.
mesh-map-image: install
	$(BIN)/python scripts/mesh_map_image.py

docs: bench reliability mesh-map-image

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache reports
