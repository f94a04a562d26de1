# Every target creates .venv and installs the project on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: demo test bench docs system-deps lint clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,docs,bench,examples]'
	$(PY) -m pip install --quiet -e extensions/login
	$(PY) -m pip install --quiet -e extensions/caching
	@touch $(STAMP)

demo: $(STAMP)
	@echo "dash-quart showcase: open http://$(HOST):$(PORT)/ and sign in as demo / demo-password (CTRL + C to stop)"
	$(VENV)/bin/hypercorn --bind $(HOST):$(PORT) --access-logfile - examples.showcase.app:server

test: $(STAMP) system-deps
	$(PY) -m pytest

bench: $(STAMP) system-deps
	$(PY) -m bench.run
	$(PY) -m bench.flask_bridge
	$(PY) -m bench.sse
	$(PY) -m bench.caching

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

# The benchmark summary in README.md, from the latest results in bench/results.
.PHONY: readme
readme: $(STAMP)
	$(PY) -m bench.summary --write README.md

lint: $(STAMP)
	$(VENV)/bin/ruff check dash_quart extensions tests bench examples
	$(VENV)/bin/mypy

# Debian packages the tests and benchmarks use: installed when running as root,
# otherwise named so that you can install them.
system-deps:
	@bash scripts/system-deps.sh redis-server:redis-server chromium:chromium wrk:wrk

clean:
	rm -rf $(VENV) site
