#!/usr/bin/env bash
# Render benchmark: chartup (the release-lto build, as distributed) against helm 4.1.4, end to
# end (process start included), on the largest parity fixture, a generated chart of 250
# templates and the benchmark charts of benches/charts (TLS generation, dashboards, a library
# chart through ~800 includes, ~300 tpl calls). Both tools run interleaved; prints median and
# mean wall time, mean CPU time, the ratios, and each tool's peak RSS.
#
#   benches/render.sh                 # build, generate, measure
#   RUNS=20 benches/render.sh         # more runs per command (default 10)
#   ONLY=tls benches/render.sh        # only the cases whose name contains "tls"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${RUNS:-10}
helm=${CHARTUP_HELM:-$(command -v helm || true)}
[ -x "$helm" ] || { echo "helm not found (set CHARTUP_HELM or put helm on PATH)" >&2; exit 1; }

# CHARTUP=path measures that binary instead of building the release-lto one.
if [ -n "${CHARTUP:-}" ]; then
  chartup=$CHARTUP
else
  cargo build --profile release-lto --quiet
  chartup="${CARGO_TARGET_DIR:-$root/target}/release-lto/chartup"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A generated chart: 250 templates (deployments, services, configmaps) sharing helpers, with
# include/toYaml/range/printf work in each, and a values file that drives them.
gen="$work/generated"
mkdir -p "$gen/templates"
cat > "$gen/Chart.yaml" <<'YAML'
apiVersion: v2
name: generated
version: 1.0.0
appVersion: "1.0"
YAML
{
  echo "components:"
  for i in $(seq 1 84); do
    printf '  c%03d:\n    replicas: %d\n    image: registry.local/c%03d:1.%d\n    port: %d\n    env:\n      A: "1"\n      B: two\n    labels:\n      tier: t%d\n' "$i" $((i % 5 + 1)) "$i" "$i" $((8000 + i)) $((i % 3))
  done
} > "$gen/values.yaml"
cat > "$gen/templates/_helpers.tpl" <<'YAML'
{{- define "gen.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | trunc 63 | trimSuffix "-" }}
{{- with .labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
YAML
for i in $(seq 1 83); do
  n=$(printf 'c%03d' "$i")
  cat > "$gen/templates/$n-deployment.yaml" <<YAML
{{- \$c := index .Values.components "$n" }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-$n
  labels:
    {{- include "gen.labels" (dict "name" "$n" "root" . "labels" \$c.labels) | nindent 4 }}
spec:
  replicas: {{ \$c.replicas }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include (print \$.Template.BasePath "/$n-configmap.yaml") . | sha256sum }}
    spec:
      containers:
        - name: main
          image: {{ \$c.image | quote }}
          ports:
            - containerPort: {{ \$c.port }}
          env:
            {{- range \$k, \$v := \$c.env }}
            - name: {{ \$k }}
              value: {{ \$v | quote }}
            {{- end }}
YAML
  cat > "$gen/templates/$n-service.yaml" <<YAML
{{- \$c := index .Values.components "$n" }}
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-$n
  labels:
    {{- include "gen.labels" (dict "name" "$n" "root" . "labels" \$c.labels) | nindent 4 }}
spec:
  ports:
    - port: {{ \$c.port }}
      targetPort: {{ \$c.port }}
YAML
  cat > "$gen/templates/$n-configmap.yaml" <<YAML
{{- \$c := index .Values.components "$n" }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-$n
data:
  config.yaml: |
    {{- toYaml \$c | nindent 4 }}
  upper: {{ upper "$n" | quote }}
YAML
done
count=$(find "$gen/templates" -type f | wc -l)
echo "generated chart: $count templates"

# Sanity: both tools must agree on what they render before timing means anything (the TLS
# chart's random keys and certificates are masked by the chart itself with --set mask=true).
check() {
  local a b
  a=$("$helm" template "$@" 2>/dev/null | sed 's/RANDOM<[^>]*>/RANDOM<masked>/g')
  b=$("$chartup" template "$@" 2>/dev/null | sed 's/RANDOM<[^>]*>/RANDOM<masked>/g')
  [ "$a" = "$b" ] || echo "warning: outputs differ for: $*" >&2
}
check tests/parity/charts/umbrella
check "$gen"
check benches/charts/tls --set mask=true
check benches/charts/dashboards
check db benches/charts/library -n data
check mon benches/charts/tpl

# Each case: NAME, then the arguments both tools take after `template`.
cases=(
  "umbrella fixture|tests/parity/charts/umbrella"
  "generated, 250 templates|$gen"
  "tls: 10 certificates (8 RSA-2048, ECDSA, Ed25519)|benches/charts/tls"
  "dashboards: 150 ConfigMaps × 50 KB JSON|benches/charts/dashboards"
  "library chart, ~800 include|db benches/charts/library -n data"
  "tpl, ~300 calls|mon benches/charts/tpl"
)
[ -n "${ONLY:-}" ] && { mapfile -t cases < <(printf '%s\n' "${cases[@]}" | grep -i -- "$ONLY"); }

# The machine is shared and its speed drifts, so the two tools run interleaved — chartup, helm,
# chartup, helm… — and each run is timed on its own: wall time from bash's $EPOCHREALTIME, CPU
# time (user + sys of all threads) from the builtin `times` before and after.
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
    { line++; if (line % 2 == 0) c[++nc] = sec($1) + sec($2) }
    END {
      n = 0
      for (i = 1; i < nw; i += 2) { d[++n] = (w[i + 1] - w[i]) * 1000; tw += d[n] }
      for (i = 1; i < nc; i += 2) tc += (c[i + 1] - c[i]) * 1000
      for (i = 2; i <= n; i++) { v = d[i]; j = i - 1; while (j > 0 && d[j] > v) { d[j + 1] = d[j]; j-- } d[j + 1] = v }
      med = (n % 2) ? d[(n + 1) / 2] : (d[n / 2] + d[n / 2 + 1]) / 2
      printf "%.1f %.1f %.1f", med, tw / n, tc / n
    }' "$1"
}
# Peak resident memory (KiB) of one run, from GNU time when installed.
max_rss() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
  else
    echo "?"
  fi
}

echo "runs per measurement: $runs, interleaved ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
for c in "${cases[@]}"; do
  label=${c%%|*}
  read -r -a args <<< "${c#*|}"
  f_c=$(mktemp -p "$work")
  f_h=$(mktemp -p "$work")
  "$chartup" template "${args[@]}" >/dev/null 2>&1 || true
  "$helm" template "${args[@]}" >/dev/null 2>&1 || true
  for _ in $(seq "$runs"); do
    run_timed "$f_c" "$chartup" template "${args[@]}"
    run_timed "$f_h" "$helm" template "${args[@]}"
  done
  read -r cm cw cc <<< "$(summary "$f_c")"
  read -r hm hw hc <<< "$(summary "$f_h")"
  rc=$(max_rss "$chartup" template "${args[@]}")
  rh=$(max_rss "$helm" template "${args[@]}")
  awk -v n="$label" -v cm="$cm" -v cw="$cw" -v cc="$cc" -v hm="$hm" -v hw="$hw" -v hc="$hc" -v rc="$rc" -v rh="$rh" 'BEGIN {
    printf "%s\n", n
    printf "  wall, median: chartup %7.1f ms   helm %7.1f ms   ratio %5.1f×\n", cm, hm, hm / cm
    printf "  wall, mean:   chartup %7.1f ms   helm %7.1f ms   ratio %5.1f×\n", cw, hw, hw / cw
    printf "  cpu, mean:    chartup %7.1f ms   helm %7.1f ms   ratio %5.1f×\n", cc, hc, hc / cc
    printf "  peak RSS:     chartup %7.1f MiB  helm %7.1f MiB\n", rc / 1024, rh / 1024 }'
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
