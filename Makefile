# 部门整体支出绩效自评 — pipeline, dashboard and tests.
# `make` alone lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

RAW ?= raw
DB ?= warehouse/performance.duckdb
OUT ?= out
LEDGER ?= ledger/bureau.sqlite
YEAR ?= 2024
PORT ?= 8501
ADDRESS ?= 127.0.0.1
N ?= 10000
# make review: an officer's 复核 score (ACTION=set|withdraw|list)
ACTION ?= list
UNIT ?=
CODE ?=
SCORE ?=
REASON ?=
BY ?=
FRAMEWORKS ?=

PYTHON ?= python3
# uv from PATH, else a private copy in .tools/ (installed with pip on first use)
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced
RUN := $(UV) run --frozen --no-sync
export PERF_RAW := $(RAW)
export PERF_DB := $(DB)
export PERF_OUT := $(OUT)
export PERF_LEDGER := $(LEDGER)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'
	@echo "  variables: RAW=$(RAW) DB=$(DB) OUT=$(OUT) LEDGER=$(LEDGER) YEAR=$(YEAR) ADDRESS=$(ADDRESS) PORT=$(PORT) N=$(N)"

$(UV):
	@echo "uv not found: installing it into .tools/ with pip"
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet 'uv>=0.5'

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	touch $@

.PHONY: install
install: $(STAMP) ## set up the environment (.venv) from uv.lock

.PHONY: pipeline
pipeline: $(STAMP) ## validate, load and score every submission under RAW= into DB=
	$(RUN) python -m pipeline run --raw "$(RAW)" --db "$(DB)" --ledger "$(LEDGER)"

.PHONY: dashboard
dashboard: $(STAMP) ## open the dashboard (Streamlit) on ADDRESS=:PORT= (default 127.0.0.1:8501) against DB=
	$(RUN) streamlit run dashboard/server.py --server.address $(ADDRESS) --server.port $(PORT) --browser.gatherUsageStats false

.PHONY: test
test: $(STAMP) ## run the whole test suite
	$(RUN) pytest -q

.PHONY: test-fast
test-fast: $(STAMP) ## run the quick tests only (leaves out those marked slow: whole-pipeline runs, kills, hostile files, browser)
	$(RUN) pytest -q -m "not slow"

.PHONY: lint
lint: $(STAMP) ## check the code with ruff (pycodestyle, pyflakes, bugbear; settings in pyproject.toml)
	$(RUN) ruff check .

.PHONY: sample
sample: $(STAMP) ## regenerate the sample county in raw/ (seeded: same bytes every run)
	$(RUN) python -m sample_county --out raw --ledger "$(LEDGER)"

.PHONY: template
template: $(STAMP) ## write the blank workbook for YEAR= that the bureau sends to units (FRAMEWORKS= another framework folder)
	$(RUN) python -m pipeline template --year $(YEAR) --out "$(OUT)/绩效自评表_$(YEAR).xlsx" \
	  $(if $(FRAMEWORKS),--frameworks "$(FRAMEWORKS)")

.PHONY: docs
docs: $(STAMP) ## regenerate docs/metrics.md, docs/rules.md and pipeline/publishing/warehouse.sql from the code and framework files
	$(RUN) python -m pipeline docs

.PHONY: review
review: $(STAMP) ## record an officer's 复核 score in LEDGER=: ACTION=set|withdraw|list YEAR= UNIT= CODE= SCORE= REASON= BY=
	@args=(review "$(ACTION)" --ledger "$(LEDGER)" --raw "$(RAW)" --db "$(DB)" --year "$(YEAR)")
	@[ -n "$(UNIT)" ] && args+=(--unit "$(UNIT)")
	@[ -n "$(CODE)" ] && args+=(--code "$(CODE)")
	@[ -n "$(SCORE)" ] && args+=(--score "$(SCORE)")
	@[ -n "$(REASON)" ] && args+=(--reason "$(REASON)")
	@[ -n "$(BY)" ] && args+=(--by "$(BY)")
	$(RUN) python -m pipeline "$${args[@]}"

.PHONY: report
report: $(STAMP) ## write the workbook, 退回修改 notices (+ zip), summary report (.docx, .pdf) and 复核工作底稿 of YEAR= under OUT=/YEAR
	$(RUN) python -m pipeline.outputs --year $(YEAR) --db "$(DB)" --out "$(OUT)" --ledger "$(LEDGER)"

.PHONY: bench
bench: $(STAMP) ## benchmark the pipeline on N= generated workbooks (default 10000); writes docs/benchmarks.md
	$(RUN) python -m tests.bench --units $(N)

.PHONY: clean
clean: ## remove the warehouse builds, outputs and caches (keeps raw/, the ledger, .venv and the download audit log)
	if [ -d warehouse ]; then find warehouse -mindepth 1 -not -name downloads.jsonl -delete; fi
	rm -rf "$(OUT)" .pytest_cache tests/artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
