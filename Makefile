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
PER_LAYER ?=
PYTEST_ARGS ?=
HARNESS := cd $(ROOT) && $(PY) -m harness

APT_FW := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
APT_LAB := ser2net
APT_TEST := $(APT_FW) qemu-user-static openssh-server clang $(APT_LAB)

# User values (TARGET, CONFIG, MODELS, RUNS, PER_LAYER, HOST, PORT, USER) reach the harness as HB_* environment
# variables, never through a shell or a second make expansion: $(value …) is the text as typed, and
# `unexport` stops make from expanding command-line variables into the recipes' environment itself,
# and the harness runs without MAKEFLAGS, where make keeps them for sub-makes (the firmware build would
# expand them again). The harness expands MODELS' globs (cli.py); recipes never contain these values.
BENCH_VARS := TARGET CONFIG MODELS RUNS PER_LAYER HOST PORT
unexport $(BENCH_VARS)
bench: export HB_TARGET = $(value TARGET)
bench: export HB_CONFIG = $(value CONFIG)
bench: export HB_MODELS = $(value MODELS)
bench: export HB_RUNS = $(value RUNS)
bench: export HB_PER_LAYER = $(value PER_LAYER)
# HOST=/PORT=/USER= on the command line override an SSH target file (USER is always in the environment).
ifneq ($(value HOST),)
bench: export HB_HOST = $(value HOST)
endif
ifneq ($(value PORT),)
bench: export HB_PORT = $(value PORT)
endif
ifeq ($(origin USER),command line)
unexport USER
bench: export HB_USER = $(value USER)
endif

# What `make bench` needs besides the venv, by kind of target.
ifneq ($(filter qemu-%,$(value TARGET)),)
BENCH_DEPS := $(STAMPS)/apt-fw
endif
ifeq ($(value TARGET),rpi4-emu)
BENCH_DEPS := $(STAMPS)/apt-emu
BENCH_WRAP := $(PY) -m tools.rpi4_emu run --
endif

.PHONY: bench test test-long perf models venv clean distclean doctor targets rpi4-emu firmware lab-demo recipes recipes-venv recipes-doc readme-figures

bench: $(STAMPS)/venv $(BENCH_DEPS)
	@printf '== make bench TARGET=%s CONFIG=%s\n' "$$HB_TARGET" "$$HB_CONFIG"
	@cd $(ROOT) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(BENCH_WRAP) $(PY) -m harness bench

# `harness recipes` for the digits model: TensorFlow in its own venv (.venv-recipes), the targets
# qemu-m4 and host unless TARGET= is given; comparisons in results/recipes/<target>/. Values reach the
# harness as HB_RECIPE_TARGETS / HB_RUNS (never through a shell), as for bench.
RECIPE_TARGETS := $(if $(filter command line environment,$(origin TARGET)),$(value TARGET),qemu-m4 host)
recipes: export HB_RECIPE_TARGETS = $(RECIPE_TARGETS)
recipes: export HB_RUNS = $(value RUNS)
recipes: $(STAMPS)/venv $(STAMPS)/apt-fw $(STAMPS)/recipes-venv $(if $(filter rpi4-emu,$(RECIPE_TARGETS)),$(STAMPS)/apt-emu)
	@echo "== make recipes (digits) on $$HB_RECIPE_TARGETS"
	@cd $(ROOT) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(if $(filter rpi4-emu,$(RECIPE_TARGETS)),$(PY) -m tools.rpi4_emu run --) \
	  $(PY) -m harness recipes --digits

recipes-venv: $(STAMPS)/recipes-venv

# docs/recipes.md's tables: make recipes on qemu-m4, host and rpi4-emu, then tools/recipes_doc.py.
recipes-doc:
	@$(MAKE) -s recipes TARGET="qemu-m4 host"
	@$(MAKE) -s recipes TARGET=rpi4-emu
	@cd $(ROOT) && $(PY) -m tools.recipes_doc

