# docket — everything a newcomer needs. Run as root on Debian 12 (or with sudo).
#   make run    install what is missing, build Release, run on the shipped config/
#   make test   install what is missing, build, run every test with ctest

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

.PHONY: all deps build run test bench clean

all: build

# Quick no-op when everything is present: one dpkg-query, no apt-get.
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
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

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The scale benchmark (about 10 minutes at the default million reviews):
# prints its figures beside the targets. REVIEWS=100000 for a quick look.
REVIEWS ?= 1000000
bench: build
	$(BUILD_DIR)/bin/docket_bench --reviews $(REVIEWS)

clean:
	rm -rf $(BUILD_DIR)
