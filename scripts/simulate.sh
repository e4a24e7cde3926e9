#!/usr/bin/env bash
# The long run of the sync simulator: many seeds on SQLite and PostgreSQL.
#   ./scripts/simulate.sh [seeds=50] [steps=2500]
# A failure prints its seed; replay it with PARCOURS_SIM_SEED=<seed>.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
trap stop_postgres EXIT
start_postgres
PARCOURS_SIM_SEEDS="${1:-50}" PARCOURS_SIM_STEPS="${2:-2500}" \
  cargo test --release --locked -p parcours-server --test simulator -- --nocapture
