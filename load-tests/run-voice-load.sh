#!/usr/bin/env bash
# Voice load: 3 SIP trunk simulators + the engine on loopback, then sendbox-load voice: a
# campaign of CALLS calls with a generated WAV prompt; setups/s from receipts, RTP inter-arrival
# deviation (kernel receive stamps) and loss from the simulators' stats files, the engine's own
# per-packet send-interval deviation and slot lag from its metrics endpoint, RSS per call from /proc.
# Usage: load-tests/run-voice-load.sh [CALLS] [PROMPT_SECONDS]   (env SENDBOX, SENDBOX_LOAD;
#   RTP_PACERS=n: pacer threads per trunk; RTP_RT=p: SCHED_FIFO priority p for the pacers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
T=${CARGO_TARGET_DIR:-$here/../target}
SENDBOX=${SENDBOX:-$T/release/sendbox}
LOAD=${SENDBOX_LOAD:-$T/release/sendbox-load}
CALLS=${1:-5000}
PROMPT=${2:-20}
out=$here/results
mkdir -p "$out"
work=$(mktemp -d /tmp/sendbox-voice-load.XXXXXX)
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
# The engine's store (about 250 MB per million SMS) is deleted at exit; logs stay. KEEP_DB=1 keeps it.
cleanup() { stop; [ -n "${KEEP_DB:-}" ] || rm -f "$work"/sendbox.db*; }
trap cleanup EXIT
cp "$here/configs/sms-throughput.toml" "$work/sendbox.toml"
if [ -n "${RTP_PACERS:-}" ]; then sed -i "/^rtp_port_max/a rtp_pacer_threads = $RTP_PACERS" "$work/sendbox.toml"; fi
if [ -n "${RTP_RT:-}" ]; then sed -i "/^rtp_port_max/a rtp_realtime_priority = $RTP_RT" "$work/sendbox.toml"; fi
stats=()
for i in 0 1 2; do
  port=$((5071 + i)); per_sim=$(( (CALLS + 2 - i) / 3 ))  # the driver sends call k to operator k % 3
  "$SENDBOX" sim sip --listen 127.0.0.1:$port --rtp-sockets 8 --stats-interval 0s \
    --max-calls "$per_sim" --duration $((PROMPT + 240))s --stats-file "$work/sip-$port.json" \
    >"$work/sip-$port.log" 2>&1 &
  pids+=($!); stats+=(--sip-stats "$work/sip-$port.json")
done
"$SENDBOX" run --config "$work/sendbox.toml" >"$work/engine.log" 2>&1 &
engine=$!; pids+=($engine)
for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.2; done
timeout $((PROMPT + 300)) "$LOAD" voice --token load-acme-token --admin-token load-admin-token \
  --engine-pid "$engine" --calls "$CALLS" --prompt-seconds "$PROMPT" --receipt-timeout $((PROMPT + 200)) \
  "${stats[@]}" --out "$out/voice.json" >/dev/null
stop
echo "results in $out/voice.json; logs in $work"
