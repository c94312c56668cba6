#!/usr/bin/env bash
# A real Kubernetes 1.20.2 control plane (etcd + kube-apiserver + kube-controller-manager) plus the
# nodesim node simulator, for chartup's end-to-end tests. See docs/test-cluster.md.
#
# Usage: scripts/test-cluster.sh up|down|env|status|build [RUN_DIR]
#   build   install packages and build the Kubernetes binaries into the cache (no cluster)
#   up      build if needed, start (or reuse) the cluster, wait until ready, print env lines
#   env     print the env lines of a running cluster (eval "$(scripts/test-cluster.sh env)")
#   status  say whether it is running and healthy (exit 0 if so)
#   down    stop every process of the cluster (its data dir is kept; `down --purge` removes it)
#
# Why built from source: no container runtime, kind, k3s or envtest binary is reachable here, but
# Debian ships Kubernetes 1.20.2's full source (with vendor/) as a source package, and Debian's Go
# builds it. The build products go to a cache OUTSIDE the checkout, keyed by version, so later runs
# and CI on the same machine skip the ~10 minute build.
#
# Environment: CHARTUP_CACHE (default ~/.cache/chartup), CHARTUP_CLUSTER_DIR (run dir, default
# $CHARTUP_CACHE/run/default; also the optional 2nd argument), CHARTUP_NODESIM (a prebuilt nodesim
# binary; default: cargo builds crates/nodesim in this checkout).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
K8S_VERSION=1.20.2
CACHE=${CHARTUP_CACHE:-$HOME/.cache/chartup}
K8S_DIR=$CACHE/k8s-v$K8S_VERSION
BIN=$K8S_DIR/bin
cmd=${1:-}
[ $# -gt 0 ] && shift
purge=false
if [ "${1:-}" = "--purge" ]; then purge=true; shift; fi
RUN=${1:-${CHARTUP_CLUSTER_DIR:-$CACHE/run/default}}
mkdir -p "$CACHE"

log() { echo "test-cluster: $*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- packages ------------------------------------------------------------------------------------
ensure_packages() {
  local need=()
  command -v go >/dev/null || need+=(golang-go)
  command -v etcd >/dev/null || need+=(etcd-server)
  command -v rsync >/dev/null || need+=(rsync)
  command -v jq >/dev/null || need+=(jq)
  command -v curl >/dev/null || need+=(curl)
  command -v openssl >/dev/null || need+=(openssl)
  command -v dpkg-source >/dev/null || need+=(dpkg-dev)
  command -v make >/dev/null || need+=(make)
  [ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ] || need+=(golang-github-modern-go-reflect2-dev)
  local src=/etc/apt/sources.list.d/chartup-src.sources
  if ! grep -rqsE '^(deb-src|Types: *deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding a deb-src line for bookworm main ($src)"
    as_root tee "$src" >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    as_root apt-get update -qq
  elif [ ${#need[@]} -gt 0 ]; then
    as_root apt-get update -qq
  fi
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
  fi
}

# --- build ---------------------------------------------------------------------------------------
have_binaries() { [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ]; }

build() {
  have_binaries && return 0
  ensure_packages
  # One build at a time: a concurrent `up` waits here, then finds the binaries.
  exec 8>"$CACHE/k8s-v$K8S_VERSION.lock"
  flock 8
  if have_binaries; then exec 8>&-; return 0; fi
  local start=$SECONDS work=$K8S_DIR/build
  log "building kube-apiserver and kube-controller-manager $K8S_VERSION (cold build, ~10+ min)"
  rm -rf "$work"
  mkdir -p "$work/dl"
  (cd "$work/dl" && apt-get source --download-only kubernetes >&2)
  local dsc
  dsc=$(ls "$work"/dl/kubernetes_*.dsc)
  case "$dsc" in *really$K8S_VERSION*|*_$K8S_VERSION-*) ;; *) die "unexpected source version: $dsc" ;; esac
  dpkg-source -x "$dsc" "$work/src" >&2
  # The vendored reflect2 1.0.1 crashes the apiserver under Go >= 1.18; Debian's 1.0.2 does not.
  rm -rf "$work/src/vendor/github.com/modern-go/reflect2"
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$work/src/vendor/github.com/modern-go/reflect2"
  rm -f "$work/src/vendor/github.com/modern-go/reflect2/go.mod"
  mkdir -p "$work/gopath/src/k8s.io"
  ln -sfn "$work/src" "$work/gopath/src/k8s.io/kubernetes"
  (
    cd "$work/gopath/src/k8s.io/kubernetes"
    export GOPATH=$work/gopath GO111MODULE=off GOFLAGS= GOCACHE=$K8S_DIR/gocache
    make WHAT=cmd/kube-apiserver >&2
    make WHAT=cmd/kube-controller-manager >&2
  )
  mkdir -p "$BIN.tmp"
  cp "$work"/src/_output/local/bin/linux/*/kube-apiserver "$work"/src/_output/local/bin/linux/*/kube-controller-manager "$BIN.tmp/"
  rm -rf "$BIN"
  mv "$BIN.tmp" "$BIN"
  # The tree and Go's cache are ~GBs; keep only the binaries.
  rm -rf "$work" "$K8S_DIR/gocache"
  log "built in $((SECONDS - start))s: $BIN"
  exec 8>&-
}

case "$cmd" in
  build) build ;;
  *) echo "usage: $0 up|down|env|status|build [RUN_DIR]" >&2; exit 2 ;;
esac
