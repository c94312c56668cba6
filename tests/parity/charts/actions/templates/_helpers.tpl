{{/* A partial with several defines. */}}
{{- define "actions.name" -}}
{{ .Chart.Name }}-{{ .Values.name }}
{{- end -}}

{{- define "actions.labels" }}
app: {{ include "actions.name" . }}
chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "actions.overridden" -}}
first definition
{{- end -}}

{{- define "actions.recurse" -}}
{{- if gt (int .) 0 -}}{{ . }},{{ include "actions.recurse" (sub (int .) 1) }}{{- end -}}
{{- end -}}
