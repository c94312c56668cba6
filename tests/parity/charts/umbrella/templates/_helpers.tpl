{{- define "umbrella.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "web.name" -}}
parent-overrides-web-{{ .Chart.Name }}
{{- end -}}
