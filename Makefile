# cnnkit: run `make notebooks` to execute the course, `make test` to test it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
SOLUTIONS := $(sort $(wildcard notebooks/solutions/[0-9][0-9]_*_solutions.ipynb))
# make notebooks QUICK=1 runs them in quick mode (less data, fewer epochs, same models).
QUICK ?= 0

.PHONY: install notebooks test test-slow lab kernel bench bench-quick lint format clean

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Each notebook runs from its own folder, as Jupyter runs it; the solutions follow the course.
notebooks: install
	@for nb in $(NOTEBOOKS) $(SOLUTIONS); do \
		echo "executing $$nb"; start=$$(date +%s); \
		(cd $$(dirname $$nb) && CNNKIT_QUICK=$(QUICK) $(CURDIR)/$(VENV)/bin/jupyter nbconvert \
			--to notebook --execute --inplace --ExecutePreprocessor.timeout=3600 \
			$$(basename $$nb)) || exit 1; \
		echo "  done in $$(( $$(date +%s) - start )) s"; \
	done

# Unit tests, doctests and every notebook in quick mode; slow checks run by `make test-slow`.
# Two workers, each test file (each notebook) on one of them: 4.5 instead of 6.5 minutes on
# 2 cores, since kernels start and TensorFlow imports while the other worker computes.
test: install
	CNNKIT_QUICK=1 $(PY) -m pytest -m "not slow" -n 2 --dist loadfile

test-slow: install
	CNNKIT_QUICK=1 $(PY) -m pytest -m slow cnnkit tests

# Jupyter refuses to start as root (as in most containers) without --allow-root.
lab: install
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

# Registers the venv as the Jupyter kernel "cnnkit", for an existing Jupyter or VS Code.
kernel: install
	$(PY) -m ipykernel install --user --name cnnkit --display-name "cnnkit (.venv)"

bench: install
	$(PY) -m benchmarks

bench-quick: install
	$(PY) -m benchmarks --quick

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis notebooks/*.keras notebooks/solutions/*.keras
	find . -name "*.cache.npz" -not -path "./$(VENV)/*" -delete
