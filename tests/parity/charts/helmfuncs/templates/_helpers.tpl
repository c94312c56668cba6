{{- define "hf.echo" -}}
echo:{{ . }}
{{- end -}}
{{- define "hf.ctx" -}}
{{ .Release.Name }}/{{ .Values.image.repository }}
{{- end -}}
{{- define "hf.missing" -}}
{{ .nothing }}
{{- end -}}
