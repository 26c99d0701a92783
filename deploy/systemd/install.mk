# Installing rastreio as two systemd services. Included by the repository's
# Makefile and shipped as the Makefile of the `make dist` tarball, so it never
# builds anything: it installs bin/rastreio-bot and bin/rastreio-tracker as
# they are (no Go or C compiler needed on the server).
#
#   make install          binaries → $(DESTDIR)$(PREFIX)/bin
#   make install-units    (root) binaries if missing, units, env template,
#                         credential store, daemon-reload, enable, start
#   make uninstall-units  (root) stop, disable, remove the units; keeps the
#                         database, settings and credentials
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(DESTDIR)$(PREFIX)/bin
# Where the binaries to install are (bin/ of the repository or the tarball).
BINSRC     ?= bin
UNITSRC    ?= deploy/systemd
UNITDIR    ?= $(DESTDIR)/etc/systemd/system
CONFDIR    ?= $(DESTDIR)/etc/rastreio
CREDSTORE  ?= $(DESTDIR)/etc/credstore
STATEDIR   ?= /var/lib/rastreio
SYSTEMCTL  ?= systemctl
# How to get bin/ when it is missing: the repository's Makefile sets it to
# its build; a release tarball has bin/ and no way to build.
BUILD_BIN  ?=
PROGRAMS    = rastreio-bot rastreio-tracker
UNITS       = rastreio-bot.service rastreio-tracker.service

.PHONY: install-bin install-units uninstall-units uninstall-bin

install-bin: ## copy bin/* to $(BINDIR) (no build)
	@for p in $(PROGRAMS); do \
		[ -x "$(BINSRC)/$$p" ] || { echo "$(BINSRC)/$$p is missing: run 'make build' first (needs Go and gcc) or use a release tarball"; exit 1; }; \
		echo "install -D -m 0755 $(BINSRC)/$$p $(BINDIR)/$$p"; \
		install -D -m 0755 "$(BINSRC)/$$p" "$(BINDIR)/$$p" || exit 1; \
	done

uninstall-bin: ## remove the binaries from $(BINDIR)
	rm -f $(addprefix $(BINDIR)/,$(PROGRAMS))

install-units: ## (root) install and enable the units; start what has credentials
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" != 0 ]; then echo "install-units: run it as root (sudo make install-units)"; exit 1; fi
	@set -e; \
	for p in $(PROGRAMS); do \
		if [ -x "$(BINDIR)/$$p" ]; then echo "keeping $(BINDIR)/$$p (make install replaces it)"; continue; fi; \
		if [ ! -x "$(BINSRC)/$$p" ] && [ -n "$(BUILD_BIN)" ]; then $(or $(BUILD_BIN),:); fi; \
		[ -x "$(BINSRC)/$$p" ] || { echo "$(BINSRC)/$$p is missing: run 'make build' first (needs Go and gcc) or use a release tarball"; exit 1; }; \
		echo "install -D -m 0755 $(BINSRC)/$$p $(BINDIR)/$$p"; \
		install -D -m 0755 "$(BINSRC)/$$p" "$(BINDIR)/$$p"; \
	done; \
	install -d -m 0755 "$(UNITDIR)"; \
	for u in $(UNITS); do \
		sed 's|^ExecStart=/usr/local/bin/|ExecStart=$(PREFIX)/bin/|' "$(UNITSRC)/$$u" >"$(UNITDIR)/$$u.tmp"; \
		chmod 0644 "$(UNITDIR)/$$u.tmp"; mv "$(UNITDIR)/$$u.tmp" "$(UNITDIR)/$$u"; \
		echo "installed $(UNITDIR)/$$u"; \
	done; \
	install -d -m 0755 "$(CONFDIR)"; \
	if [ -e "$(CONFDIR)/rastreio.env" ]; then echo "keeping $(CONFDIR)/rastreio.env"; \
	else install -m 0640 "$(UNITSRC)/rastreio.env" "$(CONFDIR)/rastreio.env"; echo "installed $(CONFDIR)/rastreio.env (settings, no secrets; mode 0640, owned by root)"; fi; \
	install -d -m 0700 "$(CREDSTORE)"; \
	if [ -n "$(DESTDIR)" ]; then echo "DESTDIR set: files staged, systemctl skipped"; exit 0; fi; \
	$(SYSTEMCTL) daemon-reload; \
	$(SYSTEMCTL) enable $(UNITS); \
	cred() { [ -s "$(CREDSTORE)/rastreio.$$1" ]; }; \
	next=""; \
	if cred telegram-bot-token; then \
		echo "starting rastreio-bot.service"; \
		$(SYSTEMCTL) start rastreio-bot.service || echo "rastreio-bot.service did not start: journalctl -u rastreio-bot -n 20; systemctl status rastreio-bot"; \
	else \
		next="$$next\n  echo -n 'TOKEN-FROM-BOTFATHER' | install -m 0600 /dev/stdin $(CREDSTORE)/rastreio.telegram-bot-token"; \
	fi; \
	if cred telegram-bot-token && { cred siterastreio-api-key || cred pacotevicio-api-key || cred track17-api-key || { cred correios-user && cred correios-access-code; }; }; then \
		echo "starting rastreio-tracker.service"; \
		$(SYSTEMCTL) start rastreio-tracker.service || echo "rastreio-tracker.service did not start: journalctl -u rastreio-tracker -n 20"; \
	elif ! { cred siterastreio-api-key || cred pacotevicio-api-key || cred track17-api-key || { cred correios-user && cred correios-access-code; }; }; then \
		next="$$next\n  and at least one tracking provider's credentials, e.g.:"; \
		next="$$next\n  echo -n 'KEY' | install -m 0600 /dev/stdin $(CREDSTORE)/rastreio.siterastreio-api-key"; \
		next="$$next\n  echo -n 'KEY' | install -m 0600 /dev/stdin $(CREDSTORE)/rastreio.pacotevicio-api-key"; \
		next="$$next\n  echo -n 'KEY' | install -m 0600 /dev/stdin $(CREDSTORE)/rastreio.track17-api-key"; \
		next="$$next\n  echo -n 'USER' | install -m 0600 /dev/stdin $(CREDSTORE)/rastreio.correios-user"; \
		next="$$next\n  echo -n 'ACCESS-CODE' | install -m 0600 /dev/stdin $(CREDSTORE)/rastreio.correios-access-code"; \
	fi; \
	if [ -n "$$next" ]; then \
		printf 'Next steps: write the secrets (one file each, never in rastreio.env):%b\n' "$$next"; \
		echo "  then run 'make install-units' again (or: systemctl start rastreio-bot rastreio-tracker)."; \
	fi; \
	echo "Settings: $(CONFDIR)/rastreio.env. Logs: journalctl -u rastreio-bot -u rastreio-tracker. Status: systemctl status rastreio-bot rastreio-tracker"

uninstall-units: ## (root) stop, disable and remove the units; keeps the data
	@if [ "$$(id -u)" != 0 ]; then echo "uninstall-units: run it as root"; exit 1; fi
	-$(SYSTEMCTL) disable --now $(UNITS)
	rm -f $(addprefix $(UNITDIR)/,$(UNITS))
	$(SYSTEMCTL) daemon-reload
	@$(SYSTEMCTL) reset-failed $(UNITS) 2>/dev/null || true
	@echo "Kept: the database ($(STATEDIR), i.e. /var/lib/private/rastreio), $(CONFDIR)/rastreio.env,"
	@echo "$(CREDSTORE)/rastreio.*, the binaries in $(BINDIR) and any drop-ins under $(UNITDIR)/rastreio-*.service.d."
