#!/usr/bin/env bash
# TLS handshakes per second of in-memory TLSSession pairs (client and server in one thread, no sockets):
# TLS 1.3 and 1.2, server-only and mutual authentication, EC P-256 certificates from scripts/test-certs.sh.
# Usage: Perf/tls_handshakes.sh [COUNT]     (build first: swift build -c release --product tandem)
# Env in: TANDEM_BIN (default .build/release/tandem)
# Prints one line per variant. Exit code: that of the first failing run.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TANDEM_BIN:-.build/release/tandem}
count=${1:-3000}
[ -x "$bin" ] || { echo "no $bin: swift build -c release --product tandem" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
bash scripts/test-certs.sh "$dir"
for method in TLSv1_3 TLSv1_2; do
    "$bin" bench-tls --certificates "$dir" --count "$count" --method "$method"
    "$bin" bench-tls --certificates "$dir" --count "$count" --method "$method" --mutual | sed 's/$/ (mutual)/'
done
