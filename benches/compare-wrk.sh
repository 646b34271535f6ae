#!/usr/bin/env bash
# The load generator against wrk, same server, same request, same connection count, one after
# the other: the reference server (release build, Basic over HTTP so that wrk can authenticate
# with a fixed header) answers a WS-Transfer Get of winrm/config. Prints both rates and, as its
# last line, `ratio <generator/wrk>` (goal: >= 0.9, i.e. the generator is not the bottleneck).
#
#   benches/compare-wrk.sh            # 16 connections, 10 s each
#   CONNS=32 SECS=20 OP=identify benches/compare-wrk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-16}
SECS=${SECS:-10}
OP=${OP:-get}
THREADS=${THREADS:-2}

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi
cargo build --release --quiet
bin=target/release/wsman-harness
work=$(mktemp -d)
password="Bench-$(date +%s)-Passw0rd"
. benches/reference-server.sh
start_reference_server bench "$password" --items 20
export BENCH_PASSWORD="$password"
common=(--target "$url" --auth basic --user bench --password-env BENCH_PASSWORD --op "$OP")

# The exact request the generator sends (with one fixed MessageID) becomes wrk's body.
"$bin" bench "${common[@]}" --print-request > "$work/request.xml"
basic=$(printf 'bench:%s' "$password" | base64 -w0)
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/soap+xml;charset=UTF-8"
wrk.headers["Authorization"] = "Basic $basic"
local f = io.open("$work/request.xml", "rb")
wrk.body = f:read("*a")
f:close()
LUA

echo "== wrk -t$THREADS -c$CONNS -d${SECS}s ($OP)"
wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" -s "$work/post.lua" "$url" | tee "$work/wrk.txt"
wrk_rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
if [ -n "$non2xx" ]; then echo "wrk saw $non2xx non-2xx answers: the request is wrong" >&2; exit 1; fi

echo "== wsman-harness bench --connections $CONNS --duration ${SECS}s ($OP)"
"$bin" bench "${common[@]}" --connections "$CONNS" --threads "$THREADS" --duration "${SECS}s" \
  --warmup 1s --quiet --json "$work/bench.json"
bench_rps=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["throughput_rps"])' "$work/bench.json")

echo "wrk       $wrk_rps requests/s"
echo "generator $bench_rps requests/s"
python3 -c 'import sys; print("ratio %.3f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$bench_rps" "$wrk_rps"
