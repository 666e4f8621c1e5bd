#!/bin/sh
# Installs npm sparkplug-payload (Eclipse Tahu's JavaScript codec) into
# DIR/node_modules once, for the Sparkplug tests' independent decoder: not
# globally, and one installer at a time (tests run in parallel).
# Usage: install.sh DIR
set -eu
dir=$1
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [ -f "$dir/node_modules/sparkplug-payload/package.json" ]; then
  exit 0
fi
command -v node >/dev/null || { echo "node is not installed (Debian package nodejs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is not installed (Debian package npm)" >&2; exit 1; }
cd "$dir"
npm install --no-save --no-audit --no-fund --ignore-scripts --prefix "$dir" sparkplug-payload@1.0.3 >"$dir/npm.log" 2>&1 || {
  tail -n 20 "$dir/npm.log" >&2
  exit 1
}
