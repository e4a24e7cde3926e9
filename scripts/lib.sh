# Shared by run.sh, test.sh and bench scripts: install what is missing, build
# the app. Every install is skipped when the right version is already there.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
DIST="$ROOT/dist"
# A step failing inside $(…) (build_bundle's cargo) stops the script too:
# bash does not pass `set -e` into command substitutions by itself, and a
# failed compile went on to package the previous build's wasm.
shopt -s inherit_errexit

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
  # Installs the Debian packages that are not installed yet.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_tools() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
    || { log "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
  local want; want="$(wasm_bindgen_version)"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    log "installing wasm-bindgen-cli $want (a few minutes, once)"
    # Not --locked: the registry lacks one of its locked dependencies.
    cargo install -q wasm-bindgen-cli --version "$want"
  fi
  # binaryen 116 from crates.io; never Debian's binaryen 108, whose -Oz output
  # fails in Chromium.
  if [ "$(wasm-opt --version 2>/dev/null | awk '{print $3}')" != "116" ]; then
    log "installing wasm-opt 0.116.1 (about ten minutes, once)"
    cargo install -q wasm-opt --version 0.116.1 --locked
  fi
  # Splits the app's wasm at its lazy routes (the split points of
  # leptos_router's #[lazy_route]); 0.2.x matches wasm_split_helpers 0.2.
  if ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    log "installing wasm-split-cli $WASM_SPLIT_VERSION (a few minutes, once)"
    cargo install -q wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --locked --features build-binary
  fi
  command -v brotli >/dev/null || apt_install brotli
}

WASM_SPLIT_VERSION=0.2.4

ensure_browser() {
  apt_install chromium chromium-driver
}

