#!/bin/sh
# A Docker engine for the Docker source tests, from Debian (docker.io), and busybox-static to
# build the one image they run (no registry is needed: test/support/dockerd.ts imports it).
# Installing does not start a system-wide daemon: the tests start their own dockerd with its
# data in a temporary directory. Does nothing when both are installed. Prints dockerd's path.
set -eu

find_dockerd() {
	command -v dockerd 2>/dev/null || true
}

find_busybox() {
	for b in /bin/busybox /usr/bin/busybox; do
		if [ -x "$b" ]; then
			echo "$b"
			return
		fi
	done
}

if [ -z "$(find_dockerd)" ] || [ -z "$(find_busybox)" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		SUDO=sudo
	else
		SUDO=
	fi

	# RUNLEVEL=1 (and policy-rc.d where present) keeps the package's init scripts from starting a daemon.
	$SUDO apt-get update >&2
	DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y --no-install-recommends docker.io busybox-static >&2
fi

found="$(find_dockerd)"
if [ -z "$found" ] || [ -z "$(find_busybox)" ]; then
	echo "ensure-docker: docker.io or busybox-static did not install" >&2
	exit 1
fi

echo "$found"
