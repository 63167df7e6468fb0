#!/usr/bin/env bash
# Train the model only when its inputs changed; print the model's path.
# The model is named after a hash of everything that shapes it (config, domain,
# training data, our custom NLU components and the accent folding they use), so an unchanged project never retrains.
set -euo pipefail
cd "$(dirname "$0")/../.."

inputs() {
  printf '%s\n' config.yml domain.yml common/text.py
  find data/nlu data/rules data/stories bot/nlu -type f 2>/dev/null \( -name '*.yml' -o -name '*.yaml' -o -name '*.py' \) | LC_ALL=C sort
}
fingerprint=$(inputs | xargs sha256sum | sha256sum | cut -c1-16)
model="models/urbact-$fingerprint.tar.gz"

if [ "${1:-}" = "--path" ]; then
  echo "$model"
  exit 0
fi
if [ -f "$model" ]; then
  echo "Model up to date: $model" >&2
else
  echo "Training $model (inputs changed)" >&2
  start=$(date +%s)
  .venv-rasa/bin/rasa train --config config.yml --domain domain.yml \
    --data data/nlu data/rules data/stories --out models \
    --fixed-model-name "urbact-$fingerprint" >&2
  echo "Training took $(( $(date +%s) - start )) s" >&2
  # keep the three newest models
  ls -t models/urbact-*.tar.gz 2>/dev/null | tail -n +4 | xargs -r rm -f
fi
echo "$model"
