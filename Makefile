# The README's commands. Each target sets up .venv itself when it is missing or stale
# (setup.cfg or pyproject.toml changed since the last install).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

# ECharts, the console's chart library: from the npm registry at build time (pinned version,
# npm checks the tarball's integrity; we check the file's own SHA-256), served by the gateway
# itself from gateway/console/static/vendor/. Nothing is fetched when the gateway runs.
ECHARTS_VERSION := 6.1.0
ECHARTS_SHA256 := b66b25aeb4df84e33199dc21694014d336d222cbd9deb0e5a7c14bd6aa0d0fd0
VENDOR := gateway/console/static/vendor
ECHARTS := $(VENDOR)/echarts.min.js

.PHONY: setup demo test bench lint format clean screenshots translations

setup: $(STAMP) $(ECHARTS)

$(ECHARTS): Makefile
	@mkdir -p $(VENDOR) $(VENV)/npm
	cd $(VENV)/npm && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null
	tar -xzf $(VENV)/npm/echarts-$(ECHARTS_VERSION).tgz -C $(VENV)/npm package/dist/echarts.min.js package/LICENSE package/NOTICE
	echo "$(ECHARTS_SHA256)  $(VENV)/npm/package/dist/echarts.min.js" | sha256sum -c --quiet
	cp $(VENV)/npm/package/LICENSE $(VENDOR)/ECHARTS-LICENSE
	cp $(VENV)/npm/package/NOTICE $(VENDOR)/ECHARTS-NOTICE
	cp $(VENV)/npm/package/dist/echarts.min.js $@

$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP) $(ECHARTS)
	$(VENV)/bin/svcard demo $(DEMO_ARGS)

test: $(STAMP) $(ECHARTS)
	@bash scripts/servers.sh
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# PNGs of every console page in both languages, on a fresh demo, into docs/console/.
screenshots: $(STAMP) $(ECHARTS)
	$(PY) scripts/screenshots.py docs/console

# The console's message catalogues: extract, update, compile (the .po and .mo are committed).
translations: $(STAMP)
	$(VENV)/bin/pybabel extract -F gateway/console/babel.cfg -k _l -o gateway/console/translations/messages.pot --no-location --omit-header gateway/console
	$(VENV)/bin/pybabel update -i gateway/console/translations/messages.pot -d gateway/console/translations -l zh_Hans_CN --no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d gateway/console/translations --statistics

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis $(VENDOR)
