#!/usr/bin/env bash
# Reference server throughput per operation next to a bare hyper handler answering the same
# bytes, both driven by wrk with keep-alive on loopback, in one run. Prints a table and, last,
# `ratio <lowest server/bare ratio>` (goal >= 0.8). Needs wrk and curl (apt-get install wrk curl).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${BENCH_SECS:-5}"
conns="${BENCH_CONNECTIONS:-4}"
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install wrk curl)" >&2; exit 2; }
done
cargo build --release --quiet --bin wsman-harness --example bare-hyper
bin=target/release/wsman-harness
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
pids+=($!)
server=$(address_of "$tmp/server.out")
auth="Basic $(printf 'bench:bench-password' | base64)"

envelope() { # ACTION RESOURCE BODY
  printf '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Header><a:Action>%s</a:Action><a:MessageID>uuid:0B1E4F6A-2C3D-4E5F-8A9B-0C1D2E3F4A5B</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:ResourceURI>%s</w:ResourceURI><w:MaxEnvelopeSize>1048576</w:MaxEnvelopeSize></s:Header><s:Body>%s</s:Body></s:Envelope>' "$1" "$2" "$3"
}
printf '%s' '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>' >"$tmp/identify.xml"
envelope http://schemas.xmlsoap.org/ws/2004/09/transfer/Get http://schemas.microsoft.com/wbem/wsman/1/config '' >"$tmp/get.xml"
envelope http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process \
  '<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>1000</w:MaxElements></n:Enumerate>' >"$tmp/enumerate.xml"

rps() { # URL BODYFILE
  cat >"$tmp/post.lua" <<LUA
local f = io.open("$2", "rb"); local body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/soap+xml;charset=UTF-8"
wrk.headers["Authorization"] = "$auth"
LUA
  wrk -t1 -c"$conns" -d"${secs}s" -s "$tmp/post.lua" "$1" | awk '/Requests\/sec/ {print $2}'
}

printf '%-10s %12s %12s %8s %10s\n' operation "server rps" "bare rps" ratio "resp bytes"
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
  pids+=($!)
  bare_addr=$(address_of "$tmp/bare-$op.out")
  ours=$(rps "http://$server/wsman" "$tmp/$op.xml")
  theirs=$(rps "http://$bare_addr/wsman" "$tmp/$op.xml")
  ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
  printf '%-10s %12s %12s %8s %10s\n' "$op" "$ours" "$theirs" "$ratio" "$(wc -c <"$tmp/$op.resp")"
  lowest=$(awk -v l="${lowest:-99}" -v r="$ratio" 'BEGIN { print (r < l) ? r : l }')
done
echo "ratio $lowest"
