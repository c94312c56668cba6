{{- define "segmentstore.fullname" -}}
{{ .Release.Name }}-segmentstore
{{- end }}
{{- define "segmentstore.selector" -}}
app.kubernetes.io/name: streamstore
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: segmentstore
{{- end }}
{{- define "segmentstore.labels" -}}
{{ include "segmentstore.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}
{{- define "segmentstore.image" -}}
{{ .Values.global.image.registry }}/{{ .name }}:{{ .Values.global.image.tag | default .Chart.AppVersion }}
{{- end }}
