#!/usr/bin/env bash
# Start-up to first served request, and idle RSS, of `waybill serve` on SQLite (release build).
# Usage: benches/startup.sh [runs]   — prints one line per run and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
bin="${WAYBILL_BIN:-}"
if [ -z "$bin" ]; then cargo build --release -q; bin="$PWD/target/release/waybill"; fi
work="$(mktemp -d)"
trap 'pkill -f "$bin serve" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
"$bin" demo >/dev/null          # an existing, migrated database with data, as in daily use
port=18765
times=()
for i in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  "$bin" serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; do sleep 0.002; done
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  if [ "$i" -eq "$runs" ]; then
    sleep 5   # idle: the mail worker has polled, nothing else is running
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "start-up to first /healthz 200 (ms), $runs runs: $(echo $sorted | tr '\n' ' ')"
echo "median: $(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') ms"
echo "idle RSS after 5 s: ${rss} KiB"
