#!/usr/bin/env bash
# Long fuzz run of the SIP parser and of the script front end (checker, compiler, interpreter).
#
#   Perf/fuzz.sh [MINUTES] [SEED]        # default 10 minutes, seed from the clock (printed)
#
# Runs the two `longRun` tests (SIPCoreTests.FuzzTests, TandemScriptTests.FuzzTests), each for half of
# MINUTES, one after the other, from SEED: mutated messages / random bytes for the parser, mutated
# scripts for the front end, each input derived from the seed, so a run is reproducible. Each input is
# written to $TANDEM_FUZZ_DIR/{sip-current.bin,script-current.cfg} before it is tried: after a crash that
# file holds the input that caused it. Exit status 0 when both ran to the end; otherwise the test run's.
# Builds the debug tests first (assertions on). Environment: TANDEM_FUZZ_DIR (default: a new /tmp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-10}
SEED=${2:-$(date +%s)}
OUT=${TANDEM_FUZZ_DIR:-$(mktemp -d /tmp/tandem-fuzz.XXXXXX)}
mkdir -p "$OUT"
SECONDS_EACH=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 30 }')
echo "fuzz: ${MINUTES} min (${SECONDS_EACH} s per target), seed ${SEED}, inputs and summary in ${OUT}"
swift build --build-tests >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 2; }
# The test bundle is run directly (not through `swift test`), so SwiftPM's lock on .build is not held
# for the whole run.
BUNDLE=$(swift build --build-tests --show-bin-path)/TandemPackageTests.xctest
status=0
for target in SIPCoreTests TandemScriptTests; do
    TANDEM_FUZZ_SECONDS=$SECONDS_EACH TANDEM_FUZZ_SEED=$SEED TANDEM_FUZZ_DIR=$OUT \
        "$BUNDLE" --testing-library swift-testing --filter "${target}.FuzzTests/longRun" >"$OUT/$target.log" 2>&1 \
        || status=$?
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $target FAILED (exit $status), see $OUT/$target.log; the last input is in $OUT/"
        tail -20 "$OUT/$target.log"
        exit "$status"
    fi
done
cat "$OUT/summary.txt"
echo "fuzz: no crash, no failed expectation (seed ${SEED})"
