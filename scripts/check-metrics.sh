#!/usr/bin/env bash
# The monitoring files against the engine: the alert rules and every dashboard query parse
# (promtool), and every metric they name is in a scrape of a running engine (the
# metrics_scrape test). Needs promtool (apt-get install prometheus) and jq; skips what is
# missing with a note rather than passing silently.
set -euo pipefail
cd "$(dirname "$0")/.."
alerts=config/prometheus/alerts.yml
dashboard=config/grafana/sendbox-dashboard.json

jq -e '.schemaVersion and (.panels | length > 0)' "$dashboard" >/dev/null
if command -v promtool >/dev/null 2>&1; then
    promtool check rules "$alerts"
    # Each dashboard query, with Grafana's variables given plain values, as a recording rule.
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    {
        echo "groups:"
        echo "  - name: dashboard"
        echo "    rules:"
        jq -r '.panels[] | select(.targets) | .targets[].expr' "$dashboard" |
            sed -e 's/\$__rate_interval/5m/g' -e 's/\$operator/.*/g' |
            awk '{ gsub(/'\''/, "'\'''\''"); printf "      - record: sendbox:dashboard:q%d\n        expr: '\''%s'\''\n", NR, $0 }'
    } >"$tmp/dashboard.yml"
    promtool check rules "$tmp/dashboard.yml"
else
    echo "SKIPPED: promtool not installed; alert rules and dashboard queries not parsed" >&2
fi
[ "${1:-}" = "--no-test" ] || cargo test -p sendbox-engine --test metrics_scrape
