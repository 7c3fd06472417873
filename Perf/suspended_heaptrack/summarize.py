#!/usr/bin/env python3
"""Per-site summary of heaptrack leaks (what N suspended calls hold): bytes per call for sites with >= N/2 calls."""
import re, subprocess, sys
path, n = sys.argv[1], int(sys.argv[2])
units = {'B': 1, 'K': 1000, 'M': 1000**2, 'G': 1000**3}
def size(s):
    m = re.match(r'([\d.]+)([KMG]?)B?', s); return float(m.group(1)) * units.get(m.group(2) or 'B', 1)
lines = open(path).read().split('\n')
start = next(i for i, l in enumerate(lines) if l.startswith('MEMORY LEAKS'))
entries = []; cur = None
for l in lines[start+1:]:
    m = re.match(r'^([\d.]+[KMG]?B?) leaked over (\d+) calls from(:?)$', l)
    if m:
        if m.group(3):
            cur = [size(m.group(1)), int(m.group(2)), []]; entries.append(cur)
        else:
            cur = None
        continue
    if l.startswith('total runtime'): break
    if cur is not None and l.startswith('    ') and not l.strip().startswith(('at ', 'in ')):
        cur[2].append(l.strip())
def demangle(s):
    return subprocess.run(['swift-demangle', '--simplified', '--compact', s], capture_output=True, text=True).stdout.strip()
rows = []
for b, c, frames in entries:
    if c < n // 2: continue
    useful = [f for f in frames if not re.match(r'(swift_|malloc|_swift|\$ss|\$sS[a-z]|__)', f)][:3]
    rows.append((b / n, c / n, ' <- '.join(demangle(f)[:110] for f in useful)))
rows.sort(key=lambda r: -r[0])
tot = 0
for per, calls, where in rows:
    tot += per; print(f"{per:8.1f} B  {calls:4.2f}/call  {where}")
print(f"{tot:8.1f} B in the sites above")
