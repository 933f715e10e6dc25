#!/bin/sh
# Alertmanager, from Debian (prometheus-alertmanager), for the tests of the alertmanager
# sink: a real Alertmanager receives logmon's /api/v2/alerts and notifies a test receiver.
# Does nothing when it is already installed. Prints the binary's path.
set -eu

find_binary() {
	command -v prometheus-alertmanager 2>/dev/null || command -v alertmanager 2>/dev/null || true
}

found="$(find_binary)"
if [ -z "$found" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		SUDO=sudo
	else
		SUDO=
	fi

	# Installing must not start a system-wide Alertmanager on :9093 where init scripts run.
	$SUDO apt-get update >&2
	DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y --no-install-recommends prometheus-alertmanager >&2
	found="$(find_binary)"
fi

if [ -z "$found" ]; then
	echo "ensure-alertmanager: prometheus-alertmanager did not install" >&2
	exit 1
fi

echo "$found"
