# The two commands of the workbook:
#   make workshop   set up .venv, build the data, run every notebook in full mode -> build/
#   make test       set up .venv, unit tests + notebooks under nbval (quick mode) + grader tests
# .venv is built from nothing when missing and skipped when up to date (a stamp file
# records the last install; it is redone when requirements, constraints or pyproject change).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
export OMP_WAIT_POLICY := PASSIVE

.PHONY: all venv data test unit notebooks workshop benchmarks clean help

help:
	@echo "make workshop   run every notebook in full mode into build/ (ipynb + html)"
	@echo "make test       unit tests, notebooks under nbval (quick mode), grader tests"
	@echo "make benchmarks print the speed ratios of benchmarks/"

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -c "import workshop_utils, torch, keras, keras_tuner, sklearn, logomaker, captum, shap; print('venv ok: torch', torch.__version__, '| keras', keras.__version__)"
	@touch $(STAMP)

data: $(STAMP)
	$(PY) -m workshop_utils.datasets

unit: $(STAMP)
	WORKSHOP_QUICK=1 $(PY) -m pytest tests -q -p no:cacheprovider

notebooks: $(STAMP)
	WORKSHOP_QUICK=1 $(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-cell-timeout=900 notebooks

test: $(STAMP)
	WORKSHOP_QUICK=1 $(PY) -m pytest -q -p no:cacheprovider --durations=15 \
		--nbval-lax --nbval-cell-timeout=900 tests notebooks

workshop: data
	@mkdir -p build
	WORKSHOP_QUICK=0 $(PY) -m jupyter nbconvert --to notebook --execute \
		--ExecutePreprocessor.timeout=3600 --output-dir build $(NOTEBOOKS)
	$(PY) -m jupyter nbconvert --to html --output-dir build build/*.ipynb
	@echo "Executed notebooks and HTML are in build/"

benchmarks: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf build .pytest_cache
