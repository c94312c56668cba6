{{- define "libcommon.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.global }}{{ with .labels }}
{{ toYaml . }}
{{- end }}{{ end }}
{{- end -}}
{{- define "libcommon.image" -}}
{{- $registry := .global.imageRegistry | default "docker.io" -}}
{{ $registry }}/{{ .image.repository }}:{{ .image.tag | default "latest" }}
{{- end -}}
