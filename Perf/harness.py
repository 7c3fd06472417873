#!/usr/bin/env python3
"""Tandem performance harness: the command line of the Perf/tandem_perf package (subcommands relay, matrix,
compare, chart: `python3 Perf/harness.py --help`, Perf/README.md). `import harness` gives every name of the
package's modules (tests, Perf/offload_lanes.py, Perf/regload.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tandem_perf  # noqa: E402

globals().update({k: v for k, v in tandem_perf.namespace().items() if k not in ("sys", "Path")})

if __name__ == "__main__":
    sys.exit(main())  # noqa: F821  (tandem_perf.cli.main)
