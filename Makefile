# Rapport. `make chat` to talk to it, `make test` to run every test. See README.md.
SHELL := /bin/bash
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)

MODEL := models/rapport.tar.gz
TRAINING_DATA := config.yml domain.yml $(wildcard data/*.yml)
# The language layer's heads (bot/language/train.py): the corpus's training side, our own lines,
# the intent examples, the code that turns them into numbers, and the hand-written answer lexicon
# (bot/scoring.py + scoring.yml), whose reading the band and level heads take as input.
LANGUAGE_MODEL := models/language.npz
LANGUAGE_DATA := $(wildcard corpus/*.train.yml corpus/authored/*.yml) data/nlu.yml requirements-model.txt \
	$(addprefix bot/language/,train.py heads.py encoder.py model.py normalize.py textspeak.yml) \
	bot/scoring.py bot/scoring.yml
MODELS := $(MODEL) $(LANGUAGE_MODEL)
DEV_VENV := .venv-dev

.PHONY: chat serve test test-unit check bench train setup review

chat: $(MODELS)             ## set up, train if needed, chat in this terminal
	scripts/run.sh chat

serve: $(MODELS)            ## set up, train if needed, run the HTTP server + action server
	scripts/run.sh serve

test: $(MODELS)             ## the whole test suite (what CI runs)
	scripts/test.sh

test-unit: $(LANGUAGE_MODEL)  ## the fast tests for the inner loop: no Rasa server or model, under a minute
	scripts/test.sh --unit

check: $(DEV_VENV)/.installed | setup  ## ruff and mypy on bot/ (ruff.toml, mypy.ini)
	$(DEV_VENV)/bin/ruff check bot
	$(DEV_VENV)/bin/mypy --python-executable .venv/bin/python

# ruff and mypy live in their own venv, pinned in requirements-dev.txt and constraints.txt.
$(DEV_VENV)/.installed: requirements-dev.txt constraints.txt | setup
	.venv/bin/python -m venv --clear $(DEV_VENV)
	$(DEV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@touch $@

bench: $(MODELS)            ## speed and accuracy figures
	.venv/bin/python -m bench.all

train: $(MODELS)            ## train only when data or config changed

setup:
	scripts/setup.sh

$(MODEL): $(TRAINING_DATA) | setup
	@echo "Training (data or config changed), a few minutes..."
	.venv/bin/rasa train --fixed-model-name rapport --out models --quiet
	@touch $(MODEL)

$(LANGUAGE_MODEL): $(LANGUAGE_DATA) | setup
	@echo "Training the language layer (corpus or its code changed), about a minute..."
	.venv/bin/python -m bot.language.train

review: setup               ## the practice review page on 127.0.0.1 (login from .env)
	.venv/bin/python -m bot.web

.PHONY: serve-cluster load

serve-cluster: $(MODELS)    ## 2 Rasa replicas + action server behind nginx, on PostgreSQL, Redis, RabbitMQ
	scripts/serve_cluster.sh

load: $(MODELS)             ## load test of that cluster (locust): 1 replica, 2, then one killed mid-run
	.venv/bin/python -m bench.load
