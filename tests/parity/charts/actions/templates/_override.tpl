{{- define "actions.overridden" -}}
second definition
{{- end -}}
