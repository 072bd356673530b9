# Rapport. `make chat` to talk to it, `make test` to run every test. See README.md.
SHELL := /bin/bash
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)

MODEL := models/rapport.tar.gz
TRAINING_DATA := config.yml domain.yml $(wildcard data/*.yml)

.PHONY: chat serve test bench train setup review

chat: $(MODEL)              ## set up, train if needed, chat in this terminal
	scripts/run.sh chat

serve: $(MODEL)             ## set up, train if needed, run the HTTP server + action server
	scripts/run.sh serve

test: $(MODEL)              ## the whole test suite (what CI runs)
	scripts/test.sh

bench: $(MODEL)             ## speed and accuracy figures
	.venv/bin/python -m bench.all

train: $(MODEL)             ## train only when data or config changed

setup:
	scripts/setup.sh

$(MODEL): $(TRAINING_DATA) | setup
	@echo "Training (data or config changed), a few minutes..."
	.venv/bin/rasa train --fixed-model-name rapport --out models --quiet
	@touch $(MODEL)

review: setup               ## the practice review page on 127.0.0.1 (login from .env)
	.venv/bin/python -m bot.web

.PHONY: serve-cluster load

serve-cluster: $(MODEL)     ## 2 Rasa replicas + action server behind nginx, on PostgreSQL, Redis, RabbitMQ
	scripts/serve_cluster.sh

load: $(MODEL)              ## load test of that cluster (locust): 1 replica, 2, then one killed mid-run
	.venv/bin/python -m bench.load
