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
#   ONLY=fleet benches/apply.sh       # just part 3 (ROUNDS=3 by default)
#
# 3. Parallel rollout (issue 16): the nine independent Deployments of tests/data/charts/fleet
#    (2 replicas each) upgraded tag 1 → 2, `chartup apply` vs `helm upgrade --wait`, alternating,
#    each on a fresh install. A pod watch (kubectl, each line stamped on arrival) gives the
#    critical path the cluster needs whatever the tool: first new pod created → last new pod
#    Ready. "before" is process start → first new pod; "retire" last new pod Ready → the last
#    old pod marked for deletion (the Deployment controller retiring the old ReplicaSets, which
#    both tools wait for, as `kubectl rollout status` does); "after" the later of the two →
#    process exit. A third row, "none", is the cluster alone: one `kubectl set image` of the nine
#    and nobody waiting (its wall time is the script's own polling of the watch): the critical
#    path and retirement the controllers need when no tool reads the API server meanwhile. Both
#    are paced by the controller-manager's client-side rate limit (--kube-api-qps 20, burst 30
#    per controller: benches/RESULTS.md, session 9). Each upgrade starts once the controllers are
#    done with the install (`quiet`), so no row inherits the install's backlog.
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
# CHARTUP=path measures that binary (e.g. a release build) instead of the debug build.
if [ -n "${CHARTUP:-}" ]; then
  bin=$CHARTUP
else
  cargo build -q
  bin=${CARGO_TARGET_DIR:-$root/target}/debug/chartup
fi
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
  [ -n "${ONLY:-}" ] && break
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

# Until the controllers are done with the install: no new event in the namespace for 2 s (the
# controller manager posts events last, through the same rate limiter as its writes, and a
# 2 s pause refills its burst). Without it, the upgrade after chartup's own install (which returns
# as soon as the pods are Ready) started while the controllers still worked off the install's
# throttled status updates and events, and its critical path was 0.4–1 s longer than after a helm
# install and a pause (benches/RESULTS.md, session 9).
quiet() {
  local n last="" same=0
  for _ in $(seq 60); do
    n=$("$kubectl" get events -n "$1" --no-headers 2>/dev/null | wc -l)
    if [ "$n" = "$last" ]; then same=$((same + 1)); [ "$same" -ge 4 ] && return 0; else same=0; fi
    last=$n
    sleep 0.5
  done
  echo "warning: events in $1 still coming after 30 s; the upgrade starts anyway" >&2
}

fleet_run() { # tool ns → prints "wall before critical retire after"
  local tool=$1 ns=$2 watch=$work/watch-$2 pid t0 t1
  : >"$watch"
  "$kubectl" get pods -n "$ns" -w --output-watch-events \
    -o jsonpath='{.type} {.object.metadata.name} {.object.metadata.uid} r={.object.status.conditions[?(@.type=="Ready")].status} d={.object.metadata.deletionTimestamp}{"\n"}' |
    while read -r l; do printf '%s %s\n' "$(date +%s.%N)" "$l"; done >"$watch" &
  pid=$!
  # The watch first lists the existing (old) pods: wait until all 18 are listed.
  for _ in $(seq 100); do [ "$(wc -l <"$watch")" -ge 18 ] && break; sleep 0.1; done
  awk '{print $4}' "$watch" | sort -u >"$watch.old"
  t0=$(now)
  if [ "$tool" = chartup ]; then
    "$bin" apply f "$fleet" -n "$ns" --set tag=2 --yes >/dev/null
  elif [ "$tool" = helm ]; then
    "$helm" upgrade f "$fleet" -n "$ns" --set tag=2 --wait --timeout 120s >/dev/null
  else
    # No tool waiting: one kubectl changes the nine images, then the watch says when it is done.
    "$kubectl" set image deployment -n "$ns" -l app.kubernetes.io/instance=f app=docker.io/chartup/fleet:2 >/dev/null
    local finished=0
    for _ in $(seq 1200); do
      if awk 'NR == FNR { old[$1] = 1; next } !($4 in old) { r[$4] = $5 } ($4 in old) && $6 != "d=" { gone[$4] = 1 }
        END { for (u in r) if (r[u] == "r=True") n++; for (u in gone) g++; exit !(n == 18 && g == 18) }' "$watch.old" "$watch"; then
        finished=1
        break
      fi
      sleep 0.05
    done
    [ "$finished" = 1 ] || echo "warning: the no-tool rollout in $ns was not done after 60 s: its row is not a measurement" >&2
  fi
  t1=$(now)
  sleep 1
  kill "$pid" 2>/dev/null || true
  awk -v t0="$t0" -v t1="$t1" 'NR == FNR { old[$1] = 1; next }
    !($4 in old) { if (!first) first = $1; if ($5 == "r=True") last = $1 }
    ($4 in old) && $6 != "d=" && !($4 in gone) { gone[$4] = 1; retired = $1 }
    END { end = retired > last ? retired : last
      printf "%.2f %.2f %.2f %.2f %.2f\n", t1 - t0, first - t0, last - first, end - last, t1 - end }' "$watch.old" "$watch"
}

# 3. Parallel rollout: nine independent components.
if [ -z "${ONLY:-}" ] || [ "${ONLY:-}" = fleet ]; then
  fleet=$root/tests/data/charts/fleet
  echo "fleet (9 Deployments × 2 pods, tag 1 → 2); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "tool     wall_s  before_s  critical_path_s  retire_s  after_s  overhead(wall/critical-1)  (wall/(critical+retire)-1)"
  for round in $(seq "${ROUNDS:-3}"); do
    for tool in chartup helm none; do
      ns=$(fresh_ns "f-$tool")
      if [ "$tool" = chartup ]; then
        "$bin" apply f "$fleet" -n "$ns" --yes >/dev/null
      else
        "$helm" install f "$fleet" -n "$ns" --wait --timeout 120s --server-side=false >/dev/null
      fi
      quiet "$ns"
      read -r wall before crit retire after < <(fleet_run "$tool" "$ns")
      printf '%-8s %6s  %8s  %15s  %8s  %7s  %s\n' "$tool" "$wall" "$before" "$crit" "$retire" "$after" \
        "$(awk -v w="$wall" -v c="$crit" -v r="$retire" 'BEGIN { printf "%+.0f %%  %+.0f %%", (w / c - 1) * 100, (w / (c + r) - 1) * 100 }')"
      echo "$tool $wall $crit $retire" >>"$work/fleet.times"
    done
  done
  awk '{ s[$1] += $2; c[$1] += $3 + $4; n[$1]++ } END { printf "fleet mean wall: chartup %.2f s, helm %.2f s, ratio helm/chartup %.2f×\n",
    s["chartup"] / n["chartup"], s["helm"] / n["helm"], (s["helm"] / n["helm"]) / (s["chartup"] / n["chartup"])
    printf "mean critical + retire: chartup %.2f s, helm %.2f s, no tool %.2f s; chartup wall / no tool'"'"'s critical + retire - 1 = %+.0f %%\n",
    c["chartup"] / n["chartup"], c["helm"] / n["helm"], c["none"] / n["none"], (s["chartup"] / n["chartup"]) / (c["none"] / n["none"]) * 100 - 100 }' "$work/fleet.times"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
[ "${ONLY:-}" = fleet ] && exit 0

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
