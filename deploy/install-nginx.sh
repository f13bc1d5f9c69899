#!/usr/bin/env bash
# Install nginx from the Debian packages (for deploy/serve-ward.sh); a no-op when it is there.
# The package's own service is not needed: serve-ward.sh runs nginx with its own configuration.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends nginx >/dev/null
echo "installed $(/usr/sbin/nginx -v 2>&1)"
