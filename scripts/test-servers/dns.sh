#!/usr/bin/env bash
# dnsmasq on 127.0.0.1 (spare UDP/TCP port) authoritative for the test domain test.tandem:
#   a.test.tandem            A 127.0.0.1
#   v6.test.tandem           A 127.0.0.2, AAAA ::1
#   t1/t2/t3.test.tandem     A 127.0.0.1
#   _sip._udp.srv.test.tandem  SRV 10 1 t1:P1, 10 3 t2:P2, 20 1 t3:P3 (P1..P3: spare UDP ports)
#   naptr.test.tandem        NAPTR 10 10 "S" "SIP+D2U" "" _sip._udp.srv.test.tandem
#   TCP/TLS (RFC 3263 §4.1; Q1 Q2 Q3: spare TCP ports, nothing listens on Q1):
#   _sip._tcp.tcpsrv.test.tandem    SRV 10 1 t1:Q2
#   _sips._tcp.tcpsrv.test.tandem   SRV 10 1 t1:Q3
#   tcpnaptr.test.tandem     NAPTR 5 10 "S" "SIPS+D2T" _sips._tcp.tcpsrv, 10 10 "S" "SIP+D2T" _sip._tcp.tcpsrv,
#                            20 10 "S" "SIP+D2U" _sip._udp.srv (best supported one wins)
#   _sip._tcp.tcpfail.test.tandem   SRV 10 1 t1:Q1 (refuses), 20 1 t2:Q2
#   _sip._udp.both.test.tandem / _sip._tcp.both.test.tandem  SRV 10 1 t1:P1 / t1:Q2 (no NAPTR)
# Any other name under test.tandem is NXDOMAIN. Every answer has TTL TANDEM_TEST_DNS_TTL (default 2 s).
# These NXDOMAIN/NODATA answers carry no SOA (dnsmasq's --local answers), so a second dnsmasq, in
# authoritative mode (it refuses every other domain), serves zone soa.tandem on its own port:
#   a.soa.tandem             A 127.0.0.1, TTL 7 s
#   any other name           NXDOMAIN with the zone's SOA in the authority section (TTL and MINIMUM 7 s)
# Usage: dns.sh start|stop|env
# Env out: TANDEM_TEST_DNS_SERVER (127.0.0.1:PORT), TANDEM_TEST_DNS_PID (for SIGSTOP/SIGCONT),
#   TANDEM_TEST_DNS_TTL, TANDEM_TEST_DNS_LOG (query log), TANDEM_TEST_DNS_SRV_PORTS ("P1 P2 P3"),
#   TANDEM_TEST_DNS_AUTH_SERVER (127.0.0.1:PORT, zone soa.tandem), TANDEM_TEST_DNS_TCP_PORTS ("Q1 Q2 Q3")
# Env in: TANDEM_TEST_DNS_PORT (use this port instead of searching from 25353), TANDEM_TEST_DNS_TTL.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

NAME=dns
DIR="$TANDEM_STATE/$NAME"
DNSMASQ="${TANDEM_DNSMASQ_BIN:-/usr/sbin/dnsmasq}"
TTL="${TANDEM_TEST_DNS_TTL:-2}"
D=test.tandem

