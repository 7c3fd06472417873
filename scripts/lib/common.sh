# Shared helpers for scripts/*.sh and scripts/test-servers/*.sh (sourced, not executed).
# shellcheck shell=bash

TANDEM_ROOT="${TANDEM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# State of test servers (data dirs, logs, pid files, env files). Gitignored.
TANDEM_STATE="${TANDEM_TEST_STATE_DIR:-$TANDEM_ROOT/.test-servers}"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_packages PKG...: installs the Debian packages that are not installed yet.
# `apt-get update` runs only when something is missing.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing missing packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# port_is_free PORT: true when 127.0.0.1:PORT (and 0.0.0.0:PORT) can be bound for both TCP and UDP.
port_is_free() {
    python3 - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    for host in ("127.0.0.1", "0.0.0.0"):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((host, port))
        except OSError:
            sys.exit(1)
        finally:
            s.close()
PY
}

# free_port BASE [COUNT]: prints the first free port in BASE..BASE+COUNT-1 (default 100).
free_port() {
    local base=$1 count=${2:-100} p
    for ((p = base; p < base + count; p++)); do
        if port_is_free "$p"; then echo "$p"; return 0; fi
    done
    die "no free port in $base..$((base + count - 1))"
}

# now_s: seconds since the epoch with nanoseconds (for timings).
now_s() { date +%s.%N; }
# elapsed_since START: seconds since START, two decimals.
elapsed_since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }'; }

# wait_until TIMEOUT_S CMD...: retries CMD every 0.05 s until it succeeds or the timeout passes.
wait_until() {
    local timeout=$1; shift
    local deadline
    deadline=$(awk -v a="$(now_s)" -v t="$timeout" 'BEGIN { printf "%.3f", a + t }')
    while ! "$@" >/dev/null 2>&1; do
        if awk -v a="$(now_s)" -v d="$deadline" 'BEGIN { exit !(a > d) }'; then return 1; fi
        sleep 0.05
    done
}

# pid_alive PID: true when PID exists and is not a zombie (an orphan's zombie may linger until
# PID 1 reaps it, and kill -0 still succeeds on it).
pid_alive() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# stop_pid PIDFILE [GRACE_S]: SIGTERM the pid in PIDFILE, wait, SIGKILL after GRACE_S (default 10).
stop_pid() {
    local pidfile=$1 grace=${2:-10} pid i
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < grace * 20; i++)); do
            pid_alive "$pid" || break
            sleep 0.05
        done
        if pid_alive "$pid"; then
            log "pid $pid did not stop after ${grace}s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

# write_env FILE NAME=VALUE...: writes `export NAME=VALUE` lines (shell-quoted) to FILE.
write_env() {
    local file=$1 kv; shift
    : >"$file"
    for kv in "$@"; do
        printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}" >>"$file"
    done
}
