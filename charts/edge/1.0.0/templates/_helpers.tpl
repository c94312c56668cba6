{{- define "edge.fullname" -}}
{{ .Release.Name }}-edge
{{- end -}}

{{/* 1.x selects on the old label scheme. */}}
{{- define "edge.selector" -}}
app: {{ .component }}
release: {{ .root.Release.Name }}
{{- end -}}

{{- define "edge.labels" -}}
{{ include "edge.selector" . }}
chart: {{ .root.Chart.Name }}-{{ .root.Chart.Version }}
heritage: {{ .root.Release.Service }}
{{- end -}}
