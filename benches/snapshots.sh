#!/usr/bin/env bash
# Benchmark of issue 15's snapshots on the e2e test cluster (docs/snapshots.md): what taking
# VolumeSnapshots before an upgrade, and restoring them on rollback, add to a 3-replica StatefulSet
# (charts/kvstore, one 4Gi claim per pod, on the redis image; nodesim copies the volume
# directories, so the data size matters: each volume gets DATA_MB MiB).
#
# Per round, on fresh namespaces: install 5.7.0 (redis:6.2); write the data; then
#   upgrade 5.7.0 → 6.0.0 (redis:7.0) with --no-snapshot        vs with snapshots (3 claims);
#   rollback to 1 (manifests only)                              vs rollback --restore-data.
# Prints each timing and the medians over ROUNDS rounds.
#
#   scripts/test-cluster.sh up && benches/snapshots.sh
#   ROUNDS=5 DATA_MB=64 benches/snapshots.sh
#
# Uses the debug build: the time is the cluster's (snapshot controller, copies, pods), not chartup's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=${ROUNDS:-3}
data_mb=${DATA_MB:-16}
kubectl=${KUBECTL:-$(command -v kubectl)}
eval "$(scripts/test-cluster.sh env)"
cargo build -q
bin=$root/target/debug/chartup
work=$(mktemp -d)
run_id=$$
cleanup() {
  "$kubectl" delete ns -l "chartup.io/bench-snap=$run_id" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cat > "$work/kvstore.yaml" <<'YAML'
matrix: 1
chart: kvstore
versions: [5.7.0, 6.0.0, 6.1.0]
upgrades:
  - from: ">=5.7.0 <6.0.0"
    to: ">=6.0.0"
    migratesData: true
YAML
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
v57="image.repository=redis,image.tag=6.2,replicas=3"
v60="image.repository=redis,image.tag=7.0,replicas=3"

# One release: install, data in each volume; echo the namespace.
setup() {
  local ns="bench-snap-$1-$RANDOM"
  "$kubectl" create ns "$ns" >/dev/null
  "$kubectl" label ns "$ns" "chartup.io/bench-snap=$run_id" >/dev/null
  "$bin" apply kv charts/kvstore/5.7.0 -n "$ns" --set "$v57" --yes >/dev/null
  for i in 0 1 2; do
    local pv dir
    pv=$("$kubectl" -n "$ns" get pvc "data-kv-kvstore-$i" -o jsonpath='{.spec.volumeName}')
    dir=$("$kubectl" get pv "$pv" -o jsonpath='{.spec.hostPath.path}')
    head -c "$((data_mb * 1024 * 1024))" /dev/urandom > "$dir/records"
  done
  echo "$ns"
}

timed() { local t0; t0=$(now); "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; return 1; }; secs "$t0" "$(now)"; }

echo "# chartup snapshots benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $rounds rounds, 3 claims x ${data_mb} MiB"
for r in $(seq "$rounds"); do
  a=$(setup plain)
  up_plain=$(timed "$bin" apply kv charts/kvstore/6.0.0 -n "$a" --matrix "$work/kvstore.yaml" --set "$v60" --yes --no-snapshot)
  rb_plain=$(timed "$bin" rollback kv 1 -n "$a")
  b=$(setup snap)
  up_snap=$(timed "$bin" apply kv charts/kvstore/6.0.0 -n "$b" --matrix "$work/kvstore.yaml" --set "$v60" --yes)
  grep -q "done: snapshot data-kv-kvstore-0" "$work/out" || { echo "no snapshots taken" >&2; exit 1; }
  rb_snap=$(timed "$bin" rollback kv 1 -n "$b" --restore-data)
  grep -q "done: restore data" "$work/out" || { echo "no restore" >&2; exit 1; }
  echo "round $r: upgrade ${up_plain}s → with snapshots ${up_snap}s; rollback ${rb_plain}s → with --restore-data ${rb_snap}s"
  echo "$up_plain $up_snap $rb_plain $rb_snap" >> "$work/all"
done
for col in 1 2 3 4; do awk -v c=$col '{ print $c }' "$work/all" | median > "$work/m$col"; done
echo "median: upgrade $(cat "$work/m1")s, with snapshots $(cat "$work/m2")s (+$(awk -v a="$(cat "$work/m1")" -v b="$(cat "$work/m2")" 'BEGIN{printf "%.2f", b-a}')s); rollback $(cat "$work/m3")s, with --restore-data $(cat "$work/m4")s (+$(awk -v a="$(cat "$work/m3")" -v b="$(cat "$work/m4")" 'BEGIN{printf "%.2f", b-a}')s)"
