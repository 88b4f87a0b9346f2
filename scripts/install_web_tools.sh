#!/usr/bin/env bash
# Tools the Reflex web app and its browser tests need, installed from package registries only
# (no direct downloads): bun from the npm registry into .tools/web, and Debian's chromium +
# chromium-driver through apt-get when missing. Idempotent and fast when everything is there.
#
#   scripts/install_web_tools.sh            # bun only (enough for `make web`)
#   scripts/install_web_tools.sh --browser  # bun + chromium + chromedriver (browser tests)
#
# Prints nothing on success when nothing had to be installed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="${RECSYS_WEB_TOOLS:-$ROOT/.tools/web}"
BUN_VERSION="${BUN_VERSION:-1.4.5}"
LOCK="$TOOLS.lock"

mkdir -p "$TOOLS"
exec 9>"$LOCK"
flock 9  # parallel test processes / make targets install once

bun_bin="$TOOLS/node_modules/.bin/bun"
if [ ! -x "$bun_bin" ] || ! "$bun_bin" --version >/dev/null 2>&1; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "install_web_tools: npm not found; installing Debian's nodejs + npm" >&2
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    fi
  fi
  echo "install_web_tools: npm install bun@$BUN_VERSION into $TOOLS" >&2
  [ -f "$TOOLS/package.json" ] || echo '{"name":"recsys-web-tools","private":true}' > "$TOOLS/package.json"
  (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION" >&2)
  "$bun_bin" --version >/dev/null
fi

if [ "${1:-}" = "--browser" ]; then
  need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
  if [ "${#need[@]}" -gt 0 ]; then
    echo "install_web_tools: apt-get install ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${need[@]}" fonts-dejavu-core >/dev/null
  fi
fi
