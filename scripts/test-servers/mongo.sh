#!/usr/bin/env bash
# MongoDB-wire-protocol test server on 127.0.0.1: nx-27017 0.8.1 (SQLite-backed, from PyPI) in a venv
# cached under ${TANDEM_VENV_DIR:-${XDG_CACHE_HOME:-~/.cache}/tandem-venv}.
# Usage: mongo.sh start|stop|env
# Env out: TANDEM_TEST_MONGO_HOST, TANDEM_TEST_MONGO_PORT, TANDEM_TEST_MONGO_URL, TANDEM_TEST_MONGO_DB
# Env in: TANDEM_TEST_MONGO_PORT (fixed port).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

NAME=mongo
DIR="$TANDEM_STATE/$NAME"
HERE="$(cd "$(dirname "$0")" && pwd)"
NX_VERSION=0.8.1
VENV="${TANDEM_VENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem-venv}"

ensure_venv() {
    local py=python3
    [ -x /usr/bin/python3 ] && py=/usr/bin/python3   # Debian's python3 (python3-venv), not a pyenv shim
    if [ -x "$VENV/bin/nx-27017" ] && [ "$(cat "$VENV/.nx-version" 2>/dev/null)" = "$NX_VERSION" ]; then
        return 0
    fi
    log "creating venv $VENV with nx-27017==$NX_VERSION"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$py" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "nx-27017==$NX_VERSION"
    echo "$NX_VERSION" >"$VENV/.nx-version"
}

start() {
    local t0 t1 port pid
    t0=$(now_s)
    ensure_venv
    t1=$(now_s)
    stop_quiet
    rm -rf "$DIR"
    mkdir -p "$DIR/data"
    port=${TANDEM_TEST_MONGO_PORT:-$(free_port 27117)}
    "$VENV/bin/nx-27017" --host 127.0.0.1 -p "$port" --data-dir "$DIR/data" \
        --log-file "$DIR/nx.log" --pid-file "$DIR/nx.pid" >"$DIR/stdout.log" 2>&1 &
    pid=$!
    echo "$pid" >"$DIR/pid"
    wait_until 30 python3 "$HERE/mongo_ping.py" 127.0.0.1 "$port" ||
        { kill "$pid" 2>/dev/null; cat "$DIR/stdout.log" "$DIR/nx.log" >&2 2>/dev/null; die "nx-27017 not answering ping on port $port"; }
    write_env "$DIR/env" TANDEM_TEST_MONGO_HOST=127.0.0.1 TANDEM_TEST_MONGO_PORT="$port" \
        TANDEM_TEST_MONGO_URL="mongodb://127.0.0.1:$port/?serverSelectionTimeoutMS=5000" \
        TANDEM_TEST_MONGO_DB=tandem
    log "mongo (nx-27017) ready on 127.0.0.1:$port in $(elapsed_since "$t0") s (venv check $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s)"
}

stop_quiet() { stop_pid "$DIR/pid" 10; rm -f "$DIR/env"; }

stop() {
    local t0; t0=$(now_s)
    stop_quiet
    log "mongo stopped in $(elapsed_since "$t0") s"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) cat "$DIR/env" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
