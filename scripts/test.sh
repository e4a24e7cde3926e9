#!/usr/bin/env bash
# Runs every test: formatting and lints, the domain's unit tests, the server
# tests on SQLite and on a real PostgreSQL, then the e2e scenarios in real
# headless Chromium against the real server binary. Installs what is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
trap stop_postgres EXIT

log "formatting and lints"
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy
cargo fmt --all --check
ensure_wasm_tools
cargo clippy --locked -p parcours-domain -p parcours-server --all-targets -- -D warnings
cargo clippy --locked -p app --target wasm32-unknown-unknown -- -D warnings
cargo clippy --locked -p app --features patient --target wasm32-unknown-unknown -- -D warnings

start_postgres
log "unit and server tests (SQLite and PostgreSQL)"
cargo test --locked -p parcours-domain -p parcours-server

build_app
build_server
ensure_browser
ensure_sqlite_cli
ensure_node_modules
log "end-to-end tests (headless Chromium, 360 × 740)"
(cd e2e && PARCOURS_SERVER_BIN="$CARGO_TARGET_DIR/release/parcours-server" PARCOURS_DIST="$DIST" npm test --silent)
log "all tests passed"