ensure_node_modules() {
  command -v node >/dev/null || apt_install nodejs npm
  if [ ! -d "$ROOT/e2e/node_modules/playwright-core" ] || [ ! -d "$ROOT/e2e/node_modules/axe-core" ]; then
    log "installing the e2e packages (playwright-core drives Debian's Chromium, no browser download; axe-core checks accessibility)"
    (cd "$ROOT/e2e" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The anchors' Node modules (PouchDB 9, express-pouchdb…), outside the
# project, for the side-by-side comparison of scripts/bench.sh
# (../shared/anchors/README.md). Registry packages only.
ensure_anchors() {
  export ANCHORS_DIR="${ANCHORS_DIR:-${TMPDIR:-/tmp}/anchors}"
  if [ ! -d "$ANCHORS_DIR/node_modules/pouchdb" ]; then
    log "installing the anchors' modules into $ANCHORS_DIR (PouchDB 9, express-pouchdb)"
    npm install --prefix "$ANCHORS_DIR" --no-audit --no-fund --loglevel=error \
      pouchdb express-pouchdb express pouchdb-adapter-memory playwright-core
  fi
}

ensure_sqlite_cli() {
  command -v sqlite3 >/dev/null || apt_install sqlite3
}

# Builds the app in release into dist/: wasm, JS glue and CSS under content-hashed
# names, index.html and sw.js pointing at them, brotli and gzip twins for the server.
build_app() {
  ensure_wasm_tools
  rm -rf "$DIST"; mkdir -p "$DIST/pkg"
  # Two builds of the app: the professionals' and the patient's own
  # (feature `patient`: their screens only, a smaller first download). The
  # page's loader picks one (public/start.js).
  local pro patient
  pro="$(build_bundle "")"
  patient="$(build_bundle patient)"

  local css h_css
  h_css="$(sha256sum "$ROOT/public/style.css" | cut -c1-16)"
  css="style-$h_css.css"
  cp "$ROOT/public/style.css" "$DIST/pkg/$css"
  cp -r "$ROOT/public/icons" "$ROOT/public/manifest.webmanifest" "$ROOT/public/robots.txt" "$DIST/"
  # The page's loader is a file of its own (no inline script: the
  # Content-Security-Policy forbids it), named by its content like the rest.
  local start h_start
  sed -e "s|@WASM@|$pro/app_bg.wasm|g" -e "s|@JS@|$pro/app.js|g" \
    -e "s|@PATIENT_WASM@|$patient/app_bg.wasm|g" -e "s|@PATIENT_JS@|$patient/app.js|g" \
    "$ROOT/public/start.js" > "$DIST/start.js"
  h_start="$(sha256sum "$DIST/start.js" | cut -c1-16)"
  start="start-$h_start.js"
  mv "$DIST/start.js" "$DIST/pkg/$start"
  sed -e "s|@START@|$start|g" -e "s|@CSS@|$css|g" "$ROOT/public/index.html" > "$DIST/index.html"

  local version precache f
  version="$(cat "$DIST/index.html" "$DIST/pkg/$start" "$DIST/pkg/$pro/"* "$DIST/pkg/$patient/"* "$DIST/pkg/$css" "$ROOT/public/sw.js" | sha256sum | cut -c1-16)"
  # Everything is precached: a lazy route opens offline after the first
  # visit, and either build starts with no network.
  precache="'/', '/manifest.webmanifest', '/icons/icon-192.png', '/icons/icon-512.png', '/pkg/$css', '/pkg/$start'"
  for f in "$DIST/pkg/$pro/"* "$DIST/pkg/$patient/"*; do
    precache="$precache, '/pkg/$(basename "$(dirname "$f")")/$(basename "$f")'"
  done
  sed -e "s|@VERSION@|$version|" -e "s|@PRECACHE@|[$precache]|" "$ROOT/public/sw.js" > "$DIST/sw.js"

  for f in "$DIST/index.html" "$DIST/sw.js" "$DIST/manifest.webmanifest" "$DIST/pkg/$css" "$DIST/pkg/$start" "$DIST/pkg/$pro/"* "$DIST/pkg/$patient/"*; do
    brotli -q 11 -f -k "$f"
    gzip -9 -f -k "$f"
  done
  log "app built in $DIST (build $version)"
}

# One build of the app (features "$1"), split at its lazy routes, into
# dist/pkg/<hash of its files>/; prints that folder's name.
build_bundle() {
  local features="$1"
  log "building the app${features:+ ($features)} (release, wasm32, split at its lazy routes)" >&2
  # --emit-relocs keeps what wasm-split needs to see which code each lazy
  # route uses; only the wasm target's flags change.
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Clink-args=--emit-relocs" \
    cargo build --profile wasm-release --locked --target wasm32-unknown-unknown -p app \
    ${features:+--features "$features"} >&2 || return 1
  local stage; stage="$(mktemp -d)"
  # The main module (app.wasm, for wasm-bindgen), one module per lazy
  # route and the shared chunks, and __wasm_split.js that loads them.
  wasm-split-cli "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/app.wasm" "$stage/split" --out-name app >&2
  wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
    --out-dir "$stage/out" --out-name app "$stage/split/app.wasm" >&2
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    -o "$stage/out/app_bg.opt.wasm" "$stage/out/app_bg.wasm" >&2
  mv "$stage/out/app_bg.opt.wasm" "$stage/out/app_bg.wasm"
  rm "$stage/split/app.wasm"
  # The lazy modules, optimised like the main one (their imports and
  # exports, which tie them to it, are kept).
  local chunk
  for chunk in "$stage/split/"*.wasm; do
    [ -e "$chunk" ] || continue
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int -o "$chunk.opt" "$chunk" 2>/dev/null
    mv "$chunk.opt" "$chunk"
  done
  cp "$stage/split/"* "$stage/out/"
  # Every file of one build in one folder named by their content: the
  # modules import each other by relative names, and /pkg/ is cached forever.
  local build
  build="$(cat "$stage/out/"* | sha256sum | cut -c1-16)"
  mkdir -p "$DIST/pkg/$build"
  cp "$stage/out/"* "$DIST/pkg/$build/"
  rm -rf "$stage"
  echo "$build"
}

# What a phone downloads: before its first screen (the page, the style, the
# main module and its loader), then the lazy modules (fetched when a route
# first opens, and precached by the service worker after the first visit).
report_sizes() {
  local name build start
  start="$(ls "$DIST"/pkg/start-*.js)"
  for name in professional patient; do
    # The loader names each build's folder (public/start.js).
    build="$(sed -n "s|.*const ${name^^} = \['/pkg/\([0-9a-f]*\)/.*|\1|p" "$start")"
    [ -n "$build" ] || { echo "no $name build named in $start" >&2; return 1; }
    size_table "the $name app: downloaded before any screen (page, its loader, style, main module, its glue)" \
      "$DIST/index.html" "$start" "$DIST"/pkg/*.css "$DIST/pkg/$build/app.js" "$DIST/pkg/$build/app_bg.wasm" "$DIST/pkg/$build/__wasm_split.js"
    size_table "the $name app: lazy modules and the chunks they share (loaded when first needed; precached for offline)" \
      "$DIST"/pkg/"$build"/split_*.wasm "$DIST"/pkg/"$build"/chunk_*.wasm
  done
  log "what each first screen really downloads: node e2e/bench/diary.js (its first lines)"
}

size_table() {
  local title="$1"; shift
  local f raw br gz total_raw=0 total_br=0 total_gz=0
  log "front end: $title"
  printf '%-60s %10s %10s %10s\n' file raw brotli gzip
  for f in "$@"; do
    [ -e "$f" ] || continue
    raw=$(stat -c %s "$f"); br=$(stat -c %s "$f.br"); gz=$(stat -c %s "$f.gz")
    total_raw=$((total_raw + raw)); total_br=$((total_br + br)); total_gz=$((total_gz + gz))
    printf '%-60s %10d %10d %10d\n' "$(basename "$f")" "$raw" "$br" "$gz"
  done
  printf '%-60s %10d %10d %10d\n' total "$total_raw" "$total_br" "$total_gz"
}

build_server() {
  log "building the server"
  cargo build --release --locked -p parcours-server
}

# A throw-away PostgreSQL cluster on 127.0.0.1 for the server tests, from
# Debian's package (it does not start by itself here: no init system).
# Sets PARCOURS_TEST_POSTGRES_URL; stop_postgres removes it.
start_postgres() {
  apt_install postgresql
  command -v openssl >/dev/null || apt_install openssl
  local bin
  bin="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)"
  [ -x "$bin/initdb" ] || { echo "PostgreSQL binaries not found under /usr/lib/postgresql" >&2; return 1; }
  PG_DIR="$(mktemp -d)"
  chmod 755 "$PG_DIR"
  chown postgres "$PG_DIR"
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  log "starting PostgreSQL ($("$bin/postgres" --version | awk '{print $3}')) on 127.0.0.1:$port, TLS only"
  as_root runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
  # The tests reach PostgreSQL over TLS, as a server on another host must
  # (sslmode=require): a throw-away self-signed certificate, and plain TCP
  # connections refused by pg_hba.
  openssl req -new -x509 -days 2 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$PG_DIR/server.key" -out "$PG_DIR/server.crt" >/dev/null 2>&1
  chown postgres "$PG_DIR/server.key" "$PG_DIR/server.crt"
  chmod 600 "$PG_DIR/server.key"
  printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 0.0.0.0/0 reject\n' \
    > "$PG_DIR/data/pg_hba.conf"
  as_root runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=on -c ssl=on -c ssl_cert_file=$PG_DIR/server.crt -c ssl_key_file=$PG_DIR/server.key" start >/dev/null
  PG_BIN="$bin"
  export PARCOURS_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=require"
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    as_root runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
