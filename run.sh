#!/usr/bin/env bash
# Install (into .venv) and start MAS Screen on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
./scripts/install-chromium.sh || echo "note: Chromium not installed; the PDF export will omit the figure" >&2
exec .venv/bin/streamlit run app.py --server.address "${MAS_SCREEN_ADDRESS:-127.0.0.1}" --server.port "${MAS_SCREEN_PORT:-8501}" "$@"
