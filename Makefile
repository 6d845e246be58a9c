# The two commands of the README: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
DEMO := demo

.PHONY: demo test lint bench eval clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "salesradar needs Python 3.11 or newer (found: $$($(PYTHON) --version)); run make PYTHON=python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

## demo: install, build the demo workspace, run the pipeline, then serve the dashboard on it
## (prints the URL and the demo logins; Ctrl+C stops)
demo: $(STAMP)
	$(BIN)/salesradar demo --out $(DEMO) --serve

## test: install what the tests need, check style and types, run the whole suite
## (in parallel: TEST_WORKERS processes, one per core up to 4; TEST_WORKERS=0 runs it in one)
# pytest-xdist; --dist loadgroup keeps the tests that share a demo company, a server, Spark or the
# browser on one worker (tests/conftest.py). Past 4 workers those groups are the longest path.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 4 ? n : 4 )))
test: $(STAMP) lint
	scripts/setup-test-engines.sh
	scripts/setup-reports.sh
	scripts/setup-browser.sh
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check src tests bench eval
	$(BIN)/mypy

## bench: the benchmarks recorded in docs/benchmarks.md (minutes; 10M-line inputs)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_kpis.py
	$(BIN)/python bench/bench_demo.py
	$(BIN)/python bench/bench_rhythm.py
	$(BIN)/python bench/bench_churn.py
	$(BIN)/python bench/bench_crosssell.py
	$(BIN)/python bench/bench_insights.py
	$(BIN)/python bench/bench_web.py

## eval: KPIs, model backtests and the truth audit of the insights on ../shared/datasets
## (numbers recorded in docs/)
eval: $(STAMP)
	$(BIN)/python eval/kpi_checks.py
	$(BIN)/python eval/run_eval.py
	$(BIN)/python eval/forecast_backtest.py
	$(BIN)/python eval/truth_audit.py
	$(BIN)/python eval/pauses.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
