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

.PHONY: all venv data test unit notebooks workshop benchmarks grade-references assign assign-check clean help

help:
	@echo "make workshop   run every notebook in full mode into build/ (ipynb + html)"
	@echo "make test       unit tests, notebooks under nbval (quick mode), grader tests"
	@echo "make benchmarks print the speed ratios of benchmarks/"
	@echo "make grade-references  grade the reference homework in full mode (must be 50/50 on both days)"
	@echo "make assign     write the homework templates, reference solutions and requirement text from homework/source/"

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -c "import workshop_utils, torch, keras, keras_tuner, sklearn, logomaker, captum, shap; print('venv ok: torch', torch.__version__, '| keras', keras.__version__)"
	@# compile memelite's TOMTOM once (numba caches it on disk): about a minute of CPU here instead of in day1_02
	$(PY) -c "import warnings; from workshop_utils.motifs import ctcf_pfm, match_motifs; warnings.simplefilter('ignore'); match_motifs([ctcf_pfm()], [ctcf_pfm()] * 25)"
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
	@for b in $(filter-out benchmarks/_%,$(wildcard benchmarks/*.py)); do echo "== $$b"; $(PY) $$b || exit 1; done

# The tests grade the reference solutions in quick mode; this grades them in full mode, what
# students run, against the repository's hidden checks (about 5 minutes). Run it after changing
# a threshold, a practice or the simulator.
grade-references: $(STAMP)
	@rm -rf build/grading
	@for day in 1 2; do \
		mkdir -p build/grading/day$$day && cp tests/homework_solutions/day$${day}_reference.ipynb build/grading/day$$day/ && \
		WORKSHOP_QUICK=0 $(VENV)/bin/workshop-grade build/grading/day$$day --day $$day --out build/grading/day$$day.csv \
			--hidden tests/homework_hidden/hidden_checks.py || exit 1; \
		cat build/grading/day$$day.csv; \
		grep -q ',50,50,ok,' build/grading/day$$day.csv || { echo "day $$day reference is not 50/50 in full mode"; exit 1; }; \
	done

# One master notebook per day (homework/source/dayN.ipynb) gives the student template, the reference
# solution and the requirement text the checks read (homework/README.md, "Changing a practice").
MASTERS := $(sort $(wildcard homework/source/day*.ipynb))
assign: $(STAMP)
	$(PY) -m workshop_utils.grading.assign $(MASTERS)

assign-check: $(STAMP)
	$(PY) -m workshop_utils.grading.assign --check $(MASTERS)

clean:
	rm -rf build .pytest_cache
