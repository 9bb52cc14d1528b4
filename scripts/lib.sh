# Shared by scripts/dev, scripts/test and scripts/bench: installs what is missing (quickly
# skipping what is there), provisions PostgreSQL, and fixes the build environment so every
# script and CI reuse one target directory without rebuilding the world.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CARGO_LEPTOS_VERSION=0.3.10
SQLX_CLI_VERSION=0.8.6
# wasm-bindgen's CLI must match the crate exactly; read it from the lock file.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)"

export PATH="$HOME/.cargo/bin:$PATH"
# One target directory for every clone on this machine (CI runs in a fresh clone).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/unified-portal/target}"
# Queries are checked against the committed .sqlx data, not whatever database is at hand.
export SQLX_OFFLINE=true
# cargo-leptos passes these to the server build; plain cargo must see the same values or
# leptos_config (and everything above it) is rebuilt.
export LEPTOS_OUTPUT_NAME=unified-portal
export LEPTOS_SITE_ROOT="$ROOT/target/site"
export LEPTOS_SITE_PKG_DIR=pkg
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export LEPTOS_RELOAD_PORT=3001
# cargo install builds release binaries; these settings make the one-time installs faster.
INSTALL_ENV=(env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16)
# cargo-leptos and sqlx-cli mostly wait on cargo, so an unoptimised build serves as well and
# compiles in a fraction of the time (cargo-leptos: 8 min instead of ~20 on 2 cores).
DEBUG_INSTALL=(env CARGO_PROFILE_DEV_DEBUG=0 cargo install --debug)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

apt_install() {
  command -v apt-get >/dev/null || die "cannot install $*: no apt-get on this machine"
  log "installing $* (apt)"
  if [ ! -f /var/lib/apt/periodic/.up-updated ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then
    apt-get update -qq >/dev/null
    mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/.up-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_rust_tools() {
  command -v cargo >/dev/null || die "cargo is missing: this machine needs the Rust toolchain (rustup)"
  if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (one time, ~8 min)"
    "${DEBUG_INSTALL[@]}" --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION"
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (one time, ~6 min)"
    "${INSTALL_ENV[@]}" cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
}

ensure_sqlx_cli() {
  if ! cargo sqlx --version 2>/dev/null | grep -q "$SQLX_CLI_VERSION"; then
    log "installing sqlx-cli $SQLX_CLI_VERSION (one time)"
    "${DEBUG_INSTALL[@]}" sqlx-cli --version "$SQLX_CLI_VERSION" --no-default-features --features postgres,rustls --locked
  fi
}

ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
  command -v npm >/dev/null || apt_install nodejs npm
  # npm ci only when the lock file changed since the last install.
  local stamp=end2end/node_modules/.installed-lock
  if [ ! -f "$stamp" ] || ! cmp -s end2end/package-lock.json "$stamp"; then
    log "installing the end-to-end test dependencies (npm)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    cp end2end/package-lock.json "$stamp"
  fi
}

# Sets SERVER_URL to a PostgreSQL server URL without a database name: DATABASE_URL's
# server when it is set, else the local server, started or installed as needed.
ensure_postgres() {
  command -v psql >/dev/null || apt_install postgresql-client
  if [ -n "${DATABASE_URL:-}" ]; then
    SERVER_URL="$(db_server_of "$DATABASE_URL")"
    return
  fi
  SERVER_URL="postgres://postgres@127.0.0.1:5432"
  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
    return
  fi
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql
  fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  if [ -z "$(ls /etc/postgresql/"$version" 2>/dev/null)" ]; then
    pg_createcluster "$version" main >/dev/null
  fi
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  # Local tools connect as postgres over TCP without a password, as on the CI machines.
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return
    sleep 1
  done
  die "PostgreSQL did not start on 127.0.0.1:5432"
}

# postgres://u@h:5432/db?x=y -> postgres://u@h:5432 (the query is kept aside).
db_server_of() {
  local url="$1" rest
  rest="${url#*://}"
  case "$rest" in
    */*) echo "${url%%://*}://${rest%%/*}" ;;
    *) echo "${url%%\?*}" ;;
  esac
}

db_url() {
  local query=""
  case "${DATABASE_URL:-}" in *\?*) query="?${DATABASE_URL#*\?}" ;; esac
  echo "$SERVER_URL/$1$query"
}

portal_bin() { echo "$CARGO_TARGET_DIR/debug/unified-portal"; }

build_portal() {
  log "building the portal (cargo leptos build)"
  cargo leptos build
}

# Refuses a port something already listens on: a portal started there cannot bind, and
# /healthz would be answered by the other server.
require_free_port() {
  local port="$1" setting="$2"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use by another process; free it or set $setting"
  fi
}

# Waits for a portal to answer /healthz; with a PID, gives up as soon as that process is gone
# (it could not bind, say) rather than taking another server's answer for its own.
wait_healthy() {
  local url="$1" pid="${2:-}"
  for _ in $(seq 1 120); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if curl -fsS "$url/healthz" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}
