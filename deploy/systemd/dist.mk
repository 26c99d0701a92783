# Makefile of a rastreio release tarball (made by `make dist`): installs the
# prebuilt binaries and the systemd units; needs no Go and no C compiler.
#   sudo make install-units     then follow the printed next steps
#   sudo make uninstall-units   keeps the database
.PHONY: default install uninstall
default:
	@echo "rastreio release: run 'sudo make install-units' (binaries, units, /etc/rastreio/rastreio.env), then follow the printed steps."
include deploy/systemd/install.mk
install: install-bin
uninstall: uninstall-bin
