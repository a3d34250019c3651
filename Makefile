# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make test EXTRAS=dev` leaves PyTorch, Ray and JupyterLab out (their tests then say they were skipped).
EXTRAS ?= dev,torch,ray,notebook
# Clients whose pins conflict with the server's get virtual environments of their own,
# used by the compatibility suite (tests/compat/). Their versions are pinned so the
# suite tests the same clients everywhere; s3fs is pinned because resolving it against
# SDK v3's botocore otherwise backtracks through every release (minutes).
SDK3 := .venv-sdk3
AWSCLI := .venv-awscli
# Reference tools the benchmarks compare against, never sagebox dependencies.
MLFLOW := .venv-mlflow
# AutoGluon and FLAML for `python -m bench automl_open`. AutoGluon goes in without its
# torch/fastai extras (NN_TORCH and FASTAI models left out): CPU-only and a smaller install.
# FLAML caps xgboost below 3, so pip installs xgboost 2.1 beside AutoGluon's xgboost-cpu
# 3.2 (which it imports as xgboost); both reference systems then train with xgboost 2.1.
AUTOML_REF := .venv-automl-ref

.PHONY: install install-clients demo test lint bench bench-references bench-automl-references api-coverage serve

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install-clients: $(SDK3)/.installed $(AWSCLI)/.installed

$(SDK3)/.installed: Makefile
	test -x $(SDK3)/bin/python || $(PYTHON) -m venv $(SDK3)
	$(SDK3)/bin/python -m pip install --quiet 'sagemaker==3.27.0' 's3fs==0.4.2'
	touch $@

$(AWSCLI)/.installed: Makefile
	test -x $(AWSCLI)/bin/python || $(PYTHON) -m venv $(AWSCLI)
	$(AWSCLI)/bin/python -m pip install --quiet 'awscli==1.46.3'
	touch $@

demo: install
	$(BIN)/sagebox demo

test: install install-clients
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

bench: install
	$(BIN)/python -m bench

# MLflow, the reference of bench/experiments.py's Run.log_metric comparison.
bench-references: $(MLFLOW)/.installed bench-automl-references

bench-automl-references: $(AUTOML_REF)/.installed

$(AUTOML_REF)/.installed: Makefile
	test -x $(AUTOML_REF)/bin/python || $(PYTHON) -m venv $(AUTOML_REF)
	$(AUTOML_REF)/bin/python -m pip install --quiet --upgrade pip
	$(AUTOML_REF)/bin/python -m pip install --quiet 'autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3' 'flaml[automl]==2.7.0' 'pandas<3'
	touch $@

$(MLFLOW)/.installed: Makefile
	test -x $(MLFLOW)/bin/python || $(PYTHON) -m venv $(MLFLOW)
	$(MLFLOW)/bin/python -m pip install --quiet 'mlflow-skinny==3.17.2'
	touch $@

api-coverage: install
	$(BIN)/python scripts/api_coverage.py > docs/API_COVERAGE.md

serve: install
	$(BIN)/sagebox serve
