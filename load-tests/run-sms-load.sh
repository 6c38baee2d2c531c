#!/usr/bin/env bash
# SMS load: 3 SMSC simulators + the engine on loopback, then sendbox-load sms for
#   1. throughput (as fast as possible, 4 binds x window 256 per operator),
#   2. API latency at half the target load (open loop, 50,000 msg/s, after a 2 s warm-up that the
#      latency percentiles leave out),
#   3. memory per queued dispatch (window closed: everything stays in the deferral heap).
# Usage: load-tests/run-sms-load.sh [TOTAL] [STEPS]   (env SENDBOX, SENDBOX_LOAD: binaries;
#   HALF_RATE: the latency step's offered rate, default 50000, to see latency below saturation)
#   STEPS: any of throughput,half,queued separated by commas (default: all three).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
T=${CARGO_TARGET_DIR:-$here/../target}
SENDBOX=${SENDBOX:-$T/release/sendbox}
LOAD=${SENDBOX_LOAD:-$T/release/sendbox-load}
TOTAL=${1:-1000000}
STEPS=",${2:-throughput,half,queued},"
out=${OUT:-$here/results}
mkdir -p "$out"
work=$(mktemp -d /tmp/sendbox-sms-load.XXXXXX)
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
# The engine's store (about 250 MB per million SMS) is deleted at exit; logs stay. KEEP_DB=1 keeps it.
cleanup() { stop; [ -n "${KEEP_DB:-}" ] || rm -f "$work"/sendbox.db*; }
trap cleanup EXIT

start() { # $1: config name
  stop
  rm -f "$work"/sendbox.db*
  cp "$here/configs/$1" "$work/sendbox.toml"
  sims=()
  for port in 2775 2776 2777; do
    "$SENDBOX" sim smsc --listen 127.0.0.1:$port --no-dedup --stats-interval 60s >"$work/smsc-$port.log" 2>&1 &
    pids+=($!); sims+=(--peer-pid $!)
  done
  "$SENDBOX" run --config "$work/sendbox.toml" >"$work/engine.log" 2>&1 &
  engine=$!; pids+=($engine)
  for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/readyz >/dev/null && break; sleep 0.2; done
}
drive() { timeout 600 "$LOAD" sms --token load-acme-token --admin-token load-admin-token --engine-pid "$engine" "${sims[@]}" "$@"; }

step() { [[ $STEPS == *",$1,"* ]]; }

if step throughput; then
  start sms-throughput.toml
  drive --total "$TOTAL" --concurrency 4 --label throughput --out "$out/sms-throughput.json" >/dev/null
fi
if step half; then
  start sms-throughput.toml
  drive --total $((TOTAL / 2)) --batch 500 --concurrency 32 --rate "${HALF_RATE:-50000}" --warmup-seconds 2 --label half-load-latency \
    --out "$out/sms-half-load.json" >/dev/null
  curl -sf http://127.0.0.1:19090/metrics >"$work/metrics-half.txt" || true
fi
if step queued; then
  start sms-queued.toml
  drive --total "$TOTAL" --concurrency 4 --queued --label queued-memory --out "$out/sms-queued.json" >/dev/null
fi
stop
echo "results in $out; logs in $work"
