# Two commands do everything: `make demo` and `make test`. Each creates the local
# .venv only when it is missing and reinstalls only when pyproject.toml changed.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lab install browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name workbench --display-name "Workbench (.venv)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (playwright's own download does not work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: run 'sudo apt-get install chromium' for the browser tests"; fi; }

demo: $(STAMP)
	$(VENV)/bin/workbench run --legacy legacy_app --target reports/target_app --reports reports
	@echo "Reports: reports/index.html (stakeholders), reports/notebooks/ (executed notebooks), reports/map/ (CSV, SARIF, JSON)"

test: $(STAMP) browser
	$(PY) -m pytest -n 2 -q

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

clean:
	rm -rf reports/*/ reports/*.html .pytest_cache
