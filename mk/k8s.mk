# Kubernetes delivery targets; the root Makefile includes this file (`include mk/k8s.mk`).
# See docs/kubernetes.md for the whole path from an empty machine to http://kitchen.local.

K8S_TOOLS := $(CURDIR)/.tools/bin
HELM := $(K8S_TOOLS)/helm
# kind from PATH, else the pinned one scripts/install-kind.sh builds into .tools/bin.
KIND := $(or $(shell command -v kind 2>/dev/null),$(K8S_TOOLS)/kind)
KIND_CLUSTER ?= brigade
K8S_NAMESPACE ?= brigade
BRIGADE_CHART := infra/helm/brigade
POSTGRES_CHART := infra/helm/brigade-postgres

.PHONY: helm control-plane kind k8s-lint k8s-prepare kind-up kind-down dev test-cluster test-images

## helm: install the pinned Helm into .tools/bin (built with Go; skipped when already there)
helm:
	@bash scripts/install-helm.sh

## control-plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok
## (pinned, built from source once per version into $$BRIGADE_TOOLS_CACHE, default
## ~/.cache/brigade/tools, linked into .tools/bin) and the CloudNativePG CRDs: tests/cluster runs them
control-plane:
	@bash scripts/install-control-plane.sh

## k8s-lint: helm lint + helm template of both charts, default and production values
k8s-lint: helm
	$(HELM) lint --strict $(BRIGADE_CHART)
	$(HELM) lint --strict $(BRIGADE_CHART) -f infra/helm/values/brigade-prod.yaml
	$(HELM) lint --strict $(POSTGRES_CHART)
	$(HELM) lint --strict $(POSTGRES_CHART) -f infra/helm/values/brigade-postgres-prod.yaml
	$(HELM) template brigade $(BRIGADE_CHART) -n $(K8S_NAMESPACE) >/dev/null
	$(HELM) template brigade $(BRIGADE_CHART) -n $(K8S_NAMESPACE) -f infra/helm/values/brigade-prod.yaml >/dev/null
	$(HELM) template brigade-postgres $(POSTGRES_CHART) -n $(K8S_NAMESPACE) >/dev/null
	@echo "charts lint and render cleanly"

## k8s-prepare: the namespace in the current kube context (Skaffold runs it too)
k8s-prepare:
	bash infra/k8s/prepare.sh

## kind: the pinned kind in .tools/bin when none is on PATH (built with Go)
kind:
	@if [ "$(KIND)" = "$(K8S_TOOLS)/kind" ]; then bash scripts/install-kind.sh; fi

## kind-up: create the kind cluster (ports 80/443 of this machine go to its ingress)
kind-up: kind
	@if ! docker info >/dev/null 2>&1 && ! podman info >/dev/null 2>&1; then \
		echo "kind needs a running container engine: start Docker (or Podman, with" \
			"KIND_EXPERIMENTAL_PROVIDER=podman); \`docker info\` must answer" >&2; \
		exit 1; \
	fi
	@if $(KIND) get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)'; then \
		echo "kind cluster $(KIND_CLUSTER) already exists"; \
	else \
		$(KIND) create cluster --name $(KIND_CLUSTER) --config infra/k8s/kind.yaml; \
	fi

## kind-down: delete the kind cluster and everything in it
kind-down: kind
	$(KIND) delete cluster --name $(KIND_CLUSTER)

## dev: build, deploy and watch on kind (skaffold dev -p kind); Skaffold runs the pinned helm
dev: export PATH := $(K8S_TOOLS):$(PATH)
dev: helm
	@command -v skaffold >/dev/null || { echo "skaffold not found: install v2 (https://skaffold.dev/docs/install/)" >&2; exit 1; }
	skaffold dev -p kind

## test-cluster: tests/cluster against the current kube context, the order journey included
## (`make test` runs the rest of it on a local control plane)
test-cluster: helm control-plane
	BRIGADE_KUBE=current uv run pytest tests/cluster -p no:cacheprovider

## test-images: build every image with Docker or Podman and run the rendered chart on them, no cluster
## needed (not part of `make test`; BRIGADE_IMAGE_BUILD_ARGS, tests/images/standin-bases.sh offline)
test-images: helm
	uv run --frozen pytest tests/images -p no:cacheprovider -v
