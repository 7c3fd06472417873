#!/usr/bin/env bash
# Runs the Tandem test suite with its loopback test servers (PostgreSQL, MariaDB, slapd, HTTP echo, MongoDB wire,
# dnsmasq).
# Usage: scripts/test.sh [swift test args...]      e.g. scripts/test.sh --filter SIPCoreTests
# Env in:
#   TANDEM_TEST_SERVERS="postgres mariadb slapd http mongo dns nginx"  servers to start (empty string: none)
#   TANDEM_SKIP_APT=1                                 skip the Debian package check
#   TANDEM_TEST_<X>_PORT                              fix a server's port instead of searching for a free one
# Env the tests get: see scripts/test-servers/*.sh headers, plus TANDEM_TEST_SIPP (sipp binary),
#   TANDEM_TEST_SIPP_DIR (Tests/sipp scenarios) and TANDEM_TEST_SERVERS_UP (servers actually started).
# Exit code: that of `swift test` (or of the first failing build/start step).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$TANDEM_ROOT"

PACKAGES=(pkg-config libpq-dev libcurl4-openssl-dev libmongoc-dev libldap-dev libc-ares-dev libssl-dev openssl sip-tester stunnel4
          postgresql-15 slapd ldap-utils python3-venv mariadb-server libmariadb-dev dnsmasq-base dnsutils
          nginx libnginx-mod-http-echo nghttp2-client)
[ "${TANDEM_SKIP_APT:-0}" = 1 ] || ensure_packages "${PACKAGES[@]}"

# Every test server the suite uses (tests skip what is not started).
SERVERS=(${TANDEM_TEST_SERVERS-postgres mariadb http mongo slapd dns nginx})
STARTED=()

stop_servers() {
    local i
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        bash "scripts/test-servers/${STARTED[$i]}.sh" stop || true
    done
    STARTED=()
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t_build=$(now_s)
swift build --build-tests
log "build with tests took $(elapsed_since "$t_build") s"

t_servers=$(now_s)
for s in "${SERVERS[@]}"; do
    STARTED+=("$s")   # registered first, so a half-started server is still stopped
    bash "scripts/test-servers/$s.sh" start
    # shellcheck disable=SC1090
    source "$TANDEM_STATE/$s/env"
done
log "test servers (${SERVERS[*]:-none}) up in $(elapsed_since "$t_servers") s"
export TANDEM_TEST_SERVERS_UP="${SERVERS[*]:-}"
export TANDEM_TEST_SIPP="${TANDEM_TEST_SIPP:-$(command -v sipp || true)}"
export TANDEM_TEST_SIPP_DIR="$TANDEM_ROOT/Tests/sipp"
env | grep '^TANDEM_TEST_' | sort >&2

set +e
swift test "$@"
rc=$?
set -e
log "swift test exited with $rc"
exit "$rc"
