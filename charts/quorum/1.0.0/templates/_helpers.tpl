{{- define "quorum.fullname" -}}
{{ .Release.Name }}-quorum
{{- end -}}

{{/* 1.x selects on the old label scheme, as many charts did before app.kubernetes.io. */}}
{{- define "quorum.selector" -}}
app: quorum
release: {{ .Release.Name }}
{{- end -}}

{{- define "quorum.labels" -}}
{{ include "quorum.selector" . }}
chart: {{ .Chart.Name }}-{{ .Chart.Version }}
heritage: {{ .Release.Service }}
{{- end -}}
