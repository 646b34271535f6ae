#!/usr/bin/env bash
# Remote fuzzer speed against the in-process reference server on loopback, next to the plain
# replay of the same generated cases (`fuzz --baseline`: same scenarios, same step sequences, no
# mutation) in the same run. Prints cases/s of both and, last, `ratio <fuzz/baseline>`.
# CASES (default 5000), JOBS (default 8) and SEED (default 1) may be set. Eight connections:
# some cases wait on purpose (slow writes pause up to 90 ms, broken framing waits for the
# server's answer or close), so four workers leave the two cores idle about a third of the time.
# FUZZ_BIN=PATH runs another build (e.g. one from an older commit), for A/B comparisons.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${CASES:-5000}"
jobs="${JOBS:-8}"
seed="${SEED:-1}"
cargo build --release --quiet --bin wsman-harness
bin="${FUZZ_BIN:-target/release/wsman-harness}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rate() {
  "$bin" fuzz --cases "$cases" --jobs "$jobs" --seed "$seed" --json --out "$out/$1" "${@:2}" 2>/dev/null |
    python3 -c 'import json,sys; s=json.load(sys.stdin); print("%.0f %d %d %d" % (s["cases_per_second"], s["cases"], s["steps"], len(s["findings"])))'
}
read -r base base_cases base_steps _ < <(rate baseline --baseline)
read -r fuzz fuzz_cases fuzz_steps findings < <(rate fuzz)
printf '%-22s %10s %8s %9s\n' run cases/s cases requests
printf '%-22s %10s %8s %9s\n' "replay (baseline)" "$base" "$base_cases" "$base_steps"
printf '%-22s %10s %8s %9s\n' "fuzz (all layers)" "$fuzz" "$fuzz_cases" "$fuzz_steps"
echo "findings against the reference server: $findings"
python3 -c "print(f'ratio {$fuzz / $base:.2f}')"
