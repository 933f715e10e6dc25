#!/bin/sh
# moto's server (a local stand-in for AWS) in a Python virtual environment under .cache/moto,
# for the tests of the CloudWatch Logs forwarder: the AWS SDK talks to it on 127.0.0.1.
# Installs python3-venv from Debian when `python3 -m venv` is missing. Does nothing when the
# pinned moto is already there. Prints the path of moto_server.
set -eu

version=5.2.5
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.cache/moto"
stamp="$venv/.moto-$version"

if [ -f "$stamp" ] && [ -x "$venv/bin/moto_server" ]; then
	echo "$venv/bin/moto_server"
	exit 0
fi

mkdir -p "$root/.cache"
# Test files may ask at the same moment: one installs, the others wait for it.
exec 9>"$root/.cache/moto.lock"
if command -v flock >/dev/null 2>&1; then
	flock 9
fi

if [ -f "$stamp" ] && [ -x "$venv/bin/moto_server" ]; then
	echo "$venv/bin/moto_server"
	exit 0
fi

if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		SUDO=sudo
	else
		SUDO=
	fi

	$SUDO apt-get update >&2
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends python3-venv >&2
fi

rm -rf "$venv"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet "moto[server]==$version" >&2
"$venv/bin/moto_server" --help >/dev/null
touch "$stamp"
echo "$venv/bin/moto_server"
