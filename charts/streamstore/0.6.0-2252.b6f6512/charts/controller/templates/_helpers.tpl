{{- define "controller.fullname" -}}
{{ .Release.Name }}-controller
{{- end }}
{{- define "controller.selector" -}}
app.kubernetes.io/name: streamstore
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}
{{- define "controller.labels" -}}
{{ include "controller.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}
{{- define "controller.image" -}}
{{ .Values.global.image.registry }}/{{ .name }}:{{ .Values.global.image.tag | default .Chart.AppVersion }}
{{- end }}
