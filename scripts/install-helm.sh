#!/usr/bin/env bash
# Install a pinned Helm v3 into .tools/bin/helm, built from source with `go install`.
#
# Why from source: this project's machines reach the Go module proxy but not get.helm.sh, so the
# release tarball is out of reach. The ldflags mirror Helm's own release Makefile so that
# `helm version` reports the real version and `helm template` assumes the Kubernetes version of the
# client-go Helm was built with (a plain `go install` would assume Kubernetes 1.20).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.21.4}"
# Kubernetes minor of the client-go that HELM_VERSION pins in its go.mod (k8s.io/client-go v0.36.x).
K8S_MAJOR=1
K8S_MINOR=36

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.tools/bin"
helm_bin="$bin_dir/helm"

if [[ -x "$helm_bin" ]]; then
  have="$("$helm_bin" version --template '{{.Version}}' 2>/dev/null || true)"
  if [[ "$have" == "$HELM_VERSION" ]]; then
    echo "helm $HELM_VERSION already at $helm_bin"
    exit 0
  fi
  echo "replacing helm ${have:-unknown} at $helm_bin with $HELM_VERSION"
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is needed to build helm (https://go.dev/dl/), or put helm $HELM_VERSION on PATH" >&2
  exit 1
fi

mkdir -p "$bin_dir"
ldflags="-w -s"
ldflags+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X $pkg.k8sVersionMajor=$K8S_MAJOR -X $pkg.k8sVersionMinor=$K8S_MINOR"
done

echo "building helm $HELM_VERSION with $(go version) (a few minutes the first time)"
# GOTOOLCHAIN=auto lets an older local Go fetch the toolchain Helm's go.mod asks for, from the proxy.
GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" GOBIN="$bin_dir" CGO_ENABLED=0 \
  go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"

"$helm_bin" version --short
