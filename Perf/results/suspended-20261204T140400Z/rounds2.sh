#!/bin/bash
# Alternate binaries through Perf/suspended_memory.sh (run from the worktree root); load read at each run's start.
# Usage: rounds2.sh ROUNDS NAME=BIN...
R=$1; shift
for r in $(seq 1 $R); do
  for nb in "$@"; do
    name=${nb%%=*}; bin=${nb#*=}
    line=$(flock /tmp/tandem-perf.lock bash -c "echo load=\\\"\$(cut -d' ' -f1-3 /proc/loadavg)\\\"; TANDEM_BIN=$bin Perf/suspended_memory.sh 10000 2000 2>&1 | tail -1" | tr '\n' ' ')
    echo "round=$r binary=$name $line"
  done
done
