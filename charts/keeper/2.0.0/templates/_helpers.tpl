{{- define "keeper.fullname" -}}
{{- printf "%s-keeper" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "keeper.labels" -}}
app.kubernetes.io/name: keeper
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: keeper-{{ .Chart.Version }}
{{- end -}}

{{- /* 2.0.0 adds the component to the selector: an immutable field of the Deployment, which
must be recreated (the hazard of this major version). */ -}}
{{- define "keeper.selector" -}}
app.kubernetes.io/name: keeper
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: cache
{{- end -}}

{{/*
The password: the live Secret's when there is one (an upgrade), else a new random one (an
install). Looked up once per render; every template that needs it includes this.
*/}}
{{- define "keeper.password" -}}
{{- $live := lookup "v1" "Secret" .Release.Namespace (include "keeper.fullname" .) -}}
{{- if (.Values.auth).password -}}
{{- .Values.auth.password | b64enc -}}
{{- else if and $live $live.data $live.data.password -}}
{{- $live.data.password -}}
{{- else -}}
{{- randAlphaNum 24 | b64enc -}}
{{- end -}}
{{- end -}}
