#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks run for real, when missing from PATH:
#   redis-server   the cache tests and benchmarks start their own on a free port
#   wrk            the HTTP benchmark's load generator (autocannon is the fallback without it)
#   libgomp1       OpenMP, which LightGBM's wheel links against (the training pipeline's v2 model)
#   chromium       headless browser for the page tests (the drift report), driven by playwright-core
#   prometheus     the server and promtool: alert rules checked and unit-tested, queries run for real
#   openssl        makes the certificate the TLS tests serve
#   mmdebstrap, umoci, skopeo   build the container image (scripts/image.sh) with no engine
#   runc, podman   run that image in the tests (podman only with runc: crun fails on hybrid cgroups)
# Idempotent. It never starts or enables a service.
set -euo pipefail

declare -A COMMAND_OF=([redis-server]=redis-server [wrk]=wrk [chromium]=chromium [prometheus]=promtool [openssl]=openssl
  [mmdebstrap]=mmdebstrap [umoci]=umoci [skopeo]=skopeo [runc]=runc [podman]=podman)
declare -A LIBRARY_OF=([libgomp1]=libgomp.so.1)
has_library() { ldconfig -p 2>/dev/null | grep -q "$1"; }
missing=()
for pkg in "${!COMMAND_OF[@]}"; do
  command -v "${COMMAND_OF[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
done
for pkg in "${!LIBRARY_OF[@]}"; do
  has_library "${LIBRARY_OF[$pkg]}" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-debian-packages: $(redis-server --version | head -n1); wrk, libgomp, chromium, promtool, openssl, image tools present"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-debian-packages: missing ${missing[*]} and this is not root (no sudo); install them with apt-get" >&2
    exit 1
  fi
fi

# The redis-server package's post-install tries to start the service; where there is no init system
# (containers) policy-rc.d keeps it from doing so. Only added (and removed) when none is there.
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
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

for pkg in "${missing[@]}"; do
  if [ -n "${COMMAND_OF[$pkg]:-}" ]; then
    command -v "${COMMAND_OF[$pkg]}" >/dev/null 2>&1 || { echo "install-debian-packages: $pkg still not on PATH after install" >&2; exit 1; }
  else
    has_library "${LIBRARY_OF[$pkg]}" || { echo "install-debian-packages: $pkg's ${LIBRARY_OF[$pkg]} still missing after install" >&2; exit 1; }
  fi
done
echo "install-debian-packages: installed ${missing[*]}"
