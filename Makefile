# Two commands do everything on a fresh machine: `make run` and `make test`.
# uv comes from PyPI; everything else installs from uv.lock.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_PYTHON := 3.11

.PHONY: run test setup uv system-deps lint demo dashboard bench clean

# `make run` and `make dashboard` are the demo: QINGLIAN_ENV=demo unless the environment says otherwise
# (production is the default everywhere else; README 驾驶舱与账号).
run dashboard: export QINGLIAN_ENV ?= demo

run: setup  ## demo data -> ingest -> checks -> KPIs -> published dashboard data
	$(UV) run qinglian run

# Two workers (the machine has two cores); a file's tests stay on one worker so that its module
# fixtures (a published warehouse, a hostile corpus) are built once.
test: setup system-deps  ## the whole test suite (what .ci/run calls)
	$(UV) run pytest -n 2 --dist loadgroup --no-loadscope-reorder

setup: uv
	$(UV) sync --frozen
	@# the project's own modules as well (pyproject.toml: compile-bytecode)
	$(UV) run python -m compileall -q qinglian ingest orchestration dashboards data_quality tests bench
	$(UV) run qinglian prepare

uv:
	@command -v uv >/dev/null 2>&1 || test -x $(HOME)/.local/bin/uv || python3 -m pip install --user --quiet "uv==0.13.8"

# Browser screenshots need Debian's chromium and CJK fonts, the bulletin test reads its PDF with
# poppler's pdftotext, the service test checks the generated units with systemd-analyze; installed only when missing.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto.*cjk" || ! command -v pdftotext >/dev/null 2>&1 || ! command -v systemd-analyze >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils systemd >/dev/null; \
		else \
			sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils systemd >/dev/null; \
		fi; \
	fi

lint: setup
	$(UV) run ruff check .

dashboard: setup
	$(UV) run qinglian dashboard

bench: setup
	$(UV) run qinglian bench

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
