#!/usr/bin/env bash
# Benchmark of `chartup plan` against the usual way of previewing an upgrade: `helm template` of
# both sides plus a plain `diff -u` of the outputs, in one run.
#
#   benches/plan.sh            # RUNS=10 by default
#
# Two cases: the largest example upgrade (charts/fate 1.8.0 → 1.9.0 with StorageClass
# persistence and the matrix), and a generated release of 1,000 objects (250 × ConfigMap, Secret,
# Service, Deployment) whose chart version changes. chartup (the release-lto build, as
# distributed) renders both sides itself (its own renderer), diffs, analyses volumes and checks
# the matrix; the baseline only renders and diffs. (Since session 9 chartup's old side of a
# chart-to-chart plan holds placeholders instead of generated RSA keys, which are new on every
# render: the registry case mints 8 keys where helm mints 16. docs/plan-format.md.)
# Prints the median and mean wall time and the mean CPU time (user + sys) of each, and the
# ratios (target: chartup ≥10× faster).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${RUNS:-10}
helm=${CHARTUP_HELM:-$(command -v helm || true)}
[ -x "$helm" ] || { echo "helm not found (set CHARTUP_HELM or put helm on PATH)" >&2; exit 1; }
# CHARTUP=path measures that binary instead of building the release-lto one.
if [ -n "${CHARTUP:-}" ]; then
  bin=$CHARTUP
else
  cargo build --profile release-lto -q
  bin=${CARGO_TARGET_DIR:-$root/target}/release-lto/chartup
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The generated chart (the same template as tests/it/plan_support/mod.rs).
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

# Upgrade pairs shaped like real charts, from the benchmark charts of benches/charts: the "to"
# side is a copy with a new chart version and a changed image tag / app version.
bump() { # SRC DEST: copy SRC to DEST with version 1.1.0 and a new image tag
  cp -r "$1" "$2"
  sed -i 's/^version: 1.0.0/version: 1.1.0/' "$2/Chart.yaml"
  [ -f "$2/values.yaml" ] && sed -i 's/^  tag: 16.2.0/  tag: 16.3.0/' "$2/values.yaml"
}
bump benches/charts/library "$work/db-old" && sed -i 's/^version: 1.1.0/version: 1.0.0/' "$work/db-old/Chart.yaml"
bump benches/charts/library "$work/db-new"
bump benches/charts/tls "$work/reg-old" && sed -i 's/^version: 1.1.0/version: 1.0.0/' "$work/reg-old/Chart.yaml"
bump benches/charts/tls "$work/reg-new"
# A monitoring umbrella: the dashboards and tpl charts as subcharts, plus the library database.
umbrella() { # DIR VERSION
  mkdir -p "$1/charts"
  printf 'apiVersion: v2\nname: monitoring\nversion: %s\nappVersion: "%s"\n' "$2" "$2" > "$1/Chart.yaml"
  cp -r benches/charts/dashboards benches/charts/tpl "$1/charts/"
  sed -i "s/^appVersion: .*/appVersion: \"$2\"/" "$1/charts/dashboards/Chart.yaml" "$1/charts/tpl/Chart.yaml"
}
umbrella "$work/mon-old" 1.0.0
umbrella "$work/mon-new" 1.1.0

# The machine is shared and its speed drifts (other tenants; the kernel's cost of fresh memory
# pages varies with the host's memory state), so the two sides are measured interleaved —
# chartup, baseline, chartup, baseline… — and each run is timed on its own: wall time from
# bash's $EPOCHREALTIME, CPU time (user + sys of all threads and child processes) from the
# builtin `times` before and after. No process is forked for the measuring itself.
run_timed() { # FILE COMMAND…
  local f=$1
  shift
  times >> "$f"
  echo "W $EPOCHREALTIME" >> "$f"
  "$@" > /dev/null 2>&1 || true
  echo "W $EPOCHREALTIME" >> "$f"
  times >> "$f"
}
# "MEDIAN_WALL MEAN_WALL MEAN_CPU" in milliseconds from a run_timed file.
summary() {
  awk '
    function sec(t,  a) { split(t, a, /[ms]/); return a[1] * 60 + a[2] }
    /^W / { w[++nw] = $2; next }
    # `times` prints the shell line, then the children line: keep the children.
    { line++; if (line % 2 == 0) c[++nc] = sec($1) + sec($2) }
    END {
      n = 0
      for (i = 1; i < nw; i += 2) { d[++n] = (w[i + 1] - w[i]) * 1000; tw += d[n] }
      for (i = 1; i < nc; i += 2) tc += (c[i + 1] - c[i]) * 1000
      # insertion sort for the median
      for (i = 2; i <= n; i++) { v = d[i]; j = i - 1; while (j > 0 && d[j] > v) { d[j + 1] = d[j]; j-- } d[j + 1] = v }
      med = (n % 2) ? d[(n + 1) / 2] : (d[n / 2] + d[n / 2 + 1]) / 2
      printf "%.1f %.1f %.1f", med, tw / n, tc / n
    }' "$1"
}

