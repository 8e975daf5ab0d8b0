# VideoMerge developer entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
RUFF := $(VENV)/bin/ruff
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help install lint fmt test test-unit test-integration test-e2e bench crd-sync \
        cluster-up cluster-down kubeconfig webhook-secret images up down demo token clean \
        kind-up kind-run kind-down test-kind

help: ## Show this help
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv with the project, its components and dev tools (idempotent)
$(VENV)/.installed: pyproject.toml hack/install-deps.sh
	bash hack/install-deps.sh
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

lint: install ## ruff check + format check, mypy on the contract
	$(RUFF) check .
	$(RUFF) format --check .
	$(VENV)/bin/mypy crds/videomerge_contract

fmt: install ## Apply ruff fixes and formatting
	$(RUFF) check --fix .
	$(RUFF) format .

test: ## Every test layer: unit, integration (local cluster), e2e (chart on the local cluster), kind
	bash hack/run-tests.sh unit integration e2e kind

test-unit: install ## The fast layer: no cluster, seconds
	bash hack/run-tests.sh unit

test-integration: install ## Tests against the local cluster's real API server (starts it when down)
	bash hack/run-tests.sh integration

test-e2e: install ## The chart installed on the local cluster with real worker containers
	bash hack/run-tests.sh e2e

test-kind: install ## The chart with its default values on a kind cluster (starts it when down)
	bash hack/run-tests.sh kind

bench: install ## Benchmarks: ratios against baselines, side by side
	bash hack/run-bench.sh

crd-sync: ## Copy crds/videomerge.yaml into the chart (a unit test fails when they differ)
	cp crds/videomerge.yaml charts/videomerge/crds/videomerge.yaml

cluster-up: ## Start the local single-node Kubernetes (builds it on first use)
	bash hack/cluster-up.sh

cluster-down: ## Stop the local cluster and remove every process, mount and iptables rule of ours
	bash hack/cluster-down.sh

kubeconfig: ## Print the local cluster's kubeconfig path (last line)
	@bash hack/kubeconfig.sh

webhook-secret: ## Print the local install's webhook signing secret (whsec_…, last line)
	@bash hack/webhook-secret.sh

images: ## Build the project images from a local base and load them into the cluster's containerd
	bash hack/images.sh

up: install ## Cluster up, images loaded, chart installed; API at http://127.0.0.1:8080
	bash hack/up.sh

down: ## Uninstall the chart and stop the cluster
	bash hack/down.sh

demo: install ## A real merge end to end on the local install, driven by the videomerge CLI
	bash hack/demo.sh

token: ## Print a bearer token for API client NAME of the local install (last line; NAME=admin: the admin)
	@bash hack/token.sh "$(NAME)"
kind-up: install ## kind cluster (1+2 nodes) in its own network namespace, chart installed; prints KUBECONFIG and API
	bash hack/kind/up.sh

kind-run: export KIND_RUN_CMD = $(value CMD)
kind-run: ## Run CMD='...' inside the kind cluster's network namespace (KUBECONFIG, API, kubectl, helm set)
	@bash hack/kind/run.sh "$$KIND_RUN_CMD"

kind-down: ## Remove the kind cluster: nodes, its dockerd and data, port-forwards, mounts, network namespace
	bash hack/kind/down.sh

clean: ## Remove the virtualenv and caches inside the repo
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
