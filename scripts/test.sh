#!/usr/bin/env bash
# README's test command: formatting, lints, every test of the workspace, and the systemd unit.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
# --all-features: the benchmarks behind features (store, audio, ...) are compiled and linted too.
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo test --workspace
if command -v systemd-analyze >/dev/null 2>&1; then
    ./scripts/verify-systemd.sh
else
    echo "SKIPPED: systemd-analyze not installed; the unit file was not verified" >&2
fi
