# Sourced by the bench scripts: `start_reference_server USER PASSWORD [serve flags...]` starts
# the release server on a free loopback port with Basic over HTTP allowed (so that any load tool
# can authenticate with a fixed header), waits until it accepts connections, stops it on exit,
# and sets `url`.
start_reference_server() {
  local user=$1 password=$2
  shift 2
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  target/release/wsman-harness serve --listen "127.0.0.1:$port" --user "$user:$password" --quiet \
    --set service/auth/Basic=true --set service/AllowUnencrypted=true "$@" >/dev/null &
  reference_server_pid=$!
  trap 'kill $reference_server_pid 2>/dev/null || true; [ -z "${work:-}" ] || rm -rf "$work"' EXIT
  for _ in $(seq 100); do
    (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  url="http://127.0.0.1:$port/wsman"
}
