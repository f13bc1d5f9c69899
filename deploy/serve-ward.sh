#!/usr/bin/env bash
# Serve MAS Screen to a ward: several Streamlit server processes behind nginx with sticky sessions,
# health checks and security headers. Installs what it needs (.venv, nginx) and runs until stopped.
#
#   deploy/serve-ward.sh                         # one worker per core, http://0.0.0.0:8500
#   MAS_WARD_WORKERS=4 MAS_WARD_PORT=80 deploy/serve-ward.sh
#
# See docs/deployment.md (sizing, scaling out, TLS in front).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./deploy/install-nginx.sh
exec .venv/bin/python deploy/ward.py "$@"
