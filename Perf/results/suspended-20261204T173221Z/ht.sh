#!/bin/bash
# heaptrack one binary holding 10,000 suspended calls and summarize (run from the worktree root, under the perf lock).
# Usage: ht.sh BIN NAME   (HT_DIR: where heaptrack-suspended.cfg is and the data go)
BIN=$1; NAME=$2; HT=${HT_DIR:-/tmp/sm3/ht}; R=$(dirname "$0")
echo "== $NAME load $(cat /proc/loadavg)" >> $R/heaptrack-runs.txt
HT_DIR=$HT flock /tmp/tandem-perf.lock bash $R/heaptrack_run.sh "$BIN" "$NAME" >> $R/heaptrack-runs.txt 2>&1
f=$(ls -t $HT/$NAME.*zst $HT/$NAME.*gz 2>/dev/null | head -1)
heaptrack_print -f "$f" --print-leaks 1 --print-peaks 0 --print-allocators 0 --print-temporary 0 -s 60 > $HT/$NAME.txt 2>&1
grep -E "^total memory leaked|^calls to allocation" $HT/$NAME.txt >> $R/heaptrack-runs.txt
python3 $R/summarize.py $HT/$NAME.txt 10000 > $R/heaptrack-$NAME.txt
