#!/usr/bin/env bash
# PostgreSQL 15 test instance on 127.0.0.1: trust auth, fsync=off, unix socket in a private temp dir,
# database `tandem`.  Usage: postgres.sh start|stop|crash|resume|env (crash: immediate shutdown keeping the
# cluster; resume: start that cluster again)
# Env out (written to .test-servers/postgres/env): TANDEM_TEST_PG_HOST, TANDEM_TEST_PG_PORT,
#   TANDEM_TEST_PG_USER, TANDEM_TEST_PG_DB, TANDEM_TEST_PG_URL, TANDEM_TEST_PG_CONNINFO, TANDEM_TEST_PG_SOCKET_DIR
# Env in: TANDEM_TEST_PG_PORT (use this port instead of searching from 25432), TANDEM_TEST_PG_OPTIONS (more
#   server options, e.g. "-c shared_preload_libraries=pg_stat_statements" for a benchmark).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

NAME=postgres
DIR="$TANDEM_STATE/$NAME"
PGBIN="${TANDEM_PG_BIN:-/usr/lib/postgresql/15/bin}"
PGUSER_OS=postgres   # OS user that owns the cluster (PostgreSQL refuses to run as root)

# Runs a PostgreSQL binary as the cluster owner (through runuser when we are root).
pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi
}

start() {
    local t0 port tmp
    t0=$(now_s)
    [ -x "$PGBIN/initdb" ] || die "$PGBIN/initdb not found (install postgresql-15)"
    stop_quiet
    mkdir -p "$DIR"
    if [ "$(id -u)" -eq 0 ]; then
        id -u "$PGUSER_OS" >/dev/null 2>&1 ||
            useradd --system --user-group --home-dir /var/lib/postgresql --shell /usr/sbin/nologin "$PGUSER_OS"
    else
        PGUSER_OS=$(id -un)
    fi
    port=${TANDEM_TEST_PG_PORT:-$(free_port 25432)}
    # The cluster lives in /tmp: the repo may sit under a directory the postgres user cannot traverse.
    tmp=$(mktemp -d /tmp/tandem-pg.XXXXXX)
    chmod 755 "$tmp"
    mkdir -p "$tmp/data" "$tmp/sock"
    [ "$(id -u)" -eq 0 ] && chown -R "$PGUSER_OS" "$tmp"
    echo "$tmp" >"$DIR/tmpdir"
    pg_as_owner "$PGBIN/initdb" -D "$tmp/data" -U postgres --auth=trust --locale=C --encoding=UTF8 \
        --no-sync >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    echo "-c listen_addresses=127.0.0.1 -p $port -k $tmp/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 ${TANDEM_TEST_PG_OPTIONS:-}" >"$DIR/options"
    pg_as_owner "$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 start -o "$(cat "$DIR/options")" \
        >"$DIR/pg_ctl.log" 2>&1 || { cat "$DIR/pg_ctl.log" "$tmp/server.log" >&2; die "pg_ctl start failed"; }
    ln -sf "$tmp/server.log" "$DIR/server.log"
    wait_until 20 "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres || die "postgres not ready on port $port"
    "$PGBIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE tandem" >/dev/null
    # Verify: a query in the new database answers.
    [ "$("$PGBIN/psql" -qtA -h 127.0.0.1 -p "$port" -U postgres -d tandem -c 'SELECT 1')" = 1 ] ||
        die "postgres did not answer SELECT 1"
    write_env "$DIR/env" \
        TANDEM_TEST_PG_HOST=127.0.0.1 TANDEM_TEST_PG_PORT="$port" TANDEM_TEST_PG_USER=postgres \
        TANDEM_TEST_PG_DB=tandem TANDEM_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/tandem" \
        TANDEM_TEST_PG_CONNINFO="hostaddr=127.0.0.1 port=$port user=postgres dbname=tandem" \
        TANDEM_TEST_PG_SOCKET_DIR="$tmp/sock"
    log "postgres ready on 127.0.0.1:$port (db tandem, user postgres, trust) in $(elapsed_since "$t0") s"
}

stop_quiet() {
    local tmp
    [ -f "$DIR/tmpdir" ] || return 0
    tmp=$(cat "$DIR/tmpdir")
    if [ -f "$tmp/data/postmaster.pid" ]; then
        pg_as_owner "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
    fi
    case "$tmp" in /tmp/tandem-pg.*) rm -rf "$tmp" ;; esac
    rm -f "$DIR/tmpdir" "$DIR/env" "$DIR/server.log"
}

stop() {
    local t0; t0=$(now_s)
    stop_quiet
    log "postgres stopped in $(elapsed_since "$t0") s"
}

# crash: immediate shutdown (no checkpoint, clients cut off), keeping the cluster; resume: start it again.
crash() {
    local tmp; tmp=$(cat "$DIR/tmpdir")
    pg_as_owner "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate -w -t 20 stop >/dev/null
}

resume() {
    local tmp; tmp=$(cat "$DIR/tmpdir")
    pg_as_owner "$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 start -o "$(cat "$DIR/options")" \
        >"$DIR/pg_ctl.log" 2>&1 || { cat "$DIR/pg_ctl.log" >&2; die "pg_ctl start failed"; }
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    crash) crash ;;
    resume) resume ;;
    env) cat "$DIR/env" ;;
    *) echo "usage: $0 start|stop|crash|resume|env" >&2; exit 2 ;;
esac
