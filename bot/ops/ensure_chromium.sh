#!/usr/bin/env bash
# The website tests drive Debian's Chromium; install it (as root) when it is missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Chromium manque : lancez 'sudo apt-get install chromium chromium-driver'." >&2
  exit 1
fi
echo "Installing Debian's chromium and chromium-driver"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
