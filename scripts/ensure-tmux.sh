#!/bin/sh
# tmux, from Debian, for the end-to-end tests of the terminal UI (real terminal,
# send-keys and capture-pane). Does nothing when tmux is already installed.
set -eu

if command -v tmux >/dev/null 2>&1; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y tmux
