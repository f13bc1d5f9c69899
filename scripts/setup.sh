#!/usr/bin/env bash
# Create or reuse .venv and install the pinned requirements (runtime, or dev with "dev").
# Re-installs only when the requirement files change.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
REQ=requirements.txt
[ "${1:-}" = "dev" ] && REQ=requirements-dev.txt
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv --copies .venv  # a real interpreter file: tools that resolve symlinks keep the venv
fi
stamp=".venv/.installed-$(cat requirements.txt "$REQ" | sha256sum | cut -c1-16)-$(basename "$REQ" .txt)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQ" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
  .venv/bin/python -c "import streamlit, pydantic, yaml" # fail loudly if the install did not work
  touch "$stamp"
fi
