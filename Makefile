# rastreio — Telegram bot that tracks Correios parcels.
GO       ?= go
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR    = $(DESTDIR)$(PREFIX)/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# One tag set everywhere: a different one recompiles SQLite (~50 s).
TAGS     ?= sqlite_omit_load_extension
LDFLAGS   = -s -w -X main.version=$(VERSION)
# go-sqlite3 needs cgo: without a C compiler fail loudly, never build a stub.
export CGO_ENABLED = 1

BINARIES = bin/rastreio-bot bin/rastreio-tracker

.PHONY: default build run demo test test-browser bench lint vet fmt clean install uninstall dist test-systemd
default: build

build: ## bin/rastreio-bot and bin/rastreio-tracker
	$(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o bin/rastreio-bot ./cmd/bot
	$(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o bin/rastreio-tracker ./cmd/tracker

run: build ## run the bot (needs TELEGRAM_BOT_TOKEN; database ./rastreio.db)
	./bin/rastreio-bot

demo: build ## the bot in a browser chat: no token, key or network (DEMO_ADDR, DEMO_PASS_INTERVAL, DEMO_DIR)
	$(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o bin/rastreio-demo ./cmd/demo
	./bin/rastreio-demo

test: ## every test that runs as a normal user, with the race detector
	$(GO) test -race -count=1 -tags '$(TAGS)' ./...

test-browser: ## the demo's story in headless chromium (.ci/install-browser installs it); screenshots in bin/screenshots
	$(GO) test -count=1 -tags '$(TAGS) browser' -run TestBrowserStory -v ./cmd/demo

bench: ## benchmarks; each prints its figure as a ratio to its bound
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -tags '$(TAGS)' ./...

vet:
	$(GO) vet -tags '$(TAGS)' ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

lint: fmt vet ## gofmt, go vet, staticcheck (pinned in go.mod's tool directive)
	$(GO) tool staticcheck -tags '$(TAGS)' ./...

clean:
	rm -rf bin dist

# --- installing and shipping (deploy/systemd) --------------------------------
# install-units, uninstall-units, install-bin; the same file is the
# Makefile fragment of the release tarball, so it never builds.
BUILD_BIN = $(MAKE) --no-print-directory build
include deploy/systemd/install.mk

install: build ## binaries → $(DESTDIR)$(PREFIX)/bin
	@$(MAKE) --no-print-directory install-bin

uninstall: uninstall-bin ## remove the binaries (the units: uninstall-units)

DISTDIR  ?= dist
DISTNAME  = rastreio-$(VERSION)-linux-$(shell $(GO) env GOARCH)
dist: build ## release tarball: binaries, units, env template, Makefile fragment (install without Go)
	rm -rf '$(DISTDIR)/$(DISTNAME)'
	install -d '$(DISTDIR)/$(DISTNAME)/bin' '$(DISTDIR)/$(DISTNAME)/deploy/systemd' '$(DISTDIR)/$(DISTNAME)/docs'
	install -m 0755 $(BINARIES) '$(DISTDIR)/$(DISTNAME)/bin/'
	install -m 0644 deploy/systemd/rastreio-bot.service deploy/systemd/rastreio-tracker.service \
		deploy/systemd/rastreio.env deploy/systemd/install.mk '$(DISTDIR)/$(DISTNAME)/deploy/systemd/'
	install -m 0644 deploy/systemd/dist.mk '$(DISTDIR)/$(DISTNAME)/Makefile'
	install -m 0644 README.md '$(DISTDIR)/$(DISTNAME)/'
	install -m 0644 docs/operations.md '$(DISTDIR)/$(DISTNAME)/docs/'
	tar -C '$(DISTDIR)' --owner=0 --group=0 --numeric-owner --sort=name -czf '$(DISTDIR)/$(DISTNAME).tar.gz' '$(DISTNAME)'
	rm -rf '$(DISTDIR)/$(DISTNAME)'
	@echo '$(DISTDIR)/$(DISTNAME).tar.gz'

test-systemd: ## (root) the units under a real systemd 252 in a throwaway container
	deploy/systemd/test-systemd.sh
