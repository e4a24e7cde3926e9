#!/usr/bin/env bash
# Measures what docs/performance.md reports; asserts nothing. Builds first.
# Takes about ten minutes once built.
#   ./scripts/bench.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
build_app
build_server
ensure_browser
ensure_sqlite_cli
ensure_node_modules

report_sizes

export PARCOURS_SERVER_BIN="$CARGO_TARGET_DIR/release/parcours-server" PARCOURS_DIST="$DIST"
log "offline reload to caseload on screen (headless Chromium, 360 × 740)"
(cd e2e && node bench/offline-reload.js 10 150)

log "pathway screens: a patient with two years of records; offline reload of the today screen"
(cd e2e && node bench/pathway.js 15)

log "patient's diary: first-screen bytes, entry save p50/p95 (with the raw IndexedDB anchor), two years drawn"
(cd e2e && node bench/diary.js 40)

log "server: mutations and records per second, pull of 100,000 (SQLite, then PostgreSQL)"
trap stop_postgres EXIT
start_postgres
cargo bench --locked -p parcours-server --bench sync

log "device: 100,000 records into IndexedDB; 10,000 records from a device's outbox"
(cd e2e && node bench/device-sync.js 100000)

log "server memory with 200 devices syncing at once"
(cd e2e && node bench/memory.js 200)

log "issue 11: PouchDB (the anchor) beside Parcours, same run, same records — pull, push, server RSS, ratios"
ensure_anchors
(cd e2e && node bench/anchors.js 20000 100000)
