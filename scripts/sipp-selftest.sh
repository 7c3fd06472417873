#!/usr/bin/env bash
# Runs the Tests/sipp scenario pairs against each other on 127.0.0.1 (no proxy), or through a proxy
# when TANDEM_SIPP_PROXY=HOST:PORT is set (the UAC then sends every request there with -rsa).
# Usage: scripts/sipp-selftest.sh [CALLS (default 300)] [RATE (default 100)]
#   TANDEM_SIPP_LOST=5      also run each pair with -lost 5 on both sides (default 5; 0 disables)
#   TANDEM_SIPP_OUT=DIR     where CSV stats and logs go (default .test-servers/sipp-selftest-<pid>)
#   TANDEM_SIPP_PORT_BASE=N first SIP port tried (default 25070; control ports from N+3800)
#   TANDEM_SIPP_TRACE=1     also write every message (-trace_msg) to uac_msg.log / uas_msg.log
#   TANDEM_SIPP_ONLY="basic cancel"  run only these pairs (basic cancel busy options)
# Every SIPp run is bounded by `timeout` (SIPp's own -timeout does not always end a run with calls pending).
# Exit: 0 when every run had 0 failed calls on both sides.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$TANDEM_ROOT"

CALLS=${1:-300}
RATE=${2:-100}
LOST=${TANDEM_SIPP_LOST:-5}
PROXY=${TANDEM_SIPP_PROXY:-}
OUT=${TANDEM_SIPP_OUT:-$TANDEM_STATE/sipp-selftest-$$}
BASE=${TANDEM_SIPP_PORT_BASE:-25070}
ONLY=" ${TANDEM_SIPP_ONLY:-basic cancel busy options} "
SC=Tests/sipp
command -v sipp >/dev/null || ensure_packages sip-tester
command -v python3 >/dev/null || ensure_packages python3
mkdir -p "$OUT"

UAS_PORT=$(free_port "$BASE")
UAC_PORT=$(free_port $((UAS_PORT + 1)))
CP_UAS=$(free_port $((BASE + 3800)))
CP_UAC=$(free_port $((CP_UAS + 1)))
# Wall-clock bound of one SIPp run: the calls at the given rate plus drain time.
LIMIT=$(( CALLS / RATE + 60 ))
log "ports: uas $UAS_PORT uac $UAC_PORT control $CP_UAS/$CP_UAC${PROXY:+ proxy $PROXY}"

# csv_field FILE NAME: value of column NAME in the last row of a SIPp -trace_stat CSV.
csv_field() {
    awk -F';' -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) col = i } END { print (col ? $col : "?") }' "$1"
}

udp_bound() { ! port_is_free "$1"; }

FAILURES=0
# run_pair LABEL UAC_XML UAS_XML CALLS RATE LOST
run_pair() {
    local label=$1 uac=$2 uas=$3 calls=$4 rate=$5 lost=$6 t0 uas_pid uac_rc uas_rc
    case "$ONLY" in *" ${label%-lost} "*) ;; *) return 0 ;; esac
    local lostargs=() rsa=() dir="$OUT/$label" tr_uas=() tr_uac=()
    [ "$lost" != 0 ] && lostargs=(-lost "$lost")
    [ -n "$PROXY" ] && rsa=(-rsa "$PROXY")
    rm -rf "$dir"; mkdir -p "$dir"
    if [ -n "${TANDEM_SIPP_TRACE:-}" ]; then
        tr_uas=(-trace_msg -message_file "$dir/uas_msg.log"); tr_uac=(-trace_msg -message_file "$dir/uac_msg.log")
    fi
    t0=$(now_s)
    timeout -k 5 "$((LIMIT + 10))" sipp -sf "$SC/$uas" -i 127.0.0.1 -p "$UAS_PORT" -cp "$CP_UAS" -nostdin -timeout "$((LIMIT + 5))" -m "$calls" \
        "${lostargs[@]}" -trace_stat -stf "$dir/uas.csv" -fd 1 -trace_err -error_file "$dir/uas_err.log" "${tr_uas[@]}" \
        >"$dir/uas.out" 2>&1 &
    uas_pid=$!
    wait_until 5 udp_bound "$UAS_PORT" || { log "$label: UAS did not bind $UAS_PORT"; }
    set +e
    timeout -k 5 "$LIMIT" sipp -sf "$SC/$uac" "127.0.0.1:$UAS_PORT" "${rsa[@]}" -i 127.0.0.1 -p "$UAC_PORT" -cp "$CP_UAC" -nostdin \
        -timeout "$LIMIT" -m "$calls" -r "$rate" "${lostargs[@]}" -trace_stat -stf "$dir/uac.csv" -fd 1 \
        -trace_err -error_file "$dir/uac_err.log" "${tr_uac[@]}" >"$dir/uac.out" 2>&1
    uac_rc=$?
    # The UAS ends by itself after -m calls; give it the timewait, then stop it.
    for ((i = 0; i < 200; i++)); do kill -0 "$uas_pid" 2>/dev/null || break; sleep 0.05; done
    kill -TERM "$uas_pid" 2>/dev/null || true
    wait "$uas_pid"; uas_rc=$?
    set -e
    local s_ok s_fail s_re u_ok u_fail u_re
    s_ok=$(csv_field "$dir/uac.csv" 'SuccessfulCall(C)'); s_fail=$(csv_field "$dir/uac.csv" 'FailedCall(C)')
    s_re=$(csv_field "$dir/uac.csv" 'Retransmissions(C)')
    u_ok=$(csv_field "$dir/uas.csv" 'SuccessfulCall(C)'); u_fail=$(csv_field "$dir/uas.csv" 'FailedCall(C)')
    u_re=$(csv_field "$dir/uas.csv" 'Retransmissions(C)')
    local verdict=PASS
    if [ "$uac_rc" != 0 ] || [ "$uas_rc" != 0 ] || [ "$s_fail" != 0 ] || [ "$u_fail" != 0 ] || [ "$s_ok" != "$calls" ]; then
        verdict=FAIL; FAILURES=$((FAILURES + 1))
    fi
    printf '%-22s %-4s calls=%s rate=%s lost=%s | uac ok=%s failed=%s retrans=%s rc=%s | uas ok=%s failed=%s retrans=%s rc=%s | %ss\n' \
        "$label" "$verdict" "$calls" "$rate" "$lost" "$s_ok" "$s_fail" "$s_re" "$uac_rc" "$u_ok" "$u_fail" "$u_re" "$uas_rc" \
        "$(elapsed_since "$t0")"
}

run_pair basic uac.xml uas.xml "$CALLS" "$RATE" 0
run_pair cancel uac_cancel.xml uas_cancel.xml "$CALLS" "$RATE" 0
run_pair busy uac_busy.xml uas_486.xml "$CALLS" "$RATE" 0
run_pair options uac_options.xml uas_options.xml "$CALLS" "$RATE" 0
if [ "$LOST" != 0 ]; then
    run_pair basic-lost uac.xml uas.xml "$CALLS" "$RATE" "$LOST"
    run_pair cancel-lost uac_cancel.xml uas_cancel.xml "$CALLS" "$RATE" "$LOST"
    run_pair busy-lost uac_busy.xml uas_486.xml "$CALLS" "$RATE" "$LOST"
    run_pair options-lost uac_options.xml uas_options.xml "$CALLS" "$RATE" "$LOST"
fi
log "stats and logs under $OUT"
[ "$FAILURES" = 0 ] || { log "$FAILURES run(s) failed"; exit 1; }
