#!/usr/bin/env bash
# `systemd-analyze verify` on systemd/sendbox.service. The unit runs /usr/bin/sendbox, which is
# not installed here, so a copy pointing at the freshly built binary is verified instead; every
# other line is checked as shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
bin="$target/debug/sendbox"
[ -x "$bin" ] || cargo build -q -p sendbox-engine
bin=$(realpath "$bin")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/bin/sendbox|$bin|g" systemd/sendbox.service > "$dir/sendbox.service"
out=$(systemd-analyze verify "$dir/sendbox.service" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$(echo "$out" | grep -v '^$')" ]; then
    echo "$out"
    echo "systemd-analyze printed warnings for systemd/sendbox.service" >&2
    exit 1
fi
echo "systemd/sendbox.service: systemd-analyze verify OK"
