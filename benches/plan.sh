#!/usr/bin/env bash
# Benchmark of `chartup plan` against the usual way of previewing an upgrade: `helm template` of
# both sides plus a plain `diff -u` of the outputs, in one run.
#
#   benches/plan.sh            # RUNS=10 by default
#
# Two cases: the largest example upgrade (charts/fate 1.8.0 → 1.9.0 with StorageClass
# persistence and the matrix), and a generated release of 1,000 objects (250 × ConfigMap, Secret,
# Service, Deployment) whose chart version changes. chartup renders both sides itself (its own
# renderer), diffs, analyses volumes and checks the matrix; the baseline only renders and diffs.
# Prints the mean wall time and CPU time (user + sys) of each and the ratios (target: chartup ≥10×
# faster).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${RUNS:-10}
helm=${HELM:-$root/.tools/bin/helm}
[ -x "$helm" ] || helm=$(command -v helm)
cargo build --release -q
bin=$root/target/release/chartup
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The generated chart (the same template as tests/plan_support/mod.rs).
gen() {
  local v=$1 d=$work/gen-$1
  mkdir -p "$d/templates"
  printf 'apiVersion: v2\nname: gen\nversion: %s\nappVersion: "%s"\n' "$v" "$v" > "$d/Chart.yaml"
  printf 'groups: 250\nimage: nginx\n' > "$d/values.yaml"
  cat > "$d/templates/all.yaml" <<'TPL'
{{- range $i := until (int .Values.groups) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{{ $i }}
  labels:
    helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version }}
data:
  index: "{{ $i }}"
  version: {{ $.Chart.Version | quote }}
---
apiVersion: v1
kind: Secret
metadata:
  name: app-{{ $i }}
type: Opaque
data:
  token: {{ printf "token-%d-%s" $i $.Chart.Version | b64enc }}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{{ $i }}
spec:
  ports:
    - port: 80
  selector:
    app: app-{{ $i }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{{ $i }}
  labels:
    helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app-{{ $i }}
  template:
    metadata:
      labels:
        app: app-{{ $i }}
    spec:
      containers:
        - name: app
          image: {{ $.Values.image }}:{{ $.Chart.AppVersion }}
          volumeMounts:
            - name: cache
              mountPath: /cache
      volumes:
        - name: cache
          emptyDir: {}
{{- end }}
TPL
}
gen 1.0.0
gen 1.1.0

now() { date +%s%N; }
# CPU seconds (user + sys) of finished children so far, from bash's `times`.
# `times` runs in this shell (not a subshell, which has no children of its own).
cpu_ms() { awk 'END { split($1, u, /[ms]/); split($2, y, /[ms]/); printf "%d", (u[1] * 60 + u[2] + y[1] * 60 + y[2]) * 1000 }' "$work/times"; }
# "WALL CPU": mean milliseconds of wall time and of CPU time (user + sys, all threads) per run of
# "$@". The machine is shared: wall time includes waiting for a core, CPU time does not.
mean_ms() {
  local start end c0 c1
  start=$(now)
  times > "$work/times"
  c0=$(cpu_ms)
  for _ in $(seq "$runs"); do "$@" > /dev/null 2>&1 || true; done
  times > "$work/times"
  c1=$(cpu_ms)
  end=$(now)
  echo "$(( (end - start) / runs / 1000000 )) $(( (c1 - c0) / runs ))"
}

baseline() { # old new release ns [helm args…]
  local old=$1 new=$2 rel=$3 ns=$4; shift 4
  "$helm" template "$rel" "$old" -n "$ns" "$@" > "$work/a.yaml"
  "$helm" template "$rel" "$new" -n "$ns" "$@" > "$work/b.yaml"
  diff -u "$work/a.yaml" "$work/b.yaml" > "$work/d.diff" || true
}

report() { # name "chartup_wall chartup_cpu" "baseline_wall baseline_cpu"
  local cw cc bw bc
  read -r cw cc <<< "$2"
  read -r bw bc <<< "$3"
  awk -v n="$1" -v cw="$cw" -v cc="$cc" -v bw="$bw" -v bc="$bc" 'BEGIN {
    printf "%s\n  wall: chartup %5d ms   helm template ×2 + diff -u %5d ms   ratio %.1f×\n", n, cw, bw, (cw > 0) ? bw / cw : 0
    printf "  cpu:  chartup %5d ms   helm template ×2 + diff -u %5d ms   ratio %.1f×\n", cc, bc, (cc > 0) ? bc / cc : 0 }'
}

echo "runs per measurement: $runs ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
c=$(mean_ms "$bin" plan fate --from charts/fate/1.8.0 --to charts/fate/1.9.0 -n fate \
  -f charts/fate/values-storage-class.yaml --matrix matrices/fate.yaml --storage-class standard=Delete)
b=$(mean_ms baseline charts/fate/1.8.0 charts/fate/1.9.0 fate fate -f charts/fate/values-storage-class.yaml)
report "fate 1.8.0 → 1.9.0, storage class, matrix (18 → 17 objects)" "$c" "$b"
c=$(mean_ms "$bin" plan gen --from "$work/gen-1.0.0" --to "$work/gen-1.1.0" -n gen)
b=$(mean_ms baseline "$work/gen-1.0.0" "$work/gen-1.1.0" gen gen)
report "generated release (1,000 objects)" "$c" "$b"
