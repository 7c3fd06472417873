#!/bin/bash
# Alternate main and branch binaries through Perf/suspended_memory.sh (run from the worktree root).
# Usage: rounds.sh MAIN_BIN NEW_BIN ROUNDS [CALLS] [RATE]
MAIN=$1; NEW=$2; R=${3:-3}; CALLS=${4:-10000}; RATE=${5:-2000}
for r in $(seq 1 $R); do
  for b in main new; do
    bin=$MAIN; [ $b = new ] && bin=$NEW
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    line=$(TANDEM_BIN=$bin flock /tmp/tandem-perf.lock Perf/suspended_memory.sh $CALLS $RATE 2>&1 | tail -1)
    echo "round=$r binary=$b load=\"$load\" $line"
  done
done
