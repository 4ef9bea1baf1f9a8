# Relance — build, run and test from a clean clone.
#   make run    installs what is missing, builds, runs the daemon on ./var (outbox transport)
#   make test   installs what is missing, builds, runs unit and integration tests
#   make bench  end-to-end throughput: e-mail into Postfix smtp-sink, SMS into Kannel, the HTTP API
#               (see docs/PERFORMANCE.md)

SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# System packages: libcurl (SMTP), SQLite, OpenSSL (SHA-256), Python for the test peers.
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev libssl-dev sqlite3 python3 python3-venv ca-certificates
# Real peers for the integration tests: Kannel (bearerbox, smsbox, fakesmsc) for SMS.
TEST_APT_PACKAGES := kannel kannel-extras
BENCH_APT_PACKAGES := postfix hey
VENV := .venv
PYTHON := $(VENV)/bin/python
PY_PACKAGES := pytest==9.0.3 aiosmtpd==1.4.6
BIN := .build/debug/relance
PREFIX ?= /usr/local

.PHONY: format lint all deps deps-system deps-test-system deps-python build release run test test-unit test-integration bench clean check-templates

all: build

deps: deps-system deps-python

deps-system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

deps-test-system:
	@missing=""; for p in $(TEST_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: Makefile tests/integration/requirements-api.txt
	/usr/bin/python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check $(PY_PACKAGES) -r tests/integration/requirements-api.txt
	touch $@

deps-python: deps-system deps-test-system $(VENV)/.installed

build: deps-system
	$(SWIFT) build

release: deps-system
	$(SWIFT) build -c release

run: build
	$(BIN) serve $(if $(CONFIG),--config $(CONFIG))

check-templates: build
	$(BIN) templates check

test-unit: deps-system
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-integration: deps-python build
	RELANCE_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest -q tests/integration

test: lint test-unit test-integration

bench: deps-python release
	@missing=""; for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "postfix postfix/main_mailer_type select No configuration" | $(SUDO) debconf-set-selections; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	RELANCE_BIN=$(abspath .build/release/relance) $(PYTHON) bench/email_bench.py $(BENCH_ARGS)
	RELANCE_BIN=$(abspath .build/release/relance) $(PYTHON) bench/api_bench.py
	RELANCE_BIN=$(abspath .build/release/relance) $(PYTHON) bench/sms_bench.py

format:
	$(SWIFT) format -i -r Sources Tests Package.swift

lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift

clean:
	rm -rf .build $(VENV) var
