#!/usr/bin/env bash
# Make sure a Chromium for the browser tests (tests/browser) is on this machine.
#
# Why Debian's Chromium and not `playwright install`: this project's machines do not reach
# Playwright's browser CDN, and the distribution's package is kept patched by apt anyway. The tests
# launch BRIGADE_CHROMIUM (default /usr/bin/chromium) through Playwright's executable_path.
# Never fails the install: `make up` needs no browser; the browser tests say what is missing.
set -uo pipefail

chromium="${BRIGADE_CHROMIUM:-/usr/bin/chromium}"
hint="the browser tests need Chromium at $chromium: run 'sudo apt-get install -y chromium' (Debian/Ubuntu) or set BRIGADE_CHROMIUM to a Chromium or Chrome binary"

if [[ -x "$chromium" ]]; then
  exit 0
fi
if [[ "$chromium" != /usr/bin/chromium ]]; then
  echo "warning: $hint" >&2
  exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: $hint" >&2
  exit 0
fi

echo "installing Debian's chromium for the browser tests (apt-get, once)"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update only when the first try cannot find it.
if ! apt-get install -y --no-install-recommends chromium >/dev/null; then
  apt-get update -qq && apt-get install -y --no-install-recommends chromium >/dev/null
fi
if [[ -x "$chromium" ]]; then
  "$chromium" --version
else
  echo "warning: apt-get could not install chromium; $hint" >&2
fi
