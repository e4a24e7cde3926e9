#!/usr/bin/env bash
# Builds the app and prints what a phone downloads, before its first screen
# and later (docs/performance.md). Asserts nothing.
#   ./scripts/size.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
build_app
report_sizes
