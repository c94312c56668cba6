{{- define "edge.fullname" -}}
{{ .Release.Name }}-edge
{{- end -}}

{{/* 2.0.0 selects on the recommended labels: an immutable selector change for both workloads. */}}
{{- define "edge.selector" -}}
app.kubernetes.io/name: edge
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "edge.labels" -}}
{{ include "edge.selector" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ .root.Chart.Name }}-{{ .root.Chart.Version }}
{{- end -}}
