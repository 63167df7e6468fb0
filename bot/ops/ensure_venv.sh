#!/usr/bin/env bash
# Create or update a virtualenv from a lock file, idempotently.
# Usage: bot/ops/ensure_venv.sh VENV_DIR LOCK_FILE
set -euo pipefail
venv=$1
lock=$2

find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" python3.10 "$(pyenv root 2>/dev/null)"/versions/3.10.*/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if [ ! -x "$venv/bin/python" ]; then
  if ! python=$(find_python310); then
    cat >&2 <<'MSG'
Python 3.10 est introuvable (Rasa 3.6 ne s'installe pas sur 3.11 ou plus).
Installez-le, puis relancez la commande :
  - avec pyenv :   pyenv install 3.10      (le fichier .python-version du dépôt le sélectionne)
  - sous Debian :  apt-get install python3.10 python3.10-venv
  - ou indiquez son chemin : make install PYTHON310=/chemin/vers/python3.10
MSG
    exit 1
  fi
  echo "Creating $venv with $python"
  "$python" -m venv "$venv"
fi

# Reinstall only when the lock file changed since the last successful install.
stamp="$venv/.installed-$(sha256sum "$lock" | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
echo "Installing $lock into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock"
rm -f "$venv"/.installed-*
touch "$stamp"
