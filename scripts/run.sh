#!/usr/bin/env bash
# Builds Tandem in release mode and runs the proxy in the foreground with Configs/default.cfg.
# Usage: scripts/run.sh [extra `tandem run` args...]
#   TANDEM_CONFIG=FILE overrides the config file; TANDEM_SKIP_APT=1 skips the package check.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$TANDEM_ROOT"

BUILD_PACKAGES=(pkg-config libpq-dev libcurl4-openssl-dev libmongoc-dev libldap-dev libmariadb-dev libc-ares-dev libssl-dev sip-tester)
[ "${TANDEM_SKIP_APT:-0}" = 1 ] || ensure_packages "${BUILD_PACKAGES[@]}"

swift build -c release
exec .build/release/tandem run -f "${TANDEM_CONFIG:-Configs/default.cfg}" "$@"
