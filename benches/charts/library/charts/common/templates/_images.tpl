{{- define "common.images.image" -}}
{{- $registryName := default .imageRoot.registry ((.global).imageRegistry) -}}
{{- $repositoryName := .imageRoot.repository -}}
{{- $separator := ":" -}}
{{- $termination := .imageRoot.tag | toString -}}
{{- if .imageRoot.digest }}
    {{- $separator = "@" -}}
    {{- $termination = .imageRoot.digest | toString -}}
{{- end -}}
{{- if $registryName }}
    {{- printf "%s/%s%s%s" $registryName $repositoryName $separator $termination -}}
{{- else -}}
    {{- printf "%s%s%s"  $repositoryName $separator $termination -}}
{{- end -}}
{{- end -}}
{{- define "common.images.pullPolicy" -}}
{{- default "IfNotPresent" .pullPolicy -}}
{{- end -}}
{{- define "common.affinities.podAntiAffinity" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - podAffinityTerm:
        labelSelector:
          matchLabels: {{- (include "common.labels.matchLabels" (dict "customLabels" .customLabels "context" .context)) | nindent 12 }}
            app.kubernetes.io/component: {{ .component }}
        topologyKey: kubernetes.io/hostname
      weight: 1
{{- end -}}
{{- define "common.resources.preset" -}}
{{- $presets := dict "small" (dict "requests" (dict "cpu" "500m" "memory" "512Mi") "limits" (dict "cpu" "750m" "memory" "768Mi")) "medium" (dict "requests" (dict "cpu" "1" "memory" "1024Mi") "limits" (dict "cpu" "1.5" "memory" "1536Mi")) -}}
{{- index $presets .type | toYaml -}}
{{- end -}}
