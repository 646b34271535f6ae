#!/usr/bin/env bash
# Throughput of the reference server per operation, measured with `wsman-harness bench` (release
# build, server in its own process, loopback): prints a Markdown table for the README and writes
# the JSON reports to target/reference-load/ (`wsman-harness bench compare` reads them).
#
#   benches/reference-load.sh           # 16 connections, 5 s per row
#   CONNS=8 SECS=10 benches/reference-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-16}
SECS=${SECS:-5}
cargo build --release --quiet
bin=target/release/wsman-harness
out=target/reference-load
mkdir -p "$out"
password="Load-$(date +%s)-Passw0rd"
. benches/reference-server.sh
start_reference_server load "$password" --items 100 \
  --set winrs/MaxShellsPerUser=100 --set winrs/MaxConcurrentUsers=100
export LOAD_PASSWORD="$password"
echo "| operation | auth | requests/s | iterations/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|---|---|"
for row in "identify basic" "get basic" "get negotiate" "enumerate basic" "shell basic" "shell negotiate"; do
  set -- $row
  json="$out/$1-$2.json"
  "$bin" bench --target "$url" --user load --password-env LOAD_PASSWORD \
    --auth "$2" --op "$1" --connections "$CONNS" --duration "${SECS}s" --warmup 1s --quiet \
    --label "$1/$2" --json "$json" >/dev/null
  python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
op, auth = r["label"].split("/")
auth = "NTLM + encryption" if auth == "negotiate" else "Basic (plain)"
l = r["latency_us"]
print(f"| {op} | {auth} | {r['throughput_rps']:,.0f} | {r['iterations_per_s']:,.0f} | "
      f"{l['p50']/1000:.2f} ms | {l['p99']/1000:.2f} ms | {sum([r['errors']['transport'], r['errors']['quota'], r['errors']['protocol']] + list(r['errors']['http'].values()) + list(r['errors']['faults'].values()))} |".replace(",", " "))
PY
done
