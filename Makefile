# Renewals: `make run` starts everything on embedded backends, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := shared services/order-service services/token-service services/reseller-service services/notifier services/gateway
STAMP := $(VENV)/.installed

.PHONY: run up down test test-fast lint bench lock clean install

install: $(STAMP)

$(STAMP): requirements.lock $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps $(foreach p,$(PACKAGES),-e $(p))
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python tools/devstack.py

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check shared services tests tools bench
	$(BIN)/ruff format --check shared services tests tools bench

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

deploy/compose.env:
	$(PYTHON) deploy/compose_env.py $@

up: deploy/compose.env
	docker compose --env-file deploy/compose.env --profile demo up --build -d
	@echo "gateway: http://127.0.0.1:8000  mail: http://127.0.0.1:8025  (ops token: grep OPS_TOKEN deploy/compose.env)"

down:
	docker compose --env-file deploy/compose.env --profile demo down

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^renewals' > requirements.lock

clean:
	rm -rf $(VENV) var
