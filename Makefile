# Every target creates .venv and installs what it needs on its own (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps -c constraints.txt bokeh_sampledata
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lstmkit info

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/lstm_kernels.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
