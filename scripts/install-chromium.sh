#!/usr/bin/env bash
# Debian's Chromium for the end-to-end tests and static figure export (kaleido).
# `playwright install` cannot download browsers here; Playwright drives /usr/bin/chromium instead.
set -euo pipefail
if [ -x /usr/bin/chromium ] && command -v pdftotext >/dev/null; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium fonts-dejavu-core poppler-utils >/dev/null
