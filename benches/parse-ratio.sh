#!/usr/bin/env bash
# Typed envelope parse vs a raw quick-xml namespace-resolving pass over the same ~150 KB
# PullResponse, measured in one criterion run. Last line: `ratio <typed throughput / raw>`.
# Goal: >= 0.8.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${MEASUREMENT_SECS:-5}"
cargo bench --bench envelope -- --warm-up-time 1 --measurement-time "$secs" \
  'pull_150k/(raw_nsreader|typed_parse)' >&2
dir="${CARGO_TARGET_DIR:-target}/criterion/pull_150k"
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
def mean(name):
    with open(f"{d}/{name}/new/estimates.json") as f:
        return json.load(f)["mean"]["point_estimate"]
raw, typed = mean("raw_nsreader"), mean("typed_parse")
print(f"raw quick-xml pass: {raw/1000:.1f} us   typed parse: {typed/1000:.1f} us")
print(f"ratio {raw/typed:.2f}")
PY
