{{/* Labels on every object. The version labels change with every release; selectors and
     volumeClaimTemplates never carry them (a changed selector or claim template cannot be applied). */}}
{{- define "fate.labels" -}}
app.kubernetes.io/name: fate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
fate.party: {{ .Values.partyId | quote }}
{{- end }}

{{- define "fate.selector" -}}
app.kubernetes.io/name: fate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "fate.image" -}}
{{ .root.Values.image.registry }}/{{ .name }}:{{ .root.Values.image.tag | default (printf "%s-release" .root.Chart.AppVersion) }}
{{- end }}

{{/* Since 1.9.0 the components with data are StatefulSets. The data volume is an existing
     claim (mounted as a volume), a volumeClaimTemplate (claims data-<name>-<ordinal>), or an emptyDir. */}}
{{- define "fate.sts.volumes" -}}
{{- if .p.existingClaim }}
- name: data
  persistentVolumeClaim:
    claimName: {{ .p.existingClaim }}
{{- else if not .root.Values.persistence.enabled }}
- name: data
  emptyDir: {}
{{- end }}
{{- end }}

{{- define "fate.sts.claimTemplates" -}}
{{- if and .root.Values.persistence.enabled (not .p.existingClaim) }}
volumeClaimTemplates:
  - metadata:
      name: data
      labels:
        {{- include "fate.selector" .root | nindent 8 }}
        app.kubernetes.io/component: {{ .name }}
    spec:
      accessModes:
        - {{ .p.accessMode | default "ReadWriteOnce" }}
      {{- with (.p.storageClass | default .root.Values.persistence.storageClass) }}
      storageClassName: {{ . }}
      {{- end }}
      resources:
        requests:
          storage: {{ .p.size }}
{{- end }}
{{- end }}
