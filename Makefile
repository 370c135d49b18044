# docket — everything a newcomer needs. Run as root on Debian 12 (or with sudo).
#   make run    install what is missing, build Release, run on the shipped config/
#   make test   install what is missing, build, run every test with ctest, then
#               again under AddressSanitizer + UBSan (SANITIZE=0 skips that pass)
#   make test-sanitize   only the sanitized pass (build-sanitize/)
#   make fuzz   libFuzzer targets (clang) for FUZZ_SECONDS each (build-fuzz/)
#   make powercut   docketd killed POWERCUT_RUNS times under the power-cut
#               recorder, each disk it could leave checked (docs/development.md)

SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CONFIG ?= config

# Debian 12 packages. Boost only as the versioned 1.81 packages: the
# unversioned libboost-*-dev are 1.74 and conflict.
DEBIAN_PACKAGES := build-essential cmake ninja-build pkg-config tzdata \
  libboost1.81-dev libsqlite3-dev libspdlog-dev libtomlplusplus-dev \
  libgtest-dev libgmock-dev libcurl4-openssl-dev libcli11-dev \
  nlohmann-json3-dev libhowardhinnant-date-dev libical-dev libssl-dev \
  libsystemd-dev python3 python3-aiosmtpd python3-icalendar

# Only `make fuzz` needs clang and its sanitizer runtimes.
FUZZ_PACKAGES := clang libclang-rt-14-dev
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
SANITIZE_DIR := build-sanitize
SANITIZE ?= 1

.PHONY: all deps fuzz-deps build run test test-sanitize fuzz bench powercut clean

all: build

# Quick no-op when everything is present: one dpkg-query, no apt-get.
deps: PACKAGES = $(DEBIAN_PACKAGES)
fuzz-deps: PACKAGES = $(FUZZ_PACKAGES)
deps fuzz-deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "docket: installing missing Debian packages:" $$missing; \
	  sudo=""; [ "$$(id -u)" -ne 0 ] && sudo=sudo; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get update -q && $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Checks the shipped configuration, then runs docketd in the foreground on it,
# with its SQLite database and control socket under ./var/. Ctrl-C stops it.
# In another terminal: build/bin/docket start rapid-review --ref RR-2026-001
run: build
	$(BUILD_DIR)/bin/docket validate --config $(CONFIG)
	mkdir -p var
	exec $(BUILD_DIR)/bin/docketd --config $(CONFIG)

# CI runs this: the release suite, then the sanitized one (about 5 + 11
# minutes from clean on 2 idle cores; CI's budget is 30).
test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)
	@if [ "$(SANITIZE)" != 0 ]; then $(MAKE) --no-print-directory test-sanitize; fi

# Every test once more under AddressSanitizer and UndefinedBehaviorSanitizer
# (the `sanitize` preset, a Debug build in build-sanitize/).
test-sanitize: deps
	cmake --preset sanitize
	cmake --build --preset sanitize -j $(JOBS)
	ctest --preset sanitize -j $(JOBS)

# libFuzzer: the definition loader, the control protocol and the
# date/duration parsers, each for FUZZ_SECONDS on seeds from config/,
# tests/data and fuzz/seeds. A crash fails the run and leaves its input in
# build-fuzz/artifacts/.
fuzz: deps fuzz-deps
	cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DDOCKET_FUZZ=ON -DDOCKET_BUILD_TESTS=OFF
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_workflow fuzz_request fuzz_duration
	fuzz/run $(FUZZ_DIR) $(FUZZ_SECONDS)

# The scale benchmark (about 10 minutes at the default million reviews):
# prints its figures beside the targets. REVIEWS=100000 for a quick look.
REVIEWS ?= 1000000
bench: build
	$(BUILD_DIR)/bin/docket_bench --reviews $(REVIEWS)

# The power-cut test at length (make test runs 24 cuts, 6 sanitized): POWERCUT_RUNS
# kills of docketd under the recorder, three disks checked for each;
# POWERCUT_SEED=N repeats a run's choices. Prints its figures at the end.
POWERCUT_RUNS ?= 300
POWERCUT_SEED ?=
powercut: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS) --target docketd docket ops_test
	DOCKET_POWERCUT_RUNS=$(POWERCUT_RUNS) $(if $(POWERCUT_SEED),DOCKET_POWERCUT_SEED=$(POWERCUT_SEED)) \
	  $(BUILD_DIR)/bin/ops_test --gtest_filter='PowerCut.*:PowerCutDisk.*'

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)
