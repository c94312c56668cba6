{{- define "quorum.fullname" -}}
{{ .Release.Name }}-quorum
{{- end -}}

{{/* 2.0.0 selects on the recommended labels: an immutable selector change for the StatefulSet. */}}
{{- define "quorum.selector" -}}
app.kubernetes.io/name: quorum
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "quorum.labels" -}}
{{ include "quorum.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
