#!/usr/bin/env bash
# What the browser end-to-end tests (tests/e2e) need beyond Python packages: Debian's Chromium,
# driven by Playwright through its executable path (no browser download), and fonts that render
# Hebrew (DejaVu covers Hebrew and Latin; Culmus adds the common Hebrew faces).
# Installed with apt when /usr/bin/chromium is missing; a no-op otherwise.
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
    echo "Chromium not found: installing Debian's chromium and Hebrew fonts for the browser tests" >&2
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-dejavu-core culmus
fi
