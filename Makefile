# Two commands for a newcomer: `make run` starts the app, `make test` runs every test.
# Both install whatever is missing first, and are quick the second time.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
JS_STAMP := static/vendor/.installed
CHROMIUM ?= /usr/bin/chromium

# Translations: locale/<ll_CC>/LC_MESSAGES/fer.po in git; the .mo files and the webcam page's
# i18n/*.json are built from them (see fer/i18n.py).
PO_FILES := $(wildcard locale/*/LC_MESSAGES/fer.po)
MO_FILES := $(PO_FILES:.po=.mo)
WEBCAM_I18N_STAMP := static/webcam/i18n/.built
POT := locale/fer.pot

.PHONY: run test setup browser fonts compile-translations translations clean-venv

# One server process holds every student's session, so `make run` bounds what it keeps once a
# class has come and gone (measured with bench/bench_classroom.py):
# - TF_ENABLE_ONEDNN_OPTS=0: TensorFlow's oneDNN allocator keeps the peak of all the predictions
#   ever made at once and never gives it back (ten students opening the confusion matrix together
#   left the server at 6 GB for good); without it, tensors go back to the system when freed.
#   The server only predicts small batches; the trainings run in worker processes.
# - MALLOC_ARENA_MAX=2, MALLOC_MMAP_THRESHOLD_=1048576: glibc gives each thread (each session's
#   script run) an arena of its own and keeps what is freed there; two arenas, and blocks of 1 MB
#   and more mapped straight from and back to the system, kept 0.1 GB where 0.9 GB stayed after
#   eight threads had predicted at once.
SERVER_ENVIRONMENT := TF_ENABLE_ONEDNN_OPTS=0 MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=1048576

run: setup
	$(SERVER_ENVIRONMENT) $(PY) -m streamlit run streamlit_app.py

test: setup browser fonts $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15

setup: $(PIP_STAMP) $(JS_STAMP) compile-translations

compile-translations: $(MO_FILES) $(WEBCAM_I18N_STAMP)

locale/%/LC_MESSAGES/fer.mo: locale/%/LC_MESSAGES/fer.po $(PIP_STAMP)
	$(VENV)/bin/pybabel compile --domain fer --directory locale --locale $* --statistics

# The webcam page (and the shipped bundles' copies of it) reads its sentences from JSON made from the
# same catalogues.
$(WEBCAM_I18N_STAMP): $(PO_FILES) fer/i18n.py scripts/webcam_i18n.py $(PIP_STAMP) $(JS_STAMP)
	$(PY) scripts/webcam_i18n.py
	touch $@

# After adding or changing a sentence: extract every _(), ngettext(), N_() and data-i18n text
# into locale/fer.pot, then update each language's .po (new sentences arrive untranslated).
translations: $(PIP_STAMP)
	PYTHONPATH=scripts $(VENV)/bin/pybabel extract --mapping-file babel.cfg --output-file $(POT) \
	  --add-location file --sort-by-file --no-wrap --project "FER course" \
	  --add-comments "TRANSLATORS:" --strip-comments .
	$(VENV)/bin/pybabel update --input-file $(POT) --output-dir locale --domain fer \
	  --no-wrap --ignore-obsolete --ignore-pot-creation-date

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

# Chinese in the browser tests' Chromium (and in the charts it draws): Debian's Noto CJK fonts.
fonts:
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || { \
	  echo "Installing Debian's fonts-noto-cjk for Chinese in the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-noto-cjk; }
	@fc-list 2>/dev/null | grep -qi "Noto Color Emoji" || { \
	  echo "Installing Debian's fonts-noto-color-emoji for the navigation's icons in headless Chromium"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-noto-color-emoji || \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-noto-color-emoji; }; }

clean-venv:
	rm -rf $(VENV) node_modules static/vendor
