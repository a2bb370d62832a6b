# Shared by scripts/setup, scripts/run and scripts/test (sourced, not run).
#
# - CARGO_TARGET_DIR defaults to a persistent directory outside the checkout, so a fresh clone
#   reuses earlier builds.
# - The LEPTOS_* variables and RUSTFLAGS are exactly what cargo-leptos sets for its debug build,
#   so `cargo test` and `cargo leptos build` share artifacts instead of rebuilding each other.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ROOT
cd "$ROOT"

: "${CARGO_TARGET_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/art-factory/target}"
export CARGO_TARGET_DIR

# Versions the project pins (wasm-bindgen-cli must match the wasm-bindgen crate exactly).
CARGO_LEPTOS_VERSION="0.3.10"
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"$/\1/p' Cargo.toml)"
export CARGO_LEPTOS_VERSION WASM_BINDGEN_VERSION

# The build environments of cargo-leptos 0.3.10 (see `cargo leptos build -vv`). leptos reads
# some of these at compile time, so a cargo command that shares cargo-leptos's artifacts must
# run with the same values, or each rebuilds leptos and everything above it for the other.
leptos_release_env() {
  export LEPTOS_OUTPUT_NAME=art-factory LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=frontend \
    LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=true LEPTOS_HASH_FILE_NAME=hash.txt
  unset RUSTFLAGS
}

leptos_debug_env() {
  leptos_release_env
  export LEPTOS_JS_MINIFY=false RUSTFLAGS="--cfg erase_components"
}

# The release site as scripts/run and scripts/test serve it: content-hashed file names, each
# precompressed (brotli and gzip) at build time, and the names' table (hash.txt) in the site
# itself, so the site directory is all the server needs beside its binary.
build_release_site() {
  cargo leptos build --release --precompress
  cp "$CARGO_TARGET_DIR/release/hash.txt" "$ROOT/target/site/hash.txt"
}

# Each change of this project's crates leaves their old builds in the target directory (a
# few GB a day on this machine); those not touched for two days are deleted. Cargo rebuilds one
# it still needs. Dependencies' builds are left alone.
prune_stale_builds() {
  local deps="$CARGO_TARGET_DIR/debug/deps"
  [ -d "$deps" ] || return 0
  find "$deps" -maxdepth 1 -type f -mmin +2880 \( -name 'libapp-*' -o -name 'app-*' -o -name 'it-*' \
    -o -name 'art_factory-*' -o -name 'libfactory-*' -o -name 'factory-*' -o -name 'libserver-*' \
    -o -name 'server-*' -o -name 'standins-*' -o -name 'libfrontend-*' \) -delete
  [ -d "$CARGO_TARGET_DIR/debug/incremental" ] &&
    find "$CARGO_TARGET_DIR/debug/incremental" -mindepth 1 -maxdepth 1 -type d -mmin +2880 \
      -exec rm -rf {} +
  return 0
}

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
now() { date +%s; }
