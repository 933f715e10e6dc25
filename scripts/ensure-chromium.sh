#!/bin/sh
# Chromium, from Debian, for the dashboard's tests in a real headless browser (driven by
# playwright-core, which downloads no browser of its own). Does nothing when it is installed.
set -eu

if [ -x /usr/bin/chromium ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