baseline() { # old new release ns [helm args…]
  local old=$1 new=$2 rel=$3 ns=$4; shift 4
  "$helm" template "$rel" "$old" -n "$ns" "$@" > "$work/a.yaml"
  "$helm" template "$rel" "$new" -n "$ns" "$@" > "$work/b.yaml"
  diff -u "$work/a.yaml" "$work/b.yaml" > "$work/d.diff" || true
}

compare() { # NAME, then the chartup command, `--`, the baseline arguments
  local name=$1 cmd=() f_c f_b
  shift
  if [ -n "${ONLY:-}" ] && [[ "$name" != *"$ONLY"* ]]; then return; fi
  while [ "$1" != "--" ]; do
    cmd+=("$1")
    shift
  done
  shift
  f_c=$(mktemp -p "$work")
  f_b=$(mktemp -p "$work")
  # One unmeasured round of each first (file cache, page cache of both binaries).
  "${cmd[@]}" > /dev/null 2>&1 || true
  baseline "$@"
  for _ in $(seq "$runs"); do
    run_timed "$f_c" "${cmd[@]}"
    run_timed "$f_b" baseline "$@"
  done
  local cm cw cc bm bw bc
  read -r cm cw cc <<< "$(summary "$f_c")"
  read -r bm bw bc <<< "$(summary "$f_b")"
  # Peak resident memory of one run: chartup's plan, and the larger `helm template` of the two.
  local rc=? rb=?
  if [ -x /usr/bin/time ]; then
    rc=$(/usr/bin/time -f %M "${cmd[@]}" 2>&1 >/dev/null | tail -1)
    rb=$(/usr/bin/time -f %M "$helm" template "$3" "$2" -n "$4" "${@:5}" 2>&1 >/dev/null | tail -1)
  fi
  awk -v rc="$rc" -v rb="$rb" -v n="$name" -v cm="$cm" -v cw="$cw" -v cc="$cc" -v bm="$bm" -v bw="$bw" -v bc="$bc" 'BEGIN {
    printf "%s\n", n
    printf "  wall, median: chartup %6.1f ms   helm template ×2 + diff -u %6.1f ms   ratio %5.1f×\n", cm, bm, bm / cm
    printf "  wall, mean:   chartup %6.1f ms   helm template ×2 + diff -u %6.1f ms   ratio %5.1f×\n", cw, bw, bw / cw
    printf "  cpu, mean:    chartup %6.1f ms   helm template ×2 + diff -u %6.1f ms   ratio %5.1f×\n", cc, bc, bc / cc
    printf "  peak RSS:     chartup plan %6.1f MiB   helm template (new side) %6.1f MiB\n", rc / 1024, rb / 1024 }'
}

echo "runs per measurement: $runs, interleaved ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
compare "fate 1.8.0 → 1.9.0, storage class, matrix (18 → 17 objects)" \
  "$bin" plan fate --from charts/fate/1.8.0 --to charts/fate/1.9.0 -n fate \
  -f charts/fate/values-storage-class.yaml --matrix matrices/fate.yaml --storage-class standard=Delete \
  -- charts/fate/1.8.0 charts/fate/1.9.0 fate fate -f charts/fate/values-storage-class.yaml
compare "generated release (1,000 objects)" \
  "$bin" plan gen --from "$work/gen-1.0.0" --to "$work/gen-1.1.0" -n gen \
  -- "$work/gen-1.0.0" "$work/gen-1.1.0" gen gen
compare "library-chart database (20 shards, 60 objects; ~800 include)" \
  "$bin" plan db --from "$work/db-old" --to "$work/db-new" -n data \
  -- "$work/db-old" "$work/db-new" db data
compare "monitoring umbrella (150 dashboard ConfigMaps + 22 tpl-rendered components)" \
  "$bin" plan mon --from "$work/mon-old" --to "$work/mon-new" -n mon \
  -- "$work/mon-old" "$work/mon-new" mon mon
compare "certificate-generating registry (10 certificates per side)" \
  "$bin" plan reg --from "$work/reg-old" --to "$work/reg-new" -n reg \
  -- "$work/reg-old" "$work/reg-new" reg reg