start() {
    local t0 port pid p1 p2 p3 q1 q2 q3 authport
    t0=$(now_s)
    [ -x "$DNSMASQ" ] || die "$DNSMASQ not found (install dnsmasq-base)"
    stop_quiet
    rm -rf "$DIR"
    mkdir -p "$DIR"
    port=${TANDEM_TEST_DNS_PORT:-$(free_port 25353)}
    p1=$(free_port 25071); p2=$(free_port $((p1 + 1))); p3=$(free_port $((p2 + 1)))
    q1=$(free_port 25171); q2=$(free_port $((q1 + 1))); q3=$(free_port $((q2 + 1)))
    "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
        --listen-address=127.0.0.1 --bind-interfaces --port="$port" --user=root --group=root \
        --pid-file="$DIR/dnsmasq.pid" --cache-size=0 --local-ttl="$TTL" --neg-ttl="$TTL" \
        --local=/$D/ --log-queries --log-facility="$DIR/queries.log" \
        --host-record=a.$D,127.0.0.1 --host-record=v6.$D,127.0.0.2,::1 \
        --host-record=t1.$D,127.0.0.1 --host-record=t2.$D,127.0.0.1 --host-record=t3.$D,127.0.0.1 \
        --srv-host=_sip._udp.srv.$D,t1.$D,$p1,10,1 --srv-host=_sip._udp.srv.$D,t2.$D,$p2,10,3 \
        --srv-host=_sip._udp.srv.$D,t3.$D,$p3,20,1 \
        --naptr-record=naptr.$D,10,10,S,SIP+D2U,,_sip._udp.srv.$D \
        --srv-host=_sip._tcp.tcpsrv.$D,t1.$D,$q2,10,1 --srv-host=_sips._tcp.tcpsrv.$D,t1.$D,$q3,10,1 \
        --naptr-record=tcpnaptr.$D,5,10,S,SIPS+D2T,,_sips._tcp.tcpsrv.$D \
        --naptr-record=tcpnaptr.$D,10,10,S,SIP+D2T,,_sip._tcp.tcpsrv.$D \
        --naptr-record=tcpnaptr.$D,20,10,S,SIP+D2U,,_sip._udp.srv.$D \
        --srv-host=_sip._tcp.tcpfail.$D,t1.$D,$q1,10,1 --srv-host=_sip._tcp.tcpfail.$D,t2.$D,$q2,20,1 \
        --srv-host=_sip._udp.both.$D,t1.$D,$p1,10,1 --srv-host=_sip._tcp.both.$D,t1.$D,$q2,10,1 \
        >"$DIR/dnsmasq.log" 2>&1 &
    pid=$!
    echo "$pid" >"$DIR/pid"
    authport=$(free_port $((port + 1)))
    "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
        --listen-address=127.0.0.1 --bind-interfaces --port="$authport" --user=root --group=root \
        --pid-file="$DIR/dnsmasq-auth.pid" --cache-size=0 \
        --auth-zone=soa.tandem --auth-server=ns.soa.tandem,127.0.0.1 --auth-ttl=7 \
        --auth-soa=1,hostmaster.soa.tandem,1200,120,1209600 --host-record=a.soa.tandem,127.0.0.1 \
        >"$DIR/dnsmasq-auth.log" 2>&1 &
    echo $! >"$DIR/auth.pid"
    wait_until 10 bash -c "dig +short +time=1 +tries=1 -p $port @127.0.0.1 a.$D A | grep -q 127.0.0.1" ||
        { kill "$pid" 2>/dev/null; cat "$DIR/dnsmasq.log" >&2; die "dnsmasq not answering on port $port"; }
    dig +short -p "$port" @127.0.0.1 SRV "_sip._udp.srv.$D" | grep -q t2.$D || die "dnsmasq: SRV record missing"
    wait_until 10 bash -c "dig +time=1 +tries=1 -p $authport @127.0.0.1 none.soa.tandem A | grep -q 'IN.SOA'" ||
        { cat "$DIR/dnsmasq-auth.log" >&2; die "authoritative dnsmasq not answering with an SOA on port $authport"; }
    write_env "$DIR/env" \
        TANDEM_TEST_DNS_SERVER="127.0.0.1:$port" TANDEM_TEST_DNS_PID="$pid" TANDEM_TEST_DNS_TTL="$TTL" \
        TANDEM_TEST_DNS_LOG="$DIR/queries.log" TANDEM_TEST_DNS_SRV_PORTS="$p1 $p2 $p3" \
        TANDEM_TEST_DNS_AUTH_SERVER="127.0.0.1:$authport" TANDEM_TEST_DNS_TCP_PORTS="$q1 $q2 $q3"
    log "dnsmasq ready on 127.0.0.1:$port (zone $D, TTL $TTL s), authoritative soa.tandem on $authport in $(elapsed_since "$t0") s"
}

stop_quiet() {
    # A frozen (SIGSTOPped) dnsmasq would ignore SIGTERM.
    [ -f "$DIR/pid" ] && kill -CONT "$(cat "$DIR/pid")" 2>/dev/null || true
    stop_pid "$DIR/pid" 5; stop_pid "$DIR/auth.pid" 5; rm -f "$DIR/env"
}

stop() {
    local t0; t0=$(now_s)
    stop_quiet
    log "dnsmasq stopped in $(elapsed_since "$t0") s"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) cat "$DIR/env" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
