#!/usr/bin/env bash
# Install (into .venv) and start MAS Screen on http://localhost:8501 (serve.py: app.py behind the security headers)
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
./scripts/install-chromium.sh || echo "note: Chromium not installed; the PDF export will omit the figure" >&2
exec .venv/bin/streamlit run serve.py --server.address "${MAS_SCREEN_ADDRESS:-127.0.0.1}" --server.port "${MAS_SCREEN_PORT:-8501}" "$@"