$(STAMPS)/recipes-venv: tools/requirements-recipes.txt $(STAMPS)/apt-host
	@echo "== TensorFlow venv $(ROOT)/.venv-recipes (pinned tools/requirements-recipes.txt)"
	@test -x $(ROOT)/.venv-recipes/bin/python || python3 -m venv $(ROOT)/.venv-recipes
	@$(ROOT)/.venv-recipes/bin/pip install -q --disable-pip-version-check -r tools/requirements-recipes.txt
	@mkdir -p $(STAMPS) && touch $@

# README.md's report excerpts (<!-- figures:… --> blocks): the benches they quote, run now (tools/readme_figures.py).
readme-figures: $(STAMPS)/venv $(STAMPS)/apt-fw
	@cd $(ROOT) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(PY) -m tools.readme_figures

firmware: $(STAMPS)/apt-fw
	@$(MAKE) -s -C $(ROOT)/firmware BOARD=mps2-an386

rpi4-emu: $(STAMPS)/venv $(STAMPS)/apt-emu
	@cd $(ROOT) && $(PY) -m tools.rpi4_emu build

test: $(STAMPS)/venv $(STAMPS)/apt-test
	@echo "== make test"
	@cd $(ROOT) && $(PY) -m pytest -q $(PYTEST_ARGS)

test-long: $(STAMPS)/venv $(STAMPS)/apt-test $(STAMPS)/apt-long $(STAMPS)/recipes-venv
	@cd $(ROOT) && $(PY) -m pytest -q -m long $(PYTEST_ARGS)

# A labgrid lab on loopback (coordinator, exporter, QEMU boards, ser2net) and `harness lab` on it (docs/lab.md).
lab-demo: export HB_RUNS = $(value RUNS)
lab-demo: $(STAMPS)/venv $(STAMPS)/apt-fw $(STAMPS)/apt-lab
	@echo "== make lab-demo"
	@cd $(ROOT) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(PY) -m harness.locallab.demo $${HB_RUNS:+--runs "$$HB_RUNS"}

perf: $(STAMPS)/venv
	@cd $(ROOT) && $(PY) -m bench.perf

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

$(STAMPS)/apt-lab:
	@mkdir -p $(STAMPS)
	@bash $(ROOT)/tools/apt-ensure.sh $(APT_LAB)
	@touch $@

# The fuzzers (tests/firmware/test_fuzz.py) link clang's sanitizer and libFuzzer runtimes: a
# package clang only Recommends, so apt-ensure's --no-install-recommends leaves it out. Its name
# follows the clang installed by apt-test (clang 14 on bookworm: libclang-rt-14-dev). The stamp
# follows this file, so a new package here reaches machines that already have the stamp.
$(STAMPS)/apt-long: $(STAMPS)/apt-test $(ROOT)/Makefile
	@mkdir -p $(STAMPS)
	@bash $(ROOT)/tools/apt-ensure.sh chromium "libclang-rt-$$(clang -dumpversion | cut -d. -f1)-dev"
	@touch $@

# pyserial-labgrid (labgrid's dependency) provides the `serial` module: a pyserial left from an older
# venv is removed and the fork reinstalled over it, so one `serial` module remains. The project is
# installed editable (no dependencies) so its pytest11 entry point, the lab plugin, is registered and
# .venv/bin/harness runs the README's `harness …` lines (tests/host/test_packaging.py: pip install . too).
$(STAMPS)/venv: requirements.txt pyproject.toml setup.py $(STAMPS)/apt-host
	@echo "== python venv $(VENV) (pinned requirements.txt)"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@if $(PY) -m pip show -q pyserial >/dev/null 2>&1; then \
	  $(PY) -m pip uninstall -q -y pyserial && \
	  $(PY) -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$$(grep '^pyserial-labgrid==' requirements.txt)"; fi
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps -e $(ROOT)
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
	rm -rf $(VENV) $(ROOT)/.venv-models $(ROOT)/.venv-recipes $(STAMPS) $(ROOT)/.cache
