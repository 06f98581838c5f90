#!/usr/bin/env bash
# Prepares the cluster for the Helm releases (Skaffold runs it before deploying; `make k8s-prepare`):
# the namespace, with its Pod Security labels (infra/k8s/namespace.yaml).
# No Secret is made here: the auth service keeps its signing keys in its own schema (made at its first
# start), every other service asks it for the public keys over NATS, and the database credentials
# come from the brigade-postgres chart.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Skaffold passes the context it deploys to; plain runs use the current one.
kubectl=(kubectl)
if [[ -n "${SKAFFOLD_KUBE_CONTEXT:-}" ]]; then
  kubectl+=(--context "$SKAFFOLD_KUBE_CONTEXT")
fi

"${kubectl[@]}" apply -f "$root/infra/k8s/namespace.yaml"
