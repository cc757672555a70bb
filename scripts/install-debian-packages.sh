#!/usr/bin/env bash
# Installs Debian's redis-server when it is not on PATH, for the gateway's cache tests and
# benchmarks (issue 5). Idempotent. It never starts or enables a service: the tests and the
# benchmark start their own redis-server on a free port and stop it themselves.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "install-redis: $(redis-server --version | head -n1)"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-redis: redis-server is missing and this is not root (no sudo); install the redis-server package" >&2
    exit 1
  fi
fi

# The package's post-install tries to start the service; where there is no init system (containers)
# policy-rc.d keeps it from doing so. Only added (and removed) when none is there already.
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod +x "$POLICY"
  ADDED_POLICY=1
fi
cleanup() { if [ "$ADDED_POLICY" -eq 1 ]; then "${SUDO[@]}" rm -f "$POLICY"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends redis-server

command -v redis-server >/dev/null 2>&1 || { echo "install-redis: redis-server still not on PATH after install" >&2; exit 1; }
echo "install-redis: $(redis-server --version | head -n1)"
