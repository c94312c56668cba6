{{- define "actions.blockOver" -}}
block overridden by a define in another file
{{- end -}}
