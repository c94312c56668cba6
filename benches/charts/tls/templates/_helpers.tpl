{{- define "tls.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{/* A random value, masked for the parity suite when .Values.mask is set. */}}
{{- define "tls.rand" -}}
{{- if .root.Values.mask -}}RANDOM<{{ .v }}>{{- else -}}{{ .v }}{{- end -}}
{{- end -}}
{{/* The shape of a PEM text: its block types and its number of lines, compared exactly. */}}
{{- define "tls.shape" -}}
{{- $lines := splitList "\n" . -}}
{{- $heads := list -}}
{{- range $lines }}{{ if hasPrefix "-----" . }}{{ $heads = append $heads . }}{{ end }}{{ end -}}
{{ join "|" $heads }}
{{- end -}}
