PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test lint install install-test oracles clean reliability bench compile

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[compile]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,compile]'
	$(BIN)/pip install --quiet --no-deps 'coinbase-advanced-py==1.8.4'  # pins websockets<14, python-kraken-sdk needs >=14.1; its REST client imports no websockets
	$(BIN)/pip install --quiet --no-deps 'bitfinex-api-py==4.0.0'  # pins websockets~=12 and requests~=2.32.3; its REST client works with ours
	touch $(VENV)/.installed $@

# Oracle clients that cannot live in $(VENV) (old ccxt for CoinList, etoropy, the Webull, ibind, Public and
# pyetrade SDKs), each in its own venv under .venv-oracles/ (tests/support/oracle_venvs.py).
# Without a reachable registry this only warns; the oracle tests then skip and say why.
oracles: $(VENV)/.installed-test
	$(BIN)/python -m tests.support.oracle_venvs

# The cancel path's modules compiled with mypyc (tools/compile.py), rebuilt whenever a source changes; a build
# older than its sources is never imported (src/ordergate/__init__.py).
SOURCES := $(shell find src/ordergate -name '*.py')
$(VENV)/.compiled: $(VENV)/.installed tools/compile.py $(SOURCES)
	$(BIN)/python tools/compile.py
	touch $@

compile: $(VENV)/.compiled
install: $(VENV)/.installed $(VENV)/.compiled
install-test: $(VENV)/.installed-test oracles $(VENV)/.compiled

run: install
	$(BIN)/ordergate serve --sandbox --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest -q

reliability: $(VENV)/.installed-test
	rm -f build/reliability.json
	$(BIN)/python -m pytest -q tests/reliability
	$(BIN)/python -m tests.reliability.render

# ~8 minutes: ordergate vs bare proxy vs direct (and a Bybit row), writes bench/results.json and bench/RESULTS.md (bench/README.md).
bench: install
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk (apt-get)"; \
	  { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null 2>&1 || \
	  { sudo -n apt-get update -qq && sudo -n apt-get install -y -qq wrk; } >/dev/null 2>&1 || \
	  echo "wrk could not be installed: bench/loadgen.py (Python, costlier per request) generates the load"; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests

clean:
	$(PY) tools/compile.py --clean
	rm -rf $(VENV) .venv-oracles ordergate.db .ordergate
