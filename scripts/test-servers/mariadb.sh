#!/usr/bin/env bash
# MariaDB test instance on 127.0.0.1: its own data directory and socket in a private temp dir, database
# `tandem`, user `tandem` (password `tandem`, all privileges on it, may KILL its own queries).
# Usage: mariadb.sh start|stop|env
# Env out (written to .test-servers/mariadb/env): TANDEM_TEST_MYSQL_HOST, TANDEM_TEST_MYSQL_PORT,
#   TANDEM_TEST_MYSQL_URL, TANDEM_TEST_MYSQL_SOCKET
# Env in: TANDEM_TEST_MYSQL_PORT (use this port instead of searching from 23306).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

NAME=mariadb
DIR="$TANDEM_STATE/$NAME"
OSUSER=mysql   # OS user that owns the data directory when we are root

client() { mariadb --no-defaults --socket="$1" -uroot "${@:2}"; }

start() {
    local t0 port tmp
    t0=$(now_s)
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || die "mariadbd not found (install mariadb-server)"
    stop_quiet
    mkdir -p "$DIR"
    if [ "$(id -u)" -eq 0 ]; then
        id -u "$OSUSER" >/dev/null 2>&1 ||
            useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin "$OSUSER"
    else
        OSUSER=$(id -un)
    fi
    port=${TANDEM_TEST_MYSQL_PORT:-$(free_port 23306)}
    # The instance lives in /tmp: the repo may sit under a directory the mysql user cannot traverse.
    tmp=$(mktemp -d /tmp/tandem-mariadb.XXXXXX)
    chmod 755 "$tmp"
    mkdir -p "$tmp/data"
    [ "$(id -u)" -eq 0 ] && chown -R "$OSUSER" "$tmp"
    echo "$tmp" >"$DIR/tmpdir"
    # Its own tmpdir: instances bootstrapped at the same moment (tests start private ones beside the
    # shared one) collide on temporary table names in a shared /tmp.
    mkdir -p "$tmp/tmp"
    [ "$(id -u)" -eq 0 ] && chown "$OSUSER" "$tmp/tmp"
    mariadb-install-db --no-defaults --datadir="$tmp/data" --tmpdir="$tmp/tmp" --user="$OSUSER" \
        --auth-root-authentication-method=socket --skip-test-db >"$DIR/install.log" 2>&1 ||
        { cat "$DIR/install.log" >&2; die "mariadb-install-db failed"; }
    /usr/sbin/mariadbd --no-defaults --datadir="$tmp/data" --tmpdir="$tmp/tmp" --user="$OSUSER" --bind-address=127.0.0.1 \
        --port="$port" --socket="$tmp/mysqld.sock" --pid-file="$tmp/mysqld.pid" --skip-name-resolve \
        --skip-log-bin --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=32M \
        --max-connections=300 --log-error="$tmp/server.log" </dev/null >/dev/null 2>&1 &
    echo $! >"$DIR/pid"
    ln -sf "$tmp/server.log" "$DIR/server.log"
    wait_until 30 mariadb-admin --no-defaults --socket="$tmp/mysqld.sock" -uroot ping ||
        { cat "$tmp/server.log" >&2 || true; die "mariadb not ready on port $port"; }
    client "$tmp/mysqld.sock" -e "CREATE DATABASE tandem;
        CREATE USER 'tandem'@'127.0.0.1' IDENTIFIED BY 'tandem';
        CREATE USER 'tandem'@'localhost' IDENTIFIED BY 'tandem';
        GRANT ALL ON tandem.* TO 'tandem'@'127.0.0.1';
        GRANT ALL ON tandem.* TO 'tandem'@'localhost';"
    # Verify: the test user answers over TCP.
    [ "$(mariadb --no-defaults -h127.0.0.1 -P"$port" -utandem -ptandem tandem -N -e 'SELECT 1')" = 1 ] ||
        die "mariadb did not answer SELECT 1 over TCP"
    write_env "$DIR/env" \
        TANDEM_TEST_MYSQL_HOST=127.0.0.1 TANDEM_TEST_MYSQL_PORT="$port" \
        TANDEM_TEST_MYSQL_URL="mysql://tandem:tandem@127.0.0.1:$port/tandem" \
        TANDEM_TEST_MYSQL_SOCKET="$tmp/mysqld.sock"
    log "mariadb ready on 127.0.0.1:$port (db tandem, user tandem) in $(elapsed_since "$t0") s"
}

stop_quiet() {
    local tmp pid
    if [ -f "$DIR/pid" ]; then
        pid=$(cat "$DIR/pid")
        if pid_alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do pid_alive "$pid" || break; sleep 0.05; done
            pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$DIR/pid"
    fi
    if [ -f "$DIR/tmpdir" ]; then
        tmp=$(cat "$DIR/tmpdir")
        case "$tmp" in /tmp/tandem-mariadb.*) rm -rf "$tmp" ;; esac
    fi
    rm -f "$DIR/tmpdir" "$DIR/env" "$DIR/server.log"
}

stop() {
    local t0; t0=$(now_s)
    stop_quiet
    log "mariadb stopped in $(elapsed_since "$t0") s"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) cat "$DIR/env" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
