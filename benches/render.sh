#!/usr/bin/env bash
# Render benchmark: chartup (the release-lto build, as distributed) against helm 4.1.4, end to
# end (process start included), on the largest parity fixture and on a generated chart of 250
# templates.
# Prints each tool's mean time and the helm/chartup ratio. Uses hyperfine when installed
# (apt-get install hyperfine), else a timing loop with `date +%s%N`.
#
#   benches/render.sh            # build, generate, measure
#   RUNS=20 benches/render.sh    # more runs per command (default 10)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${RUNS:-10}
helm=${CHARTUP_HELM:-$(command -v helm || true)}
[ -x "$helm" ] || { echo "helm not found (set CHARTUP_HELM or put helm on PATH)" >&2; exit 1; }

cargo build --profile release-lto --quiet
chartup="$root/target/release-lto/chartup"

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

# Sanity: both tools must agree on what they render before timing means anything.
for chart in tests/parity/charts/umbrella "$gen"; do
  if ! diff <("$helm" template "$chart" 2>/dev/null) <("$chartup" template "$chart" 2>/dev/null) >/dev/null; then
    echo "warning: outputs differ for $chart (timings still printed)" >&2
  fi
done

measure() { # prints mean seconds of "$@" over $runs runs
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  awk -v s="$start" -v e="$end" -v n="$runs" 'BEGIN { printf "%.4f", (e - s) / n / 1e9 }'
}

for chart in tests/parity/charts/umbrella "$gen"; do
  label=$(basename "$chart")
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/$label.json" \
      -n "helm $label" "$helm template $chart" \
      -n "chartup $label" "$chartup template $chart" >&2
    h=$(python3 -c "import json;print(json.load(open('$work/$label.json'))['results'][0]['mean'])")
    c=$(python3 -c "import json;print(json.load(open('$work/$label.json'))['results'][1]['mean'])")
  else
    h=$(measure "$helm" template "$chart")
    c=$(measure "$chartup" template "$chart")
  fi
  awk -v l="$label" -v h="$h" -v c="$c" \
    'BEGIN { printf "%-10s helm %.1f ms  chartup %.1f ms  ratio %.1fx\n", l, h * 1000, c * 1000, h / c }'
done
