#!/usr/bin/env bash
# Runs Parcours with demo data on the embedded SQLite default:
# installs what is missing, builds the app and the server in release, serves
# http://127.0.0.1:8080. Extra arguments go to `parcours-server serve`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build_app
build_server
cd "$ROOT"
exec "$CARGO_TARGET_DIR/release/parcours-server" serve --demo --dist "$DIST" "$@"
