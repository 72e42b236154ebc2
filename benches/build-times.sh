#!/usr/bin/env bash
# Build times of a checkout: a clean release build, then incremental debug builds after
# touching one template, one handler and one domain file (each a fresh mtime, nothing else).
# Usage: benches/build-times.sh [CHECKOUT]   (default: this one). It builds in its own target
# folder under /tmp, so the checkout's own target/ is left alone. Run it on a quiet machine.
set -euo pipefail
repo="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
target="$(mktemp -d /tmp/waybill-build-times.XXXXXX)"
trap 'rm -rf "$target"' EXIT
export CARGO_TARGET_DIR="$target"
cd "$repo"
cargo fetch -q

# Where the three touched files live differs before and after the workspace move.
first() { for f in "$@"; do [ -e "$f" ] && { echo "$f"; return; }; done; return 1; }
template=templates/seller/dashboard.html
handler=$(first crates/waybill-web/src/seller/mod.rs src/web/seller/mod.rs)
domain=$(first crates/waybill-domain/src/money.rs src/domain/money.rs)

timed() { # label, command...
  local label=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  awk -v l="$label" -v s="$start" -v e="$end" 'BEGIN { printf "%-44s %7.1f s\n", l, e - s }'
}

echo "checkout: $repo ($(git -C "$repo" rev-parse --short HEAD)), $(nproc) cores"
timed "clean release build" cargo build --release
timed "clean debug build (bin + tests)" cargo build --tests
for f in "$template" "$handler" "$domain"; do
  touch "$f"
  timed "debug rebuild after touching $(basename "$f")" cargo build --tests
done
