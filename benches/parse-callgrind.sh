#!/usr/bin/env bash
# Instruction counts instead of time: the typed parse and the raw quick-xml pass over the same
# ~150 KB PullResponse, each run N times under `valgrind --tool=callgrind`, minus a run with
# N = 0 (start-up and building the message). Instructions do not depend on what else the machine
# is doing, so two runs of the same build give the same numbers. Last line:
# `ratio <typed throughput / raw>` in instructions, comparable with benches/parse-ratio.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20}
if ! command -v valgrind >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq valgrind >/dev/null; else sudo apt-get install -y -qq valgrind >/dev/null; fi
fi
cargo build --release --quiet --example parse-instructions
exe=target/release/examples/parse-instructions
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" "$1" "$2" 2>&1 >/dev/null |
    awk '/Collected :/ {print $NF}'
}
typed0=$(count typed 0); typed=$(count typed "$N")
raw0=$(count raw 0); raw=$(count raw "$N")
python3 - "$N" "$typed0" "$typed" "$raw0" "$raw" <<'PY'
import sys
n, t0, t, r0, r = (int(x) for x in sys.argv[1:])
typed, raw = (t - t0) / n, (r - r0) / n
print(f"typed parse: {typed:,.0f} instructions per 150 KB message")
print(f"raw pass:    {raw:,.0f} instructions per 150 KB message")
print(f"ratio {raw / typed:.2f}")
PY
