#!/usr/bin/env bash
# Prints a machine.md for a results folder: CPUs, CPU model, memory, kernel, tool versions, load.
# Usage: Perf/machine.sh > Perf/results/<timestamp>/machine.md
set -uo pipefail
cd "$(dirname "$0")/.."
first() { "$@" 2>&1 | head -1; }
echo "# Machine"
echo
echo "| what | value |"
echo "|---|---|"
echo "| CPUs (nproc) | $(nproc) |"
echo "| CPU model | $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo) |"
echo "| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
echo "| kernel | $(uname -sr) |"
echo "| OS | $(. /etc/os-release && echo "$PRETTY_NAME") (Debian $(cat /etc/debian_version)) |"
echo "| Swift | $(first swift --version) |"
echo "| SIPp | $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1) |"
echo "| Kamailio | $(command -v kamailio >/dev/null && first kamailio -v | sed 's/^version: //' || echo 'not installed') |"
echo "| Python | $(first python3 --version) |"
echo "| tandem commit | $(git rev-parse --short HEAD) |"
echo "| load average when written | $(cut -d' ' -f1-3 /proc/loadavg) |"
echo
echo "The machine is shared: other jobs (test suites with their own SIPp runs) may run during a benchmark."
echo "SIPp (UAC and UAS) runs on the same $(nproc) CPUs as the proxy under test."
