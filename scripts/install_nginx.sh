#!/usr/bin/env bash
# Debian's nginx (the load balancer of scripts/serve_cluster.sh), installed once when it is missing;
# tests/e2e/test_nginx_limits.py uses it too. apt must not start the system nginx service on port
# 80: only our own instances run.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then exit 0; fi
echo "Installing Debian's nginx (the load balancer)..."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
# Keep apt from starting the system nginx service on port 80: only our own instance runs.
added_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d; added_policy=1
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null \
  || { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; }
if [ -n "$added_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
