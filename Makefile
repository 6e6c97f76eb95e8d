# Shortcuts for the installable app; the README's two commands (packaging/setup.sh) need no make.
.PHONY: package install uninstall self-test smoke-test

package:        ## build dist/talab-app/ (PyInstaller, one folder, ~10 min the first time)
	./packaging/setup.sh package

install:        ## install dist/talab-app for this user, with a menu entry
	./packaging/linux/install.sh

uninstall:      ## remove it again (add ARGS=--purge to delete the data too)
	./packaging/linux/uninstall.sh $(ARGS)

self-test:      ## the built app checks itself, headless
	dist/talab-app/talab-app --self-test

smoke-test:     ## build if needed, then self-test the build offline, timed
	./packaging/smoke_test.sh
