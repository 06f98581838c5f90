#!/usr/bin/env bash
# Build a pinned Kubernetes control plane from source and link it into .tools/bin:
#   etcd (ETCD_VERSION), kube-apiserver, kube-controller-manager, kube-scheduler and kubectl
#   (K8S_VERSION), and kwok (KWOK_VERSION), which simulates nodes and pods for it; and the
#   CloudNativePG CRDs (CNPG_VERSION) into .tools/crds/cnpg.
# tests/cluster starts them on loopback (brigade_common.testing.controlplane); nothing here runs them.
#
# Why from source: the Go module proxy is reachable where release downloads and image registries
# are not. The binaries are built once per version into a cache outside the checkout,
#   ${BRIGADE_TOOLS_CACHE:-$HOME/.cache/brigade/tools}/<tool>-<version>/
# so that a fresh clone (CI) links them in seconds; the Go module and build caches are the default
# ones. A cold build takes 7-13 minutes on 2 cores (4.5 GB of Go caches, 2 GB of memory at peak);
# a warm run only links, in well under a second.
#
# The recipes, because neither module builds with a plain `go install`:
# - etcd: the server module's go.mod replaces its sibling modules by relative paths (../api ...);
#   with the replace lines dropped they resolve to the same published version.
# - Kubernetes: k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them by
#   ./staging/src/..., which the module zip does not carry. The requirements are set to the
#   published v0.<minor>.<patch>, the replace block, go.work and vendor/ dropped, and the build
#   runs with -mod=mod; the version the binaries report is set with -ldflags -X, as hack/lib does.
# - kwok: `go install` works as is.
set -euo pipefail

ETCD_VERSION="${ETCD_VERSION:-v3.6.5}"
K8S_VERSION="${K8S_VERSION:-v1.34.1}"
KWOK_VERSION="${KWOK_VERSION:-v0.7.0}"
# The CloudNativePG operator of the cloudnative-pg chart skaffold.yaml pins (0.28.3, appVersion
# 1.29.1): its CRDs (config/crd/bases of its Go module) are what the tests validate our Cluster
# and Database objects against.
CNPG_VERSION="${CNPG_VERSION:-v1.29.1}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.tools/bin"
cache="${BRIGADE_TOOLS_CACHE:-$HOME/.cache/brigade/tools}"
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false"

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "error: Go is needed to build the control plane (https://go.dev/dl/)" >&2
    exit 1
  fi
}

# A module's source, downloaded by the Go module proxy, copied somewhere writable.
module_source() { # module version dest
  local dir
  dir="$(go mod download -json "$1@$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$dir" ]] || { echo "error: go mod download $1@$2 gave no directory" >&2; exit 1; }
  cp -r "$dir/." "$3"
  chmod -R u+w "$3"
}

# Drop every replace directive of the go.mod in the current directory.
drop_replaces() {
  local old
  for old in $(go mod edit -json | python3 -c 'import json,sys; print(" ".join(r["Old"]["Path"] for r in json.load(sys.stdin).get("Replace") or []))'); do
    go mod edit -dropreplace="$old"
  done
}

build_etcd() { # dest
  local src="$1.src"
  module_source go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$src"
  (
    cd "$src"
    drop_replaces
    go build -mod=mod -trimpath -o "$1/etcd" \
      -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" .
  )
  rm -rf "$src"
}

build_kubernetes() { # dest
  local src="$1.src" staging minor
  staging="v0.${K8S_VERSION#v1.}"
  minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  module_source k8s.io/kubernetes "$K8S_VERSION" "$src"
  (
    cd "$src"
    rm -rf go.work go.work.sum vendor
    drop_replaces
    for mod in $(go mod edit -json | python3 -c 'import json,sys; print(" ".join(r["Path"] for r in json.load(sys.stdin)["Require"] if r["Path"].startswith("k8s.io/") and r["Version"] == "v0.0.0"))'); do
      go mod edit -require="$mod@$staging"
    done
    local ldflags="-s -w" pkg
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    local targets=()
    for b in "${K8S_BINARIES[@]}"; do targets+=("./cmd/$b"); done
    go build -mod=mod -trimpath -ldflags "$ldflags" -o "$1/" "${targets[@]}"
  )
  rm -rf "$src"
}

build_kwok() { # dest
  GOBIN="$1" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

build_cnpg_crds() { # dest
  local dir
  dir="$(go mod download -json "github.com/cloudnative-pg/cloudnative-pg@$CNPG_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  cp "$dir"/config/crd/bases/*.yaml "$1/"
}

# Build <name>-<version> into the cache unless it is there (complete: it is renamed into place only
# once built), one build at a time per tool even across checkouts.
ensure() { # name version builder binaries...
  local name="$1" version="$2" builder="$3"
  shift 3
  local dest="$cache/$name-$version"
  mkdir -p "$cache"
  if [[ ! -d "$dest" ]]; then
    exec 9>"$cache/.$name-$version.lock"
    flock 9
    if [[ ! -d "$dest" ]]; then
      need_go
      local tmp="$dest.tmp.$$" start=$SECONDS
      rm -rf "$tmp" "$tmp.src"
      mkdir -p "$tmp"
      echo "building $name $version with $(go version) into $dest (once per version)"
      "$builder" "$tmp"
      mv "$tmp" "$dest"
      echo "built $name $version in $((SECONDS - start)) s"
    fi
    exec 9>&-
  fi
  mkdir -p "$bin_dir"
  local b
  if [[ "$1" == --dir=* ]]; then # link the whole folder there instead of binaries
    mkdir -p "$(dirname "${1#--dir=}")"
    ln -sfn "$dest" "${1#--dir=}"
    return
  fi
  for b in "$@"; do
    [[ -x "$dest/$b" ]] || { echo "error: $dest/$b is missing: remove $dest and rerun" >&2; exit 1; }
    ln -sfn "$dest/$b" "$bin_dir/$b"
  done
}

ensure etcd "$ETCD_VERSION" build_etcd etcd
ensure kubernetes "$K8S_VERSION" build_kubernetes "${K8S_BINARIES[@]}"
ensure kwok "$KWOK_VERSION" build_kwok kwok
ensure cnpg-crds "$CNPG_VERSION" build_cnpg_crds --dir="$root/.tools/crds/cnpg"
echo "control plane: etcd $ETCD_VERSION, Kubernetes $K8S_VERSION, kwok $KWOK_VERSION in $bin_dir;" \
  "CloudNativePG $CNPG_VERSION CRDs in $root/.tools/crds/cnpg"
