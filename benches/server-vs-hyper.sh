#!/usr/bin/env bash
# Reference server throughput per operation next to a bare hyper handler answering the same
# bytes, both driven by wrk with keep-alive on loopback, in one run. The two servers take turns
# for BENCH_ROUNDS rounds (default 3) of BENCH_SECS seconds (default 3) per operation, and the
# median of each round's ratio is reported, so that a noisy moment on a shared machine does
# not decide the result alone. Where /proc is readable (Linux) each server's CPU time per
# request is shown too (the efficiency that req/s measures through wrk's share of the cores).
# Prints a table and, last, `ratio <lowest median server/bare ratio>` (goal >= 0.8).
# Needs wrk and curl (apt-get install wrk curl). BENCH_SERVER=PATH runs another build of the
# server (e.g. one from an older commit) against the same bare baseline, for A/B comparisons.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${BENCH_SECS:-3}"
rounds="${BENCH_ROUNDS:-3}"
conns="${BENCH_CONNECTIONS:-4}"
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install wrk curl)" >&2; exit 2; }
done
cargo build --release --quiet --bin wsman-harness --example bare-hyper
bin="${BENCH_SERVER:-target/release/wsman-harness}"
bare=target/release/examples/bare-hyper
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# Waits for "listening on ..." in a file and prints host:port.
address_of() {
  for _ in $(seq 100); do
    if grep -q "listening on" "$1" 2>/dev/null; then
      grep -m1 "listening on" "$1" | sed -E 's#.*listening on (http://)?([^/ ]+).*#\2#'
      return
    fi
    sleep 0.1
  done
  echo "server did not start: $(cat "$1")" >&2
  exit 1
}

"$bin" serve --quiet --listen 127.0.0.1:0 --user bench:bench-password \
  --set service/auth/Basic=true --set service/AllowUnencrypted=true \
  --set MaxEnvelopeSizekb=1024 --items 1000 >"$tmp/server.out" 2>&1 &
server_pid=$!
pids+=("$server_pid")
server=$(address_of "$tmp/server.out")
auth="Basic $(printf 'bench:bench-password' | base64)"

envelope() { # ACTION RESOURCE BODY
  printf '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Header><a:Action>%s</a:Action><a:MessageID>uuid:0B1E4F6A-2C3D-4E5F-8A9B-0C1D2E3F4A5B</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:ResourceURI>%s</w:ResourceURI><w:MaxEnvelopeSize>1048576</w:MaxEnvelopeSize></s:Header><s:Body>%s</s:Body></s:Envelope>' "$1" "$2" "$3"
}
printf '%s' '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>' >"$tmp/identify.xml"
envelope http://schemas.xmlsoap.org/ws/2004/09/transfer/Get http://schemas.microsoft.com/wbem/wsman/1/config '' >"$tmp/get.xml"
envelope http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process \
  '<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>1000</w:MaxElements></n:Enumerate>' >"$tmp/enumerate.xml"

# CPU ticks (user + system) a process has used, or nothing where /proc is not there.
ticks() { [ -r "/proc/$1/stat" ] && awk '{print $14 + $15}' "/proc/$1/stat" || true; }
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)

rps() { # URL BODYFILE PID -> "requests/s cpu-µs-per-request" (the second "-" without /proc)
  cat >"$tmp/post.lua" <<LUA
local f = io.open("$2", "rb"); local body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/soap+xml;charset=UTF-8"
wrk.headers["Authorization"] = "$auth"
LUA
  local t0 t1
  t0=$(ticks "$3")
  wrk -t1 -c"$conns" -d"${secs}s" -s "$tmp/post.lua" "$1" >"$tmp/wrk.out"
  t1=$(ticks "$3")
  awk -v t0="$t0" -v t1="$t1" -v hz="$hz" '
    /requests in/ { n = $1 }
    /Requests\/sec/ { r = $2 }
    END { printf "%s %s\n", r, (t0 == "" || n == 0) ? "-" : sprintf("%.1f", (t1 - t0) / hz * 1e6 / n) }' "$tmp/wrk.out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-10s %12s %12s %8s %12s %12s %10s\n' operation "server rps" "bare rps" ratio \
  "server µs/r" "bare µs/r" "resp bytes"
lowest=""
for op in identify get enumerate; do
  curl -s -X POST --data-binary @"$tmp/$op.xml" -H 'Content-Type: application/soap+xml;charset=UTF-8' \
    -H "Authorization: $auth" "http://$server/wsman" >"$tmp/$op.resp"
  case $op in
    identify) grep -q IdentifyResponse "$tmp/$op.resp" ;;
    get) grep -q MaxEnvelopeSizekb "$tmp/$op.resp" ;;
    enumerate) [ "$(grep -o '<p:Win32_Process ' "$tmp/$op.resp" | wc -l)" -eq 1000 ] ;;
  esac || { echo "unexpected $op response: $(head -c 300 "$tmp/$op.resp")" >&2; exit 1; }
  "$bare" 127.0.0.1:0 "$tmp/$op.resp" >"$tmp/bare-$op.out" 2>&1 &
  bare_pid=$!
  pids+=("$bare_pid")
  bare_addr=$(address_of "$tmp/bare-$op.out")
  : >"$tmp/rounds"
  for _ in $(seq "$rounds"); do
    read -r ours ours_cpu < <(rps "http://$server/wsman" "$tmp/$op.xml" "$server_pid")
    read -r theirs theirs_cpu < <(rps "http://$bare_addr/wsman" "$tmp/$op.xml" "$bare_pid")
    echo "$ours $theirs $ours_cpu $theirs_cpu" >>"$tmp/rounds"
  done
  col() { awk -v c="$1" '{ print $c }' "$tmp/rounds" | median; }
  ratio=$(awk '{ printf "%.4f\n", $1 / $2 }' "$tmp/rounds" | median)
  cpu() { if grep -q -- ' - ' "$tmp/rounds"; then echo -; else col "$1"; fi; }
  printf '%-10s %12.0f %12.0f %8.2f %12s %12s %10s\n' "$op" "$(col 1)" "$(col 2)" "$ratio" \
    "$(cpu 3)" "$(cpu 4)" "$(wc -c <"$tmp/$op.resp")"
  lowest=$(awk -v l="${lowest:-99}" -v r="$ratio" 'BEGIN { printf "%.2f", (r < l) ? r : l }')
  kill "$bare_pid" 2>/dev/null || true
done
echo "ratio $lowest"
