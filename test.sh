#!/usr/bin/env bash
# Install everything the tests need (.venv, pinned packages, Debian Chromium) and run the whole suite:
# lint, unit, property, CLI, AppTest and headless-Chromium end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh dev
./scripts/install-chromium.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -n 2 "$@"
