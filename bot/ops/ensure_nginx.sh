#!/usr/bin/env bash
# make run-production and the scale-out tests put Debian's nginx in front of the Rasa
# instances (bot/ops/topology.py runs it as a child, with its own config: no service needed).
# Install it (as root) when it is missing; the package's own service is not started.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "nginx manque : lancez 'sudo apt-get install nginx'." >&2
  exit 1
fi
echo "Installing Debian's nginx"
apt-get update -qq
# RUNLEVEL=1: invoke-rc.d does not start the package's service (we run our own nginx).
RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
