#!/usr/bin/env bash
# Benchmark of `chartup apply` on the e2e test cluster (docs/test-cluster.md), in one run:
#
# 1. Time to report a failed upgrade caused by a missing image, chartup vs
#    `helm upgrade --wait --timeout 300s` (the full 300 s: no cap). Two variants of the stream
#    store 0.6.0 chart: the missing image in the segment store (a StatefulSet with OnDelete, the
#    second component) and in the controller (a Deployment, the third component).
# 2. Apply time of the stream-store upgrade 0.5.1 → 0.6.0 vs the sum of its pods' replacement
#    times (delete → new pod Ready, from chartup's own events; the controller Deployment's
#    rollout counted as one), i.e. how much chartup adds on top of the waiting it cannot avoid.
#
#   scripts/test-cluster.sh up && benches/apply.sh
#   ONLY=upgrade benches/apply.sh     # just part 2 (part 1 waits out helm's 300 s)
#
# Prints one line per measurement. Uses the debug build (the time is spent waiting on the
# cluster, not computing); helm 4 (CHARTUP_HELM, else helm on PATH) with
# --server-side=false for the install, because Kubernetes 1.20 refuses helm 4's server-side apply
# of Services without port protocols.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
helm=${CHARTUP_HELM:-$(command -v helm || true)}
[ -x "$helm" ] || { echo "helm not found (set CHARTUP_HELM or put helm on PATH)" >&2; exit 1; }
kubectl=${KUBECTL:-$(dirname "$helm")/kubectl}
[ -x "$kubectl" ] || kubectl=$(command -v kubectl)
eval "$(scripts/test-cluster.sh env)"
export CHARTUP_HELM=$helm
cargo build -q
bin=$root/target/debug/chartup
work=$(mktemp -d)
run_id=$$
# fresh_ns runs in $(…) subshells, so namespaces are found again by label, not kept in a variable.
cleanup() {
  "$kubectl" delete ns -l "chartup.io/bench-apply=$run_id" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
reg=global.image.registry=docker.io/chartup
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# A copy of streamstore 0.6.0 with one component's image in a registry that does not exist.
broken() {
  local comp=$1 d=$work/bad-$1
  cp -r charts/streamstore/0.6.0 "$d"
  sed -i 's|{{ .Values.global.image.registry }}|nosuch.invalid/chartup|' "$d/charts/$comp/templates/_helpers.tpl"
  echo "$d"
}

fresh_ns() {
  local ns="bench-apply-$1-$RANDOM"
  "$kubectl" create ns "$ns" >/dev/null
  "$kubectl" label ns "$ns" "chartup.io/bench-apply=$run_id" >/dev/null
  "$kubectl" apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: streamstore-tier2}
spec: {accessModes: [ReadWriteMany], resources: {requests: {storage: 1Gi}}}
EOF
  echo "$ns"
}

echo "# chartup apply benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $("$helm" version --short)"

# 1. Missing image: chartup and helm, each on its own fresh install of 0.5.1.
for comp in segmentstore controller; do
  [ "${ONLY:-}" = upgrade ] && break
  bad=$(broken "$comp")
  ns=$(fresh_ns "c-$comp")
  "$bin" apply ss charts/streamstore/0.5.1 -n "$ns" --set "$reg" --yes >/dev/null
  t0=$(now)
  if "$bin" apply ss "$bad" -n "$ns" --set "$reg" --matrix matrices/streamstore.yaml --yes >"$work/c.out" 2>"$work/c.err"; then
    echo "missing image in $comp: chartup did NOT fail"
  else
    echo "missing image in $comp: chartup reported the failure after $(secs "$t0" "$(now)") s: $(grep -o 'UpgradeFailed: pod [^ ]* (container [^)]*) is [A-Za-z]*' "$work/c.err" | head -1)"
  fi
  ns=$(fresh_ns "h-$comp")
  "$helm" install ss charts/streamstore/0.5.1 -n "$ns" --set "$reg" --wait --timeout 120s --server-side=false >/dev/null
  t0=$(now)
  if "$helm" upgrade ss "$bad" -n "$ns" --set "$reg" --wait --timeout 300s >"$work/h.out" 2>"$work/h.err"; then
    rolled=$("$kubectl" get pods -n "$ns" -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | grep -c nosuch || true)
    echo "missing image in $comp: helm upgrade --wait --timeout 300s reported SUCCESS after $(secs "$t0" "$(now)") s ($rolled pod(s) on the missing image)"
  else
    echo "missing image in $comp: helm upgrade --wait --timeout 300s reported the failure after $(secs "$t0" "$(now)") s: $(head -c 160 "$work/h.err" | tr '\n' ' ')"
  fi
done

# 2. The stream-store upgrade: wall time vs the sum of pod replacement times.
ns=$(fresh_ns up)
"$bin" apply ss charts/streamstore/0.5.1 -n "$ns" --set "$reg" --yes >/dev/null
t0=$(now)
"$bin" apply ss charts/streamstore/0.6.0 -n "$ns" --set "$reg" --matrix matrices/streamstore.yaml --yes -o json >"$work/up.json"
wall=$(secs "$t0" "$(now)")
# Pod replacements of the OnDelete StatefulSets, plus the controller Deployment's rollout (its
# component step's duration, which is only waiting for the Deployment controller and the pod).
pods_ms=$(grep '"event":"podReplaced"' "$work/up.json" | sed 's/.*"elapsedMs":\([0-9]*\).*/\1/' | paste -sd+ | bc)
ctl_ms=$(grep '"event":"done","step":"component controller"' "$work/up.json" | sed 's/.*"elapsedMs":\([0-9]*\).*/\1/')
n=$(grep -c '"event":"podReplaced"' "$work/up.json")
echo "stream-store upgrade 0.5.1 → 0.6.0: apply took $wall s (process start to exit, planning against the cluster and rendering included); pods' replacement times sum to $(awk -v a="$pods_ms" -v b="$ctl_ms" 'BEGIN { printf "%.1f", (a + b) / 1000 }') s ($n StatefulSet pods + the controller Deployment rollout)"
