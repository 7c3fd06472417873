#!/usr/bin/env bash
# OpenLDAP test instance on 127.0.0.1: private slapd.conf, mdb backend, suffix dc=example,dc=com,
# rootdn cn=admin,dc=example,dc=com / secret, a few test entries loaded with slapadd.
# Usage: slapd.sh start|stop|env
# Env out: TANDEM_TEST_LDAP_HOST, TANDEM_TEST_LDAP_PORT, TANDEM_TEST_LDAP_URL, TANDEM_TEST_LDAP_BASE,
#   TANDEM_TEST_LDAP_BIND_DN, TANDEM_TEST_LDAP_BIND_PW
# Env in: TANDEM_TEST_LDAP_PORT (use this port instead of searching from 23389).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

NAME=slapd
DIR="$TANDEM_STATE/$NAME"
SUFFIX="dc=example,dc=com"
ROOTDN="cn=admin,$SUFFIX"
ROOTPW="secret"
SLAPD="${TANDEM_SLAPD_BIN:-/usr/sbin/slapd}"

write_config() {
    local modpath=/usr/lib/ldap
    [ -d "$modpath" ] || modpath=$(dirname "$(find /usr/lib -name 'back_mdb.so' -print -quit)")
    cat >"$DIR/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile $DIR/slapd.pid
argsfile $DIR/slapd.args
modulepath $modpath
moduleload back_mdb
loglevel none
database mdb
maxsize 104857600
suffix "$SUFFIX"
rootdn "$ROOTDN"
rootpw $ROOTPW
directory $DIR/db
index objectClass eq
index uid eq
index telephoneNumber eq
access to * by * read
CONF
    cat >"$DIR/seed.ldif" <<LDIF
dn: $SUFFIX
objectClass: top
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=groups,$SUFFIX
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,$SUFFIX
objectClass: inetOrgPerson
uid: alice
cn: Alice Example
sn: Example
mail: alice@example.com
telephoneNumber: 1001
userPassword: alicepw
description: sip:alice@127.0.0.1:5070

dn: uid=bob,ou=people,$SUFFIX
objectClass: inetOrgPerson
uid: bob
cn: Bob Example
sn: Example
mail: bob@example.com
telephoneNumber: 1002
userPassword: bobpw
description: sip:bob@127.0.0.1:5071

dn: uid=carol,ou=people,$SUFFIX
objectClass: inetOrgPerson
uid: carol
cn: Carol Example
sn: Example
mail: carol@example.com
telephoneNumber: 1003
telephoneNumber: 1004
userPassword: carolpw

dn: cn=operators,ou=groups,$SUFFIX
objectClass: groupOfNames
cn: operators
member: uid=alice,ou=people,$SUFFIX
member: uid=bob,ou=people,$SUFFIX
LDIF
}

start() {
    local t0 port pid
    t0=$(now_s)
    [ -x "$SLAPD" ] || die "$SLAPD not found (install slapd)"
    stop_quiet
    rm -rf "$DIR"
    mkdir -p "$DIR/db"
    port=${TANDEM_TEST_LDAP_PORT:-$(free_port 23389)}
    write_config
    /usr/sbin/slapadd -f "$DIR/slapd.conf" -l "$DIR/seed.ldif" >"$DIR/slapadd.log" 2>&1 ||
        { cat "$DIR/slapadd.log" >&2; die "slapadd failed"; }
    # -d 0 keeps slapd in the foreground, so $! is its pid.
    "$SLAPD" -f "$DIR/slapd.conf" -h "ldap://127.0.0.1:$port/" -d 0 >"$DIR/slapd.log" 2>&1 &
    pid=$!
    echo "$pid" >"$DIR/pid"
    # Verify: an anonymous search and an authenticated bind both answer.
    wait_until 20 ldapsearch -x -LLL -H "ldap://127.0.0.1:$port/" -b "$SUFFIX" -s base dn ||
        { kill "$pid" 2>/dev/null; cat "$DIR/slapd.log" >&2; die "slapd not answering on port $port"; }
    ldapsearch -x -LLL -H "ldap://127.0.0.1:$port/" -D "$ROOTDN" -w "$ROOTPW" -b "ou=people,$SUFFIX" \
        '(uid=alice)' uid | grep -q '^uid: alice' || die "slapd: bind/search for alice failed"
    write_env "$DIR/env" \
        TANDEM_TEST_LDAP_HOST=127.0.0.1 TANDEM_TEST_LDAP_PORT="$port" \
        TANDEM_TEST_LDAP_URL="ldap://127.0.0.1:$port/" TANDEM_TEST_LDAP_BASE="$SUFFIX" \
        TANDEM_TEST_LDAP_BIND_DN="$ROOTDN" TANDEM_TEST_LDAP_BIND_PW="$ROOTPW"
    log "slapd ready on 127.0.0.1:$port (base $SUFFIX) in $(elapsed_since "$t0") s"
}

stop_quiet() { stop_pid "$DIR/pid" 10; rm -f "$DIR/env"; }

stop() {
    local t0; t0=$(now_s)
    stop_quiet
    log "slapd stopped in $(elapsed_since "$t0") s"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) cat "$DIR/env" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
