{{- define "files.x" -}}x{{- end -}}
