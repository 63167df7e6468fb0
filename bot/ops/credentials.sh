#!/usr/bin/env bash
# Print the credentials file to use: credentials.yml, minus the channels whose
# secrets are not set in the environment (each skipped channel is reported).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv-rasa/bin/python -m bot.ops.credentials
