{{- define "docstore.selector" -}}
app.kubernetes.io/name: docstore
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: db
{{- end }}
{{- define "docstore.labels" -}}
{{ include "docstore.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}
