#!/usr/bin/env bash
# `systemd-analyze verify` on the unit, against a scratch root holding the files it names.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/bin" "$root/etc/systemd/system" "$root/etc/sendbox"
bin=target/debug/sendbox
[ -x "$bin" ] || cargo build -q -p sendbox-engine
cp "$bin" "$root/usr/bin/sendbox"
cp systemd/sendbox.service "$root/etc/systemd/system/"
# The unit runs /usr/bin/sendbox and /bin/kill; verify resolves them inside --root.
mkdir -p "$root/bin" && cp "$(command -v kill)" "$root/bin/kill"
out=$(systemd-analyze verify --root="$root" "$root/etc/systemd/system/sendbox.service" 2>&1) || {
    echo "$out"; exit 1; }
if echo "$out" | grep -v -e "^$" | grep -q .; then
    echo "$out"
    echo "systemd-analyze printed warnings for systemd/sendbox.service" >&2
    exit 1
fi
echo "systemd/sendbox.service: systemd-analyze verify OK"
