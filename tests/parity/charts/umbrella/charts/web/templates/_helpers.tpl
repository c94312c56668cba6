{{- define "web.name" -}}
web-{{ .Chart.Name }}
{{- end -}}
{{- define "web.fullname" -}}
{{ .Release.Name }}-{{ .Chart.Name }}
{{- end -}}
