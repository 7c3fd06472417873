#!/bin/bash
# heaptrack one binary holding 10,000 suspended calls and summarize (run from the repository root; takes the
# perf lock). Usage: ht.sh BIN NAME
#   OUT_DIR: where heaptrack-runs.txt and heaptrack-NAME.txt go (default: the current directory)
#   HT_DIR:  heaptrack's data and the proxy's logs (default /tmp/tandem-ht)
BIN=$1; NAME=$2; S=$(dirname "$0"); OUT=${OUT_DIR:-.}; HT=${HT_DIR:-/tmp/tandem-ht}
mkdir -p "$HT" "$OUT" && cp "$S/heaptrack-suspended.cfg" "$HT/"
echo "== $NAME load $(cat /proc/loadavg)" >> $OUT/heaptrack-runs.txt
HT_DIR=$HT flock /tmp/tandem-perf.lock bash $S/heaptrack_run.sh "$BIN" "$NAME" >> $OUT/heaptrack-runs.txt 2>&1
f=$(ls -t $HT/$NAME.*zst $HT/$NAME.*gz 2>/dev/null | head -1)
heaptrack_print -f "$f" --print-leaks 1 --print-peaks 0 --print-allocators 0 --print-temporary 0 -s 60 > $HT/$NAME.txt 2>&1
grep -E "^total memory leaked|^calls to allocation" $HT/$NAME.txt >> $OUT/heaptrack-runs.txt
python3 $S/summarize.py $HT/$NAME.txt 10000 > $OUT/heaptrack-$NAME.txt
