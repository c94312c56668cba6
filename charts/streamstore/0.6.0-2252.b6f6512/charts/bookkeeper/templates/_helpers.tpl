{{- define "bookkeeper.fullname" -}}
{{ .Release.Name }}-bookkeeper
{{- end }}
{{- define "bookkeeper.selector" -}}
app.kubernetes.io/name: streamstore
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: bookkeeper
{{- end }}
{{- define "bookkeeper.labels" -}}
{{ include "bookkeeper.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}
{{- define "bookkeeper.image" -}}
{{ .Values.global.image.registry }}/{{ .name }}:{{ .Values.global.image.tag | default .Chart.AppVersion }}
{{- end }}
