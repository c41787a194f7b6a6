# The two commands: `make bench` and `make test`. Each installs what it needs, once (stamp files).
SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
STAMPS := $(ROOT)/.stamps
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
TARGET ?= qemu-m4
CONFIG ?= default
MODELS ?=
RUNS ?=
PYTEST_ARGS ?=
HARNESS := cd $(ROOT) && $(PY) -m harness

APT_FW := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
APT_TEST := $(APT_FW) qemu-user-static openssh-server clang

# What `make bench` needs besides the venv, by kind of target.
ifneq ($(filter qemu-%,$(TARGET)),)
BENCH_DEPS := $(STAMPS)/apt-fw
endif
ifeq ($(TARGET),rpi4-emu)
BENCH_DEPS := $(STAMPS)/apt-emu
BENCH_WRAP := $(PY) tools/rpi4_emu.py run --
endif
# HOST=/PORT=/USER= on the command line override an SSH target file (USER is always in the environment).
BENCH_ENV := $(if $(HOST),HB_HOST=$(HOST)) $(if $(PORT),HB_PORT=$(PORT)) \
  $(if $(filter command line,$(origin USER)),HB_USER=$(USER))

.PHONY: bench test test-long perf models venv clean distclean doctor targets rpi4-emu firmware

bench: $(STAMPS)/venv $(BENCH_DEPS)
	@echo "== make bench TARGET=$(TARGET) CONFIG=$(CONFIG)"
	@cd $(ROOT) && $(BENCH_ENV) $(BENCH_WRAP) $(PY) -m harness bench --target $(TARGET) --config $(CONFIG) \
	  $(if $(MODELS),--models $(MODELS)) $(if $(RUNS),--runs $(RUNS))

firmware: $(STAMPS)/apt-fw
	@$(MAKE) -s -C $(ROOT)/firmware BOARD=mps2-an386

rpi4-emu: $(STAMPS)/venv $(STAMPS)/apt-emu
	@$(PY) tools/rpi4_emu.py build

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

$(STAMPS)/apt-emu:
	@mkdir -p $(STAMPS)
	@bash $(ROOT)/tools/apt-ensure.sh qemu-user-static openssh-server
	@touch $@

$(STAMPS)/apt-test:
	@mkdir -p $(STAMPS)
	@bash $(ROOT)/tools/apt-ensure.sh $(APT_TEST)
	@touch $@

# The fuzzers (tests/firmware/test_fuzz.py) link clang's sanitizer and libFuzzer runtimes: a
# package clang only Recommends, so apt-ensure's --no-install-recommends leaves it out. Its name
# follows the clang installed by apt-test (clang 14 on bookworm: libclang-rt-14-dev). The stamp
# follows this file, so a new package here reaches machines that already have the stamp.
$(STAMPS)/apt-long: $(STAMPS)/apt-test $(ROOT)/Makefile
	@mkdir -p $(STAMPS)
	@bash $(ROOT)/tools/apt-ensure.sh chromium "libclang-rt-$$(clang -dumpversion | cut -d. -f1)-dev"
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
