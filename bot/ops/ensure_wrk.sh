#!/usr/bin/env bash
# The scale benchmark (bot/ops/bench_scale.py) drives its load with Debian's wrk, a load
# generator in C that costs little CPU; install it (as root) when it is missing.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "wrk manque : lancez 'sudo apt-get install wrk'." >&2
  exit 1
fi
echo "Installing Debian's wrk"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
