#!/usr/bin/env bash
# Install a pinned kind into .tools/bin/kind, built with `go install` (the Go module proxy is
# reachable where kind's release binaries may not be). Skipped when .tools/bin/kind is that version.
# kind v0.30 creates Kubernetes 1.34 nodes (kindest/node:v1.34.0), the version the charts are
# rendered and validated for in tests/k8s, and its CNI enforces NetworkPolicies (kind >= 0.24).
set -euo pipefail

KIND_VERSION="${KIND_VERSION:-v0.30.0}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.tools/bin"
kind_bin="$bin_dir/kind"

if [[ -x "$kind_bin" ]] && "$kind_bin" version 2>/dev/null | grep -q "kind $KIND_VERSION "; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is needed to build kind (https://go.dev/dl/), or put kind $KIND_VERSION on PATH" >&2
  exit 1
fi
mkdir -p "$bin_dir"
echo "building kind $KIND_VERSION with $(go version)"
GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" GOBIN="$bin_dir" CGO_ENABLED=0 go install "sigs.k8s.io/kind@$KIND_VERSION"
"$kind_bin" version
