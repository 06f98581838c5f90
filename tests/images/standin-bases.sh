#!/usr/bin/env bash
# Stand-ins for the two public base images (python:3.11-slim, node:22-slim) on a machine that cannot
# reach Docker Hub but can reach a Debian mirror: a minimal Debian bookworm made by debootstrap, with
# Debian's Python 3.11 (and pip, at /usr/local/bin like the official image) or with this machine's
# Node.js, imported into the local engine as localhost/python:3.11-slim and localhost/node:22-slim.
# The host's CA bundle goes in too, for machines behind a TLS-inspecting proxy.
#
# They are close enough to build and run Brigade's images, not the official ones: sizes measured on
# them are estimates. Then:
#   export BRIGADE_IMAGE_BUILD_ARGS="--build-arg PYTHON_IMAGE=localhost/python:3.11-slim --build-arg NODE_IMAGE=localhost/node:22-slim"
#   make test-images
#
# Needs root, debootstrap, and podman or docker. Usage: tests/images/standin-bases.sh [engine]
set -euo pipefail

engine="${1:-${BRIGADE_CONTAINER_ENGINE:-podman}}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v debootstrap >/dev/null || { echo "debootstrap not found (apt-get install debootstrap)" >&2; exit 1; }
command -v "$engine" >/dev/null || { echo "$engine not found" >&2; exit 1; }

python_root="$work/python"
debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates \
  bookworm "$python_root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
mkdir -p "$python_root/usr/local/bin"
ln -sf /usr/bin/python3.11 "$python_root/usr/local/bin/python3"
ln -sf /usr/bin/python3.11 "$python_root/usr/local/bin/python"
ln -sf /usr/bin/pip3 "$python_root/usr/local/bin/pip"
rm -f "$python_root/usr/lib/python3.11/EXTERNALLY-MANAGED"  # the official image's pip installs freely
rm -rf "$python_root/var/cache/apt/"* "$python_root/var/lib/apt/lists/"*
cp /etc/ssl/certs/ca-certificates.crt "$python_root/etc/ssl/certs/ca-certificates.crt"

node_root="$work/node"
cp -a "$python_root" "$node_root"
node_bin="$(readlink -f "$(command -v node)")"
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
cp "$node_bin" "$node_root/usr/bin/node"
mkdir -p "$node_root/usr/lib/node_modules"
cp -a "$npm_dir" "$node_root/usr/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$node_root/usr/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$node_root/usr/bin/npx"

certs=/etc/ssl/certs/ca-certificates.crt
tar -C "$python_root" -c . | "$engine" import \
  --change 'CMD ["python3"]' --change "ENV SSL_CERT_FILE=$certs" --change "ENV PIP_CERT=$certs" \
  - localhost/python:3.11-slim
tar -C "$node_root" -c . | "$engine" import \
  --change 'CMD ["node"]' --change "ENV NODE_EXTRA_CA_CERTS=$certs" \
  - localhost/node:22-slim
if ! "$engine" run --rm localhost/python:3.11-slim true >/dev/null 2>"$work/run.err"; then
  echo "warning: $engine cannot run a container here: $(tail -1 "$work/run.err")" >&2
  echo "  a VM without CAP_SYS_RESOURCE or with hybrid cgroups may need, in /etc/containers/containers.conf:" >&2
  echo '  [containers] default_ulimits = ["nofile=10000:10000", "nproc=10000:10000"]  [engine] runtime = "runc"' >&2
fi
echo "built localhost/python:3.11-slim and localhost/node:22-slim (stand-ins; node is $("$node_bin" --version))"
