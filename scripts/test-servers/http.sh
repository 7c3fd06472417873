#!/usr/bin/env bash
# Threaded Python HTTP echo server (scripts/test-servers/http_server.py) on 127.0.0.1.
# Usage: http.sh start|stop|env
# Env out: TANDEM_TEST_HTTP_HOST, TANDEM_TEST_HTTP_PORT, TANDEM_TEST_HTTP_URL (ends with /)
# Env in: TANDEM_TEST_HTTP_PORT (fixed port), TANDEM_TEST_HTTP_DELAY_MS (default per-request delay).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

NAME=http
DIR="$TANDEM_STATE/$NAME"
HERE="$(cd "$(dirname "$0")" && pwd)"

probe() {
    python3 -c 'import sys, urllib.request, json
r = urllib.request.urlopen(sys.argv[1] + "health", timeout=2)
sys.exit(0 if json.load(r).get("ok") else 1)' "$1"
}

start() {
    local t0 port pid url
    t0=$(now_s)
    stop_quiet
    mkdir -p "$DIR"
    port=${TANDEM_TEST_HTTP_PORT:-$(free_port 28080)}
    url="http://127.0.0.1:$port/"
    # /usr/bin/python3 when present: a stdlib-only script, independent of pyenv shims.
    local py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3
    "$py" -u "$HERE/http_server.py" --host 127.0.0.1 --port "$port" >"$DIR/server.log" 2>&1 &
    pid=$!
    echo "$pid" >"$DIR/pid"
    wait_until 20 probe "$url" || { kill "$pid" 2>/dev/null; cat "$DIR/server.log" >&2; die "http server not answering on $url"; }
    write_env "$DIR/env" TANDEM_TEST_HTTP_HOST=127.0.0.1 TANDEM_TEST_HTTP_PORT="$port" TANDEM_TEST_HTTP_URL="$url"
    log "http ready on $url in $(elapsed_since "$t0") s"
}

stop_quiet() { stop_pid "$DIR/pid" 5; rm -f "$DIR/env"; }

stop() {
    local t0; t0=$(now_s)
    stop_quiet
    log "http stopped in $(elapsed_since "$t0") s"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) cat "$DIR/env" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
