# MesoGuide: `make run` starts everything, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/mesoguide.tar.gz
# The issue's target for macro F1 on the held-out set is 0.95, and `make test` fails
# below it (the figures and how robust they are: docs/quality.md).
NLU_MIN_MACRO_F1 ?= 0.95

# Every entry point runs with Rasa telemetry off: visitors' health conversations
# must not leave the clinic's servers.
export RASA_TELEMETRY_ENABLED := false
export PYTHONPATH := $(CURDIR)
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_INTRA_OP_PARALLELISM_THREADS ?= 2
export TF_INTER_OP_PARALLELISM_THREADS ?= 2
# Rasa, TensorFlow and their dependencies print pages of deprecation warnings: hidden
# for the rasa commands and the stack; pytest shows warnings in its summary (an empty
# PYTHONWARNINGS counts as unset), so deprecations in our own code surface there.
export PYTHONWARNINGS := ignore
pytest: PYTHONWARNINGS :=
# endpoints.yml reads these two (Rasa fails on an unset ${VAR}): plain `rasa shell`
# under make finds the action server on 5055; an empty secret makes `make run`
# generate a random one per start (scripts/stack.py).
export ACTION_PORT ?= 5055
export MESOGUIDE_ACTION_SECRET ?=

# What the trained model depends on (content answers are read at run time and
# need no training; the terminology builds the spaCy pipeline, so it does).
TRAIN_INPUTS := config.yml domain.yml data/content/terminology.yml \
	$(shell find data/nlu data/rules data/stories components -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null)

.PHONY: help install run train test validate nlu-eval story-test pytest bench clean browser audit

help:
	@echo "make run    install if needed, train if stale, start everything (Ctrl-C stops)"
	@echo "make test   the whole suite: validation, NLU evaluation, test stories, pytest, probes, browser tests"
	@echo "make bench  speed and memory figures"

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	@echo "==> Creating the Python 3.10 environment in $(VENV)"
	test -x $(PY) || $$(scripts/find_python310.sh) -m venv $(VENV)
	$(PY) -m pip install --upgrade --progress-bar on pip==24.2
	@echo "==> Installing pinned dependencies (first time: a few minutes)"
	$(PY) -m pip install --progress-bar on -r requirements-dev.txt -c constraints.txt
	touch $@

install: $(VENV)/.installed

$(MODEL): $(VENV)/.installed $(TRAIN_INPUTS)
	@echo "==> Training the assistant (data, config or domain changed)"
	RASA_MAX_CACHE_SIZE=0 $(RASA) train --fixed-model-name mesoguide --out models
	touch $@

train: $(MODEL)

run: $(MODEL)
	$(PY) -m scripts.stack run

browser:
	scripts/ensure_chromium.sh

validate: $(VENV)/.installed
	@echo "==> rasa data validate (warnings fail)"
	$(RASA) data validate --fail-on-warnings
	$(PY) tests/nlu/check_overlap.py

nlu-eval: $(MODEL)
	@echo "==> NLU evaluation on the held-out set (tests/nlu, never used in training)"
	rm -rf results/nlu
	$(RASA) test nlu --nlu tests/nlu --model $(MODEL) --out results/nlu
	$(PY) scripts/check_nlu_report.py results/nlu --min-macro-f1 $(NLU_MIN_MACRO_F1) --target 0.95

story-test: $(MODEL)
	@echo "==> Test stories"
	rm -rf results/core
	$(RASA) test core --stories tests/stories --model $(MODEL) --fail-on-prediction-errors --out results/core

pytest: $(MODEL) browser
	@echo "==> pytest: actions, components, records, console, web, live probes and browser tests"
	rm -rf results/probes
	$(PY) -m pytest tests -q -rs

# pip-audit of constraints.txt from its own .venv-audit; needs PyPI's JSON API: skipped
# with the reason when unreachable, a failure when CI is set (scripts/audit_deps.py).
audit: $(VENV)/.installed
	@echo "==> Dependency audit (pip-audit; accepted findings: README, Dependency audit)"
	$(PY) scripts/audit_deps.py

test: audit validate nlu-eval story-test pytest

bench: $(MODEL)
	$(PY) bench/run.py; status=$$?; $(PY) bench/peer.py || status=1; $(PY) bench/turn_n.py || status=1; exit $$status

clean:
	rm -rf results artifacts .pytest_cache
