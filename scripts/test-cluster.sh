#!/usr/bin/env bash
# A real Kubernetes 1.20.2 control plane (etcd + kube-apiserver + kube-controller-manager) plus the
# nodesim node simulator, for chartup's end-to-end tests. See docs/test-cluster.md.
#
# Usage: scripts/test-cluster.sh up|down|env|status|build [RUN_DIR]
#        scripts/test-cluster.sh apiserver stop|start [RUN_DIR]
#   build   install packages and build the Kubernetes binaries into the cache (no cluster)
#   up      build if needed, start (or reuse) the cluster, wait until ready, print env lines
#   env     print the env lines of a running cluster (eval "$(scripts/test-cluster.sh env)")
#   status  say whether it is running and healthy (exit 0 if so)
#   down    stop every process of the cluster (its data dir is kept; `down --purge` removes it)
#   apiserver stop|start   stop or start only the API server (API-outage tests; never on a shared
#           cluster: give your own RUN_DIR). `start` waits for /healthz.
#
# Why built from source: no container runtime, kind, k3s or envtest binary is reachable here, but
# Debian ships Kubernetes 1.20.2's full source (with vendor/) as a source package, and Debian's Go
# builds it. The build products go to a cache OUTSIDE the checkout, keyed by version, so later runs
# and CI on the same machine skip the ~10 minute build.
#
# Environment: CHARTUP_CACHE (default ~/.cache/chartup), CHARTUP_CLUSTER_DIR (run dir, default
# $CHARTUP_CACHE/run/default; also the optional 2nd argument), CHARTUP_NODESIM (a prebuilt nodesim
# binary; default: cargo builds crates/nodesim in this checkout), CHARTUP_APISERVER_ARGS and
# CHARTUP_CONTROLLER_MANAGER_ARGS (extra flags, word-split, appended when `up` starts the process:
# e.g. "--v=3" for the apiserver's request log, or another --kube-api-qps, on your own run dir).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
K8S_VERSION=1.20.2
CACHE=${CHARTUP_CACHE:-$HOME/.cache/chartup}
K8S_DIR=$CACHE/k8s-v$K8S_VERSION
BIN=$K8S_DIR/bin
cmd=${1:-}
[ $# -gt 0 ] && shift
subcmd=
if [ "$cmd" = apiserver ]; then subcmd=${1:-}; [ $# -gt 0 ] && shift; fi
purge=false
if [ "${1:-}" = "--purge" ]; then purge=true; shift; fi
RUN=${1:-${CHARTUP_CLUSTER_DIR:-$CACHE/run/default}}
mkdir -p "$CACHE"

log() { echo "test-cluster: $*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- packages ------------------------------------------------------------------------------------
ensure_packages() { # [build]: also what the build needs
  local need=()
  command -v etcd >/dev/null || need+=(etcd-server)
  command -v jq >/dev/null || need+=(jq)
  command -v curl >/dev/null || need+=(curl)
  command -v openssl >/dev/null || need+=(openssl)
  command -v ss >/dev/null || need+=(iproute2)
  if [ "${1:-}" != build ]; then
    if [ ${#need[@]} -gt 0 ]; then
      as_root apt-get update -qq
      log "installing ${need[*]}"
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
    fi
    return 0
  fi
  command -v go >/dev/null || need+=(golang-go)
  command -v rsync >/dev/null || need+=(rsync)
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
  ensure_packages build
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

# --- run dir, processes --------------------------------------------------------------------------
PROCS=(nodesim controller-manager apiserver etcd)   # stop order
pidfile() { echo "$RUN/pids/$1.pid"; }
alive() { # name: its recorded process is alive and is still the program we started
  local f pid
  f=$(pidfile "$1")
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$RUN"
}

start_proc() { # name, command...
  local name=$1
  shift
  mkdir -p "$RUN/logs" "$RUN/pids"
  # setsid: its own session, so the caller's Ctrl-C or exit doesn't take the cluster down.
  # 8>&- 9>&-: the children must not inherit (and so hold forever) the build and run locks.
  setsid "$@" >>"$RUN/logs/$name.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$(pidfile "$name")"
}

stop_proc() {
  local name=$1 f pid i
  f=$(pidfile "$name")
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if alive "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name ($pid) did not stop in 10s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
pick_port() { # a free loopback port not already chosen in this run
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    case " ${CHOSEN:-} " in *" $p "*) continue ;; esac
    if port_free "$p"; then CHOSEN="${CHOSEN:-} $p"; echo "$p"; return; fi
  done
}

load_state() { [ -f "$RUN/state.env" ] && . "$RUN/state.env"; return 0; }

# The namespace-scoped user: everything in $TENANT_NS (a Role with every verb on every resource
# there, VolumeSnapshots included), nothing cluster-wide (so no VolumeSnapshotClasses or
# VolumeSnapshotContents, which are cluster-scoped), as the tenant of a shared cluster. Tests may
# bind `tenant` (or `nobody`) in their own fresh namespaces the same way.
TENANT_NS=tenant

api_post() { # path, json: create as admin; AlreadyExists is fine
  local code
  code=$(curl -sS --max-time 10 -o "$RUN/.post.out" -w '%{http_code}' --cacert "$RUN/pki/ca.crt" \
    -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -X POST \
    --data "$2" "https://127.0.0.1:$API_PORT$1")
  case "$code" in 200|201|409) return 0 ;; *) log "POST $1: HTTP $code: $(cat "$RUN/.post.out")"; return 1 ;; esac
}

setup_tenant() {
  [ -n "${TENANT_TOKEN:-}" ] || return 0
  api_post /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$TENANT_NS\"}}"
  api_post "/apis/rbac.authorization.k8s.io/v1/namespaces/$TENANT_NS/roles" \
    '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"tenant-all"},
      "rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}]}'
  api_post "/apis/rbac.authorization.k8s.io/v1/namespaces/$TENANT_NS/rolebindings" \
    '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"tenant-all"},
      "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"tenant-all"},
      "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"tenant"}]}'
  kubeconfig tenant "$TENANT_TOKEN" "$RUN/tenant.kubeconfig"
  sed -i "s/namespace: default/namespace: $TENANT_NS/" "$RUN/tenant.kubeconfig"
}

api_post_yaml() { # path, file: create as admin from one YAML document; AlreadyExists is fine
  local code
  code=$(curl -sS --max-time 10 -o "$RUN/.post.out" -w '%{http_code}' --cacert "$RUN/pki/ca.crt" \
    -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/yaml' -X POST \
    --data-binary "@$2" "https://127.0.0.1:$API_PORT$1")
  case "$code" in 200|201|409) return 0 ;; *) log "POST $1 ($2): HTTP $code: $(cat "$RUN/.post.out")"; return 1 ;; esac
}

# --- VolumeSnapshots (issue 15) -----------------------------------------------------------------
# Kubernetes ships no snapshot API: the snapshot.storage.k8s.io/v1 CRDs (crates/nodesim/crds, the
# external-snapshotter v4.2 schema a 1.20 API server accepts) are installed here, and nodesim is
# the snapshot controller and driver of its hostPath volumes (docs/snapshots-testing.md).
SNAP_CRDS=(volumesnapshotclasses volumesnapshotcontents volumesnapshots)
crd_established() {
  api "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$1" |
    jq -e '.status.conditions[]? | select(.type == "Established") | .status == "True"' | grep -q true
}
snapshot_class_exists() { api /apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/hostpath-snapclass; }
# The running nodesim has what this checkout's does (the lines its ready file lists).
nodesim_current() { grep -qx snapshots "$RUN/nodesim.ready" 2>/dev/null && grep -qx lifts "$RUN/nodesim.ready"; }
snapshots_ready() {
  local n
  for n in "${SNAP_CRDS[@]}"; do crd_established "$n.snapshot.storage.k8s.io" || return 1; done
  snapshot_class_exists >/dev/null 2>&1 && nodesim_current
}

install_snapshot_api() { # idempotent: creates what is missing
  local d=$root/crates/nodesim/crds n f tmp
  for n in "${SNAP_CRDS[@]}"; do
    api_post_yaml /apis/apiextensions.k8s.io/v1/customresourcedefinitions "$d/snapshot.storage.k8s.io_$n.yaml"
  done
  for n in "${SNAP_CRDS[@]}"; do
    wait_until 60 "the CRD $n.snapshot.storage.k8s.io to be Established" crd_established "$n.snapshot.storage.k8s.io"
  done
  # One document per POST; right after Established the new REST path may still 404 for a moment.
  tmp=$(mktemp -d)
  awk -v d="$tmp" 'BEGIN { f = d "/0.yaml" } /^---$/ { n++; f = d "/" n ".yaml"; next } { print > f }' \
    "$d/volumesnapshotclasses-nodesim.yaml"
  for f in "$tmp"/*.yaml; do
    wait_until 30 "VolumeSnapshotClass $(grep -m1 '^  name:' "$f")" \
      api_post_yaml /apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses "$f" || { rm -rf "$tmp"; return 1; }
  done
  rm -rf "$tmp"
}

api() { # path: GET it as admin
  curl -sSf --max-time 5 --cacert "$RUN/pki/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" "https://127.0.0.1:$API_PORT$1"
}

wait_until() { # seconds, what, command...: poll the condition until it holds or time runs out
  local secs=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "timed out after ${secs}s waiting for $what; recent logs:"
      for f in "$RUN"/logs/*.log; do echo "== $f" >&2; tail -n 15 "$f" >&2; done
      return 1
    fi
    sleep 0.5
  done
}

node_ready() { api /api/v1/nodes/nodesim | jq -e '.status.conditions[] | select(.type == "Ready") | .status == "True"' | grep -q true; }
default_sa() { api /api/v1/namespaces/default/serviceaccounts/default; }
std_class() { api /apis/storage.k8s.io/v1/storageclasses/standard; }
healthz() { api /healthz | grep -qx ok; }

healthy() {
  local p
  load_state
  [ -n "${API_PORT:-}" ] || { echo "no cluster in $RUN" >&2; return 1; }
  for p in "${PROCS[@]}"; do alive "$p" || { echo "$p is not running" >&2; return 1; }; done
  healthz || { echo "apiserver not healthy" >&2; return 1; }
  node_ready || { echo "node not Ready" >&2; return 1; }
}

gen_pki() {
  local d=$RUN/pki
  [ -f "$d/sa.pub" ] && return 0
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=chartup-test-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc" \
      "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 \
      -extfile apiserver.ext 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

kubeconfig() { # user, token, file
  local ca
  ca=$(base64 -w0 <"$RUN/pki/ca.crt")
  cat >"$3" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: chartup-test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $ca
users:
- name: $1
  user:
    token: $2
contexts:
- name: chartup-test-$1
  context:
    cluster: chartup-test
    user: $1
    namespace: default
current-context: chartup-test-$1
EOF
  chmod 600 "$3"
}

nodesim_bin() {
  if [ -n "${CHARTUP_NODESIM:-}" ]; then echo "$CHARTUP_NODESIM"; return; fi
  (cd "$root" && cargo build -q -p nodesim >&2)
  echo "${CARGO_TARGET_DIR:-$root/target}/debug/nodesim"
}

print_env() {
  echo "export KUBECONFIG=$RUN/admin.kubeconfig"
  echo "export CHARTUP_TEST_CLUSTER_DIR=$RUN"
  echo "export CHARTUP_TEST_KUBECONFIG=$RUN/admin.kubeconfig"
  echo "export CHARTUP_TEST_KUBECONFIG_NORIGHTS=$RUN/nobody.kubeconfig"
  # A cluster started by an older version of this script has no tenant.
  if [ -f "$RUN/tenant.kubeconfig" ]; then
    echo "export CHARTUP_TEST_KUBECONFIG_TENANT=$RUN/tenant.kubeconfig"
    echo "export CHARTUP_TEST_TENANT_NAMESPACE=$TENANT_NS"
  fi
}

lock_run() { # serialise up/down on one run dir; a cold build under another `up` can take long
  exec 9>"$RUN/.lock"
  if ! flock -n 9; then
    log "waiting for another up/down on $RUN"
    flock -w 5400 9 || die "gave up waiting for the lock $RUN/.lock"
  fi
}

start_apiserver() {
  start_proc apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" --insecure-port 0 \
    --cert-dir "$RUN/pki" --tls-cert-file "$RUN/pki/apiserver.crt" --tls-private-key-file "$RUN/pki/apiserver.key" \
    --client-ca-file "$RUN/pki/ca.crt" --token-auth-file "$RUN/tokens.csv" \
    --authorization-mode RBAC --anonymous-auth=false \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$RUN/pki/sa.pub" --service-account-signing-key-file "$RUN/pki/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 --disable-admission-plugins ServiceAccount \
    --endpoint-reconciler-type none --allow-privileged=true --enable-priority-and-fairness=false \
    --profiling=false --logtostderr=true --v=1 ${CHARTUP_APISERVER_ARGS:-}
}

start_nodesim() { # binary
  rm -f "$RUN/nodesim.ready"
  mkdir -p "$RUN/snapshots"
  start_proc nodesim env RUST_LOG="${RUST_LOG:-info,kube=warn}" "$1" --kubeconfig "$RUN/admin.kubeconfig" \
    --volumes-dir "$RUN/volumes" --snapshots-dir "$RUN/snapshots" \
    --images "${CHARTUP_NODESIM_IMAGES:-$root/crates/nodesim/images.txt}" --ready-file "$RUN/nodesim.ready"
}

# A cluster started before snapshot support gets the snapshot API, and its nodesim is restarted
# (once) with the current one: the pods it simulates keep running, their timers start over.
upgrade_snapshots() {
  install_snapshot_api
  if ! nodesim_current; then
    log "restarting nodesim: the running one predates VolumeSnapshot support or knob lifts"
    local nodesim pid nodes
    nodesim=$(nodesim_bin)
    # Keep its node count (NODESIM_NODES in the environment it was started with).
    pid=$(cat "$(pidfile nodesim)" 2>/dev/null || true)
    nodes=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^NODESIM_NODES=//p' | tail -n1)
    stop_proc nodesim
    if [ -n "$nodes" ]; then NODESIM_NODES=$nodes start_nodesim "$nodesim"; else start_nodesim "$nodesim"; fi
    wait_until 60 "nodesim to be ready" nodesim_current
    wait_until 60 "the simulated node to be Ready" node_ready
  fi
}

up() {
  mkdir -p "$RUN"
  RUN=$(cd "$RUN" && pwd)
  # Reuse a healthy cluster without taking the lock (a long `up` elsewhere must not block readers).
  if healthy 2>/dev/null && snapshots_ready; then
    log "reusing the running cluster in $RUN"
    print_env
    return 0
  fi
  lock_run
  if healthy 2>/dev/null; then
    snapshots_ready || upgrade_snapshots
    log "reusing the running cluster in $RUN"
    print_env
    return 0
  fi
  local start=$SECONDS p nodesim
  ensure_packages
  build
  nodesim=$(nodesim_bin)
  for p in "${PROCS[@]}"; do stop_proc "$p"; done
  load_state
  # Keep the ports of an earlier run (etcd remembers its peer URL) while they are free.
  for p in ETCD_PORT ETCD_PEER_PORT API_PORT; do
    if [ -z "${!p:-}" ] || ! port_free "${!p}"; then printf -v "$p" %s "$(pick_port)"; fi
  done
  [ -n "${ADMIN_TOKEN:-}" ] || ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  [ -n "${NOBODY_TOKEN:-}" ] || NOBODY_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  [ -n "${TENANT_TOKEN:-}" ] || TENANT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  cat >"$RUN/state.env" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
API_PORT=$API_PORT
ADMIN_TOKEN=$ADMIN_TOKEN
NOBODY_TOKEN=$NOBODY_TOKEN
TENANT_TOKEN=$TENANT_TOKEN
EOF
  chmod 600 "$RUN/state.env"
  printf '%s\n' "$ADMIN_TOKEN,admin,admin,\"system:masters\"" "$NOBODY_TOKEN,nobody,nobody" \
    "$TENANT_TOKEN,tenant,tenant" >"$RUN/tokens.csv"
  chmod 600 "$RUN/tokens.csv"
  gen_pki
  kubeconfig admin "$ADMIN_TOKEN" "$RUN/admin.kubeconfig"
  kubeconfig nobody "$NOBODY_TOKEN" "$RUN/nobody.kubeconfig"
  mkdir -p "$RUN/volumes" "$RUN/logs"
  for p in "${PROCS[@]}"; do : >"$RUN/logs/$p.log"; done

  start_proc etcd etcd --name chartup --data-dir "$RUN/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "chartup=http://127.0.0.1:$ETCD_PEER_PORT" \
    --quota-backend-bytes 2147483648
  wait_until 60 "etcd" curl -sf "http://127.0.0.1:$ETCD_PORT/health"

  start_apiserver
  wait_until 180 "kube-apiserver /healthz" healthz
  install_snapshot_api

  start_proc controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$RUN/admin.kubeconfig" --leader-elect=false --port 0 --secure-port 0 \
    --controllers '*,-nodelifecycle,-nodeipam' --allocate-node-cidrs=false \
    --service-account-private-key-file "$RUN/pki/sa.key" --root-ca-file "$RUN/pki/ca.crt" \
    --cluster-signing-cert-file "$RUN/pki/ca.crt" --cluster-signing-key-file "$RUN/pki/ca.key" \
    --use-service-account-credentials=false --pvclaimbinder-sync-period 5s \
    --profiling=false --logtostderr=true --v=1 ${CHARTUP_CONTROLLER_MANAGER_ARGS:-}

  start_nodesim "$nodesim"
  wait_until 60 "the simulated node to be Ready" node_ready
  wait_until 60 "the default StorageClass" std_class
  wait_until 120 "the default service account" default_sa
  setup_tenant
  healthy || die "cluster did not come up; logs in $RUN/logs"
  log "cluster up in $((SECONDS - start))s: $RUN (API https://127.0.0.1:$API_PORT)"
  print_env
}

down() {
  [ -d "$RUN" ] || { log "nothing to stop in $RUN"; return 0; }
  # Don't wait long: a cluster started by an older version of this script holds the lock itself.
  exec 9>"$RUN/.lock"
  flock -w 30 9 || log "warning: $RUN/.lock is held; stopping anyway"
  local p
  for p in "${PROCS[@]}"; do stop_proc "$p"; done
  log "stopped the cluster in $RUN"
  if $purge; then
    rm -rf "$RUN"
    log "removed $RUN"
  fi
}

# All in one function, called on the last line: bash then has read the whole file before running
# anything, so editing the script while a long `up` runs can't garble that run.
main() {
case "$cmd" in
  build) build ;;
  up) up ;;
  down) down ;;
  env)
    healthy || die "no healthy cluster in $RUN (start it with: $0 up)"
    print_env
    ;;
  status)
    if healthy; then log "running and healthy: $RUN (API https://127.0.0.1:$API_PORT)"; else exit 1; fi
    ;;
  apiserver)
    [ -d "$RUN" ] || die "no cluster in $RUN"
    RUN=$(cd "$RUN" && pwd)
    load_state
    [ -n "${API_PORT:-}" ] || die "no cluster in $RUN"
    case "$subcmd" in
      stop) stop_proc apiserver; log "stopped the API server of $RUN" ;;
      start)
        alive apiserver || start_apiserver
        wait_until 180 "kube-apiserver /healthz" healthz
        log "API server of $RUN is up"
        ;;
      *) die "usage: $0 apiserver stop|start [RUN_DIR]" ;;
    esac
    ;;
  *) echo "usage: $0 up|down [--purge]|env|status|build|apiserver stop|start [RUN_DIR]" >&2; exit 2 ;;
esac
}

main; exit $?
