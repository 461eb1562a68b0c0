# Two commands for a newcomer: `make run` starts the app, `make test` runs every test.
# Both install whatever is missing first, and are quick the second time.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
JS_STAMP := static/vendor/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test setup browser clean-venv

run: setup
	$(PY) -m streamlit run streamlit_app.py

test: setup browser $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

setup: $(PIP_STAMP) $(JS_STAMP)

$(PIP_STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(TEST_STAMP): requirements-test.txt $(PIP_STAMP)
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

# Front-end libraries for the in-browser pages, copied under static/ so Streamlit serves them
# and the webcam page works with no network.
$(JS_STAMP): package.json package-lock.json scripts/vendor_frontend.py static/webcam/index.html static/webcam/webcam.js $(PIP_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	$(PY) scripts/vendor_frontend.py
	touch $@

browser:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

clean-venv:
	rm -rf $(VENV) node_modules static/vendor
