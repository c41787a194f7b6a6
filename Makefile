# The two commands: `make bench` and `make test`. Each installs what it needs, once (stamp files).
SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
STAMPS := $(ROOT)/.stamps
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
TARGET ?= host
CONFIG ?= default
MODELS ?=
RUNS ?=
PYTEST_ARGS ?=
HARNESS := cd $(ROOT) && $(PY) -m harness

APT_FW := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
APT_TEST := $(APT_FW) qemu-user-static openssh-server clang

.PHONY: bench test test-long perf models venv clean distclean doctor targets

bench: $(STAMPS)/venv $(BENCH_DEPS)
	@echo "== make bench TARGET=$(TARGET) CONFIG=$(CONFIG)"
	@$(HARNESS) bench --target $(TARGET) --config $(CONFIG) \
	  $(if $(MODELS),--models $(MODELS)) $(if $(RUNS),--runs $(RUNS))

test: $(STAMPS)/venv $(STAMPS)/apt-test
	@echo "== make test"
	@cd $(ROOT) && $(PY) -m pytest -q $(PYTEST_ARGS)

test-long: $(STAMPS)/venv $(STAMPS)/apt-test $(STAMPS)/apt-long
	@cd $(ROOT) && $(PY) -m pytest -q -m long $(PYTEST_ARGS)

perf: $(STAMPS)/venv
	@cd $(ROOT) && $(PY) bench/perf.py

doctor targets: $(STAMPS)/venv
	@$(HARNESS) $@

venv: $(STAMPS)/venv

$(STAMPS)/apt-host:
	@mkdir -p $(STAMPS)
	@command -v python3 >/dev/null && python3 -c "import venv, ensurepip" 2>/dev/null || \
	  bash $(ROOT)/tools/apt-ensure.sh python3 python3-venv
	@touch $@

$(STAMPS)/apt-fw:
	@mkdir -p $(STAMPS)
	@bash $(ROOT)/tools/apt-ensure.sh $(APT_FW)
	@touch $@

$(STAMPS)/apt-test:
	@mkdir -p $(STAMPS)
	@bash $(ROOT)/tools/apt-ensure.sh $(APT_TEST)
	@touch $@

$(STAMPS)/apt-long:
	@mkdir -p $(STAMPS)
	@bash $(ROOT)/tools/apt-ensure.sh chromium
	@touch $@

$(STAMPS)/venv: requirements.txt $(STAMPS)/apt-host
	@echo "== python venv $(VENV) (pinned requirements.txt)"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

models:
	@echo "== regenerating models/ (needs tensorflow-cpu; dev only)"
	@test -x $(ROOT)/.venv-models/bin/python || python3 -m venv $(ROOT)/.venv-models
	@$(ROOT)/.venv-models/bin/pip install -q -r tools/requirements-models.txt
	@cd $(ROOT) && .venv-models/bin/python tools/make_models.py

clean:
	rm -rf $(ROOT)/results $(ROOT)/firmware/build $(ROOT)/.pytest_cache
	find $(ROOT) -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(ROOT)/.venv-models $(STAMPS) $(ROOT)/.cache
