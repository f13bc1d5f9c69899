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
# Compile the package's bytecode once, as pip does for an installed package: a process that starts
# (the batch command, the app, a job worker) then reads it instead of compiling ~50 modules from
# source each time (~0.1 s per start on this machine; PYTHONDONTWRITEBYTECODE stops Python writing
# it on its own). Out-of-date files are recompiled here and, if sources change later, ignored.
.venv/bin/python -m compileall -q -j 0 mas_screen app.py serve.py >/dev/null
# The validated criteria, saved for these exact files and this code (mas_screen/criteria/snapshot.py):
# a start then loads them instead of validating every data file again (~0.07 s per process).
.venv/bin/python -c "from mas_screen.criteria.loading import save_criteria_snapshot; save_criteria_snapshot()"
